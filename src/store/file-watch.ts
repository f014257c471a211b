// Watching a file that writers replace atomically (rename over it): inotify on
// its directory (fs.watch; a rename is an event on the directory, not on the
// old file), and a periodic stat as the fallback for events that never come
// (a directory replaced, a file system without inotify). Each change is
// confirmed by hashing the bytes, so only a new version is reported.
import { watch as fsWatch, type FSWatcher, type Stats } from 'node:fs';
import { readFile, stat } from '../util/fs-async.js';
import { basename, dirname } from 'node:path';
import { Latest } from './latest.js';

export interface FileWatchOptions {
  /** Report every version other than this one; default: the version at the start, not reported. */
  since?: string;
  /** The fallback's period (default 1000 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}

/**
 * The version of a file's content: "" when there is no file. `key` (statKey)
 * is given when the file's stat was the same before and after its bytes were
 * read: those bytes are then the content of the file with that key.
 */
export type VersionOf = (bytes: Buffer | undefined, key?: string) => string;

/** A file's identity and change times: another key, another file or content (atomic writers rename a new inode over it). */
export const statKey = (st: Stats): string => `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;

/** Watches `path`; the iterator yields each new version. `onEnd` runs once when it ends. */
export function watchFile(path: string, versionOf: VersionOf, opts: FileWatchOptions, onEnd: () => void): Latest<string> {
  let last = opts.since;
  let lastStat = '';
  let running: Promise<void> | undefined;
  let again = false;
  let watcher: FSWatcher | undefined;
  const out = new Latest<string>(() => {
    clearInterval(timer);
    watcher?.close();
    opts.signal?.removeEventListener('abort', stop);
    onEnd();
  });
  const stop = () => out.end();

  const check = async (trustStat: boolean): Promise<void> => {
    const st = await stat(path).catch(() => undefined);
    const key = st ? statKey(st) : 'absent';
    if (trustStat && key === lastStat && last !== undefined) return;
    lastStat = key;
    const bytes = st ? await readFile(path).catch(() => undefined) : undefined;
    const after = bytes ? await stat(path).catch(() => undefined) : undefined;
    const v = versionOf(bytes, after && statKey(after) === key ? key : undefined);
    if (last === undefined)
      last = v; // the baseline: not reported
    else if (v !== last) {
      last = v;
      out.push(v);
    }
  };
  // One check at a time; an event during a check asks for one more after it.
  const schedule = (trustStat: boolean): void => {
    if (running) {
      again = true;
      return;
    }
    running = check(trustStat)
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          schedule(false);
        }
      });
  };

  const name = basename(path);
  try {
    watcher = fsWatch(dirname(path), (_event, file) => {
      if (file === null || file === name) schedule(false);
    });
    watcher.on('error', () => watcher?.close()); // the poll carries on
  } catch {
    watcher = undefined; // no inotify here: the poll does it all
  }
  const timer = setInterval(() => schedule(true), opts.pollMs ?? 1000);
  if (opts.signal?.aborted) out.end();
  else opts.signal?.addEventListener('abort', stop);
  schedule(false);
  return out;
}
