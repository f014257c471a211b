// The file store: the state as one JSON file on one machine (what `apply
// --state FILE` reads). Writes replace the file atomically (temp file, fsync,
// rename); a compare-and-swap holds the lock file FILE.lock (lock.ts) from
// reading the current version to the rename, so concurrent writers in any
// number of processes never lose an update; exclusive() holds it around a
// whole read-operation-write (update()), so they queue instead of conflicting.
// The version is a hash of the file's bytes.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { readFile, stat } from '../util/fs-async.js';
import { ValidationError } from '../errors.js';
import { IncrementalCheck } from '../managed/check-incremental.js';
import { indexLater } from './check-later.js';
import { formatState } from '../managed/statefile.js';
import type { State } from '../managed/types.js';
import { validateState } from '../managed/validate.js';
import { writeFileAtomic } from '../util/file.js';
import { ConflictError } from './errors.js';
import { statKey, watchFile } from './file-watch.js';
import type { Latest } from './latest.js';
import { Interner } from './intern.js';
import { ReusingParser } from './file-parse.js';
import { withLock } from './lock.js';
import type { ReadOptions, Snapshot, Store, WatchOptions, WriteOptions } from './types.js';
import { phase } from '../util/phases.js';
import { warmUpVariants } from './file-warm.js';

export interface FileStoreOptions {
  /** How long a write waits while one live process keeps the lock (default 10 s). */
  lockTimeoutMs?: number;
  /** The watch's fallback poll period (default 1000 ms). */
  pollMs?: number;
}

/** The file store's version of some bytes: the first 16 hex digits of their SHA-256; "" for no file. */
export function contentVersion(bytes: Buffer | string | undefined): string {
  return bytes === undefined ? '' : createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/**
 * Replaces the file with `text` under its lock, if its version is still
 * `ifVersion` (else ConflictError); returns the new version. For writers of a
 * state file other than the store (`eucanet allocate`), so that they too never
 * overwrite an operation's update.
 */
export async function writeTextIf(
  path: string,
  text: string,
  ifVersion: string | undefined,
  opts: Pick<FileStoreOptions, 'lockTimeoutMs'> = {},
): Promise<string> {
  const write = async (): Promise<string> => {
    const current = contentVersion(await readBytes(path));
    if (ifVersion !== undefined && ifVersion !== current) throw new ConflictError(path, ifVersion, current);
    const version = contentVersion(text);
    if (version !== current) await writeFileAtomic(path, text);
    return version;
  };
  // Inside exclusive() on this file the lock is ours already.
  if (holding.getStore() === path) return write();
  return withLock(`${path}.lock`, write, lockOptions(opts));
}

/** The file whose lock the current async context holds (FileStore.exclusive). */
const holding = new AsyncLocalStorage<string>();

const lockOptions = (o: Pick<FileStoreOptions, 'lockTimeoutMs'>) => (o.lockTimeoutMs !== undefined ? { timeoutMs: o.lockTimeoutMs } : {});

async function readBytes(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

export class FileStore implements Store {
  readonly name: string;
  readonly lockPath: string;
  private readonly watches = new Set<Latest<string>>();
  private readonly interner = new Interner();
  /** Parses a version reusing the last one's objects for the elements whose bytes did not change (file-parse.ts). */
  readonly parser = new ReusingParser();
  private readonly check = new IncrementalCheck();
  /** The bytes a watch last read whole, with the file's stat key and their version (see read()). */
  private seen?: { key: string; bytes: Buffer; version: string };

  constructor(
    readonly path: string,
    private readonly opts: FileStoreOptions = {},
  ) {
    this.name = path;
    this.lockPath = `${path}.lock`;
  }

  /**
   * The state and its version. Right after a watch reported a version, the
   * file is not read and hashed again: when its stat (inode, size, times) is
   * the one the watch read it with, the watch's bytes are used. A fresh read
   * (an agent's resync, SIGHUP) always reads the file.
   */
  async read(opts: ReadOptions = {}): Promise<Snapshot> {
    const seen = this.seen;
    const same =
      seen && !opts.fresh
        ? await stat(this.path).then(
            (st) => statKey(st) === seen.key,
            () => false,
          )
        : false;
    const bytes = same && seen ? seen.bytes : await readBytes(this.path);
    if (bytes === undefined) throw Object.assign(new Error(`${this.path}: no such file`), { code: 'ENOENT', path: this.path });
    const version = same && seen ? seen.version : contentVersion(bytes);
    phase('store: file');
    const doc = this.parser.parse(bytes, this.path);
    phase('store: parse');
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError(this.path, doc, 'expected a JSON object');
    // Unchanged objects keep their identity from the last read: only what changed is checked again.
    const state = this.interner.intern(doc);
    phase('store: intern');
    const valid = this.check.check(state) ? state : validateState(state);
    indexLater(this.check);
    phase('store: check');
    return { state: valid, version };
  }

  /**
   * The parse of a changed version run on the last version read, in memory:
   * a copy with one more byte in front (every element moved: the path of the
   * elements after a change), then the version itself again (the parser is
   * left as it was). The agent calls it after its start, so that the first
   * operation does not pay for compiling that path.
   */
  warmUp(): void {
    const bytes = this.parser.lastBytes;
    if (!bytes) return;
    this.parser.parse(Buffer.concat([Buffer.from(' '), bytes]), this.path);
    this.parser.parse(bytes, this.path);
    // Then a version with a changed group and instance (file-warm.ts), read
    // as read() reads (parsed, interned, checked), and the last version
    // again: the interner and the check are left holding that version.
    for (const variant of warmUpVariants(bytes))
      for (const b of [variant, bytes]) {
        const doc = this.parser.parse(b, this.path);
        this.check.check(this.interner.intern(doc));
      }
  }

  async write(next: State, opts: WriteOptions = {}): Promise<string> {
    validateState(structuredClone(next));
    return writeTextIf(this.path, formatState(next), opts.ifVersion, this.opts);
  }

  /** Runs `fn` holding the lock file; writes from within it (and only those) use the lock held. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (holding.getStore() === this.path) return fn();
    return withLock(this.lockPath, () => holding.run(this.path, fn), lockOptions(this.opts));
  }

  watch(opts: WatchOptions = {}): AsyncIterableIterator<string> {
    const versionOf = (bytes: Buffer | undefined, key?: string): string => {
      const version = contentVersion(bytes);
      if (bytes && key !== undefined) this.seen = { key, bytes, version };
      return version;
    };
    const w = watchFile(this.path, versionOf, { ...opts, ...(this.opts.pollMs !== undefined ? { pollMs: this.opts.pollMs } : {}) }, () =>
      this.watches.delete(w),
    );
    this.watches.add(w);
    return w;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.end();
  }
}
