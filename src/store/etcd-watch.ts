// The etcd store's watch: one etcd watch on the state prefix, from the
// revision after the version given (or the current one), yielding the state's
// new versions (the revision of each change). After a disconnect (etcd
// restarted, network cut) the etcd3 client reconnects by itself and resumes
// from the last revision it saw, so nothing is missed and nothing is read
// again. When that revision was compacted meanwhile, etcd cancels the watch:
// then the current version is yielded (the consumer reads the whole state
// again: a full re-read) and a new watch starts from the current revision.
import type { IWatchResponse, Watcher } from 'etcd3';
import type { EtcdStore } from './etcd.js';
import { newestModRevision } from './etcd-client.js';
import { Latest } from './latest.js';
import type { WatchOptions } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The newest mod revision in one watch response (0 if it has no events). */
function newestIn(res: IWatchResponse): number {
  let rev = 0;
  for (const e of res.events) rev = Math.max(rev, Number(e.kv.mod_revision));
  return rev;
}

export function watchPrefix(store: EtcdStore, opts: WatchOptions, onClose: () => void): Latest<string> {
  let watcher: Watcher | undefined;
  let ended = false;
  /** The version last yielded (or the one to start from). */
  let last = 0;
  const latest = new Latest<string>(() => {
    ended = true;
    void watcher?.cancel().catch(() => undefined);
    onClose();
  });
  const yieldVersion = (rev: number) => {
    if (rev > last) {
      last = rev;
      latest.push(String(rev));
    }
  };
  /** Watches every change after revision `after`. */
  const start = (after: number) => {
    if (ended) return;
    const w = store.client
      .watch()
      .prefix(store.prefix)
      .startRevision(String(after + 1))
      .watcher();
    watcher = w;
    w.on('data', (res: IWatchResponse) => yieldVersion(newestIn(res)));
    w.on('disconnected', (err: unknown) => store.emit('watch-disconnected', err));
    w.on('connected', () => store.emit('watch-connected'));
    // A cancelled watch (compacted revision, or anything else etcd refuses): start over from what is there now.
    w.on('error', (err: unknown) => {
      if (w !== watcher) return;
      store.emit('watch-resync', (err as Error)?.message ?? String(err));
      void restart();
    });
  };
  /** A full re-read: the current version, then a watch from the current revision. */
  const restart = async () => {
    for (let delay = 100; !ended; delay = Math.min(delay * 2, 5000)) {
      try {
        const now = await newestModRevision(store.client, store.prefix);
        if (now.newest !== last) {
          last = 0;
          yieldVersion(now.newest);
        }
        return start(now.revision);
      } catch {
        await sleep(delay);
      }
    }
  };
  void (async () => {
    try {
      if (opts.since !== undefined) last = opts.since === '' ? 0 : Number(opts.since);
      else last = await store.revision();
      start(last);
    } catch {
      await restart();
    }
  })();
  opts.signal?.addEventListener('abort', () => latest.end(), { once: true });
  if (opts.signal?.aborted) latest.end();
  return latest;
}
