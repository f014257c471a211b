// The etcd store's feed: ONE etcd watch on the state prefix per store, which
// moves the store's key cache forward (etcd-cache.ts) and then tells every
// watch() of the store the state's new version (the revision of the change).
// So when an agent hears of a version and reads it, the cache has it already:
// the read costs no etcd request, and a change costs each agent one watch
// event of the changed keys' size, not a read of the whole state.
//
// The watch is etcd-watch-lean.ts's (our own gRPC Watch over the lean
// channel's HTTP/2 session), or etcd3's with user/password auth. After a
// disconnect (etcd restarted, network cut) it reconnects by itself and
// resumes from the last revision it saw, so nothing is missed and nothing is
// read again; while disconnected the cache is not
// served (a read goes to etcd and says that it is unreachable). When that
// revision was compacted meanwhile, etcd cancels the watch: the cache is
// dropped (the next read is one full range read), the current version is
// yielded, and a new watch starts from the current revision.
import type { IWatchResponse } from 'etcd3';
import type { EtcdStore } from './etcd.js';
import type { CacheEvent, KeyCache } from './etcd-cache.js';
import { newestModRevision } from './etcd-client.js';
import { LeanWatch } from './etcd-watch-lean.js';
import { Latest } from './latest.js';
import type { WatchOptions } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The newest mod revision among one watch response's events (0 if it has none). */
function newestIn(events: CacheEvent[]): number {
  let rev = 0;
  for (const e of events) rev = Math.max(rev, Number(e.kv.mod_revision));
  return rev;
}

/** etcd3's Watcher or the lean one (etcd-watch-lean.ts): the events the feed listens to, and cancel. */
interface AnyWatcher {
  cancel(): Promise<void>;
  on(event: 'connected', fn: () => void): unknown;
  on(event: 'disconnected' | 'error', fn: (err: unknown) => void): unknown;
}

interface Sub {
  latest: Latest<string>;
  /** The version last yielded (or the one to start from). */
  last: number;
  /**
   * It starts from etcd's revision when watch() was called, not from a
   * version the store knew: until a read serves that version or a newer
   * one, a read of an older version makes it yield its start (served()).
   */
  unconfirmed?: boolean;
}

export class StateFeed {
  private watcher: AnyWatcher | undefined;
  /** A watch is started but held (holdUntil): it opens when the hold settles. */
  private held = false;
  private hold: Promise<unknown> | undefined;
  private ended = false;
  private connected = true;
  /** The first revision the current watch delivers: every change since is seen, in order. 0: no watch. */
  from = 0;
  /** Grows each time the watch starts over (a gap): a full read begun before it must not become the cache. */
  epoch = 0;
  /** The newest version the feed knows. */
  seen = 0;
  /** The newest version a read of the store served. */
  private served = 0;
  /** The cache the watch moves forward, when there is one and it is continuous with the watch. */
  private cache: KeyCache | undefined;
  /** Full reads in flight: the events that arrive meanwhile, applied to their result. */
  private readonly fills = new Set<CacheEvent[][]>();
  private readonly subs = new Set<Sub>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly store: EtcdStore) {}

  /** The cache, when it can be served: the watch is connected and continuous with it. */
  current(): KeyCache | undefined {
    return this.connected ? this.cache : undefined;
  }

  /** A watch started before `until` settles is opened then (after an agent's first sync's status). */
  holdUntil(until: Promise<unknown>): void {
    const hold = until.then(
      () => undefined,
      () => undefined,
    );
    this.hold = hold;
    void hold.then(() => {
      if (this.hold === hold) this.hold = undefined;
    });
  }

  /** A watch runs, or is started and held. */
  private get watching(): boolean {
    return this.watcher !== undefined || this.held;
  }

  /** Drops the cache (the next read is a full read). */
  drop(): void {
    this.cache = undefined;
  }

  /**
   * Runs a full read (a range at one revision, `through`) and makes its
   * result the cache, with the events that arrived meanwhile; starts the
   * watch after it when none runs.
   */
  async fill(read: () => Promise<KeyCache>): Promise<KeyCache> {
    const epoch = this.epoch;
    const buffered: CacheEvent[][] = [];
    this.fills.add(buffered);
    let cache: KeyCache;
    try {
      cache = await read();
    } finally {
      this.fills.delete(buffered);
    }
    for (const evs of buffered) cache.apply(this.store.prefix, evs);
    if (this.ended || epoch !== this.epoch) return cache;
    if (!this.watching) this.start(cache.through, cache.version);
    if (this.from <= cache.through + 1) {
      this.cache = cache;
      this.wake();
    }
    return cache;
  }

  /** Resolves when the feed has seen `version` (true), or after `ms` (false). */
  async waitFor(version: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while ((this.cache?.version ?? 0) < version) {
      const left = deadline - Date.now();
      if (left <= 0 || this.ended || !this.cache) return false;
      let done!: () => void;
      const p = new Promise<void>((r) => (done = r));
      this.waiters.add(done);
      const t = setTimeout(done, left);
      await p;
      clearTimeout(t);
      this.waiters.delete(done);
    }
    return true;
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Watches every change after revision `after`; `version` is the state's version then. */
  private start(after: number, version: number): void {
    if (this.ended) return;
    this.from = after + 1;
    if (version > this.seen) this.seen = version;
    const hold = this.hold;
    if (!hold) return this.open(after);
    this.held = true;
    const epoch = this.epoch;
    void hold.then(() => {
      this.held = false;
      if (!this.ended && epoch === this.epoch && !this.watcher) this.open(after);
    });
  }

  /** The etcd watch of every change after revision `after`: the lean one when the store has the lean channel, else etcd3's. */
  private open(after: number): void {
    const lean = this.store.fullReads;
    if (lean) {
      const w = new LeanWatch(lean, this.store.prefix, after + 1);
      this.listen(w, (on) => w.on('data', (events) => on(events)));
      return;
    }
    const w = this.store.client
      .watch()
      .prefix(this.store.prefix)
      .startRevision(String(after + 1))
      .watcher();
    this.listen(w, (on) => w.on('data', (res: IWatchResponse) => on(res.events)));
  }

  /** Follows watcher `w`'s events while it is the feed's. */
  private listen(w: AnyWatcher, onData: (on: (events: CacheEvent[]) => void) => void): void {
    this.watcher = w;
    onData((events) => {
      if (w === this.watcher) this.onData(events);
    });
    w.on('disconnected', (err: unknown) => {
      if (w !== this.watcher) return;
      this.connected = false;
      this.store.emit('watch-disconnected', err);
    });
    w.on('connected', () => {
      if (w !== this.watcher) return;
      this.connected = true;
      this.store.emit('watch-connected');
    });
    // A cancelled watch (compacted revision, or anything else etcd refuses): start over from what is there now.
    w.on('error', (err: unknown) => {
      if (w !== this.watcher) return;
      this.store.emit('watch-resync', (err as Error)?.message ?? String(err));
      void this.restart();
    });
  }

  /** One watch response: into the cache (and the full reads in flight) as a whole, then the new version to every watch. */
  private onData(events: CacheEvent[]): void {
    this.connected = true;
    if (!events.length) return;
    this.cache?.apply(this.store.prefix, events);
    for (const f of this.fills) f.push(events);
    const rev = newestIn(events);
    if (rev > this.seen) this.seen = rev;
    for (const s of this.subs) this.push(s, rev);
    this.wake();
  }

  private push(s: Sub, rev: number): void {
    if (rev > s.last) {
      s.last = rev;
      s.latest.push(String(rev));
    }
  }

  /** A gap: no cache, the current version to every watch, then a watch from the current revision. */
  private async restart(): Promise<void> {
    this.epoch++;
    this.cache = undefined;
    this.watcher = undefined;
    this.held = false;
    this.from = 0;
    this.wake();
    for (let delay = 100; !this.ended; delay = Math.min(delay * 2, 5000)) {
      try {
        const lean = this.store.fullReads;
        const now = lean ? await lean.newest(this.store.prefix) : await newestModRevision(this.store.client, this.store.prefix);
        if (this.ended || this.watching) return;
        for (const s of this.subs) {
          if (now.newest !== s.last) {
            s.last = 0;
            this.push(s, now.newest);
          }
        }
        this.seen = now.newest;
        this.connected = true;
        return this.start(now.revision, now.newest);
      } catch {
        await sleep(delay);
      }
    }
  }

  /** A watch of the state's versions (Store.watch). */
  subscribe(opts: WatchOptions, onClose: () => void): Latest<string> {
    const sub: Sub = { latest: undefined as unknown as Latest<string>, last: 0 };
    sub.latest = new Latest<string>(() => {
      this.subs.delete(sub);
      onClose();
    });
    // The feed knows the state's version now (its watch, or the cache a
    // write of this store moved forward): that is the version when watch()
    // is called. Asking etcd instead would answer later, with any version
    // written meanwhile, which this watch would then never yield.
    const known = Math.max(this.seen, this.current()?.version ?? 0);
    if (opts.since === undefined && this.watching && known > 0) {
      sub.last = known;
      this.subs.add(sub);
    } else void this.join(sub, opts.since);
    opts.signal?.addEventListener('abort', () => sub.latest.end(), { once: true });
    if (opts.signal?.aborted) sub.latest.end();
    return sub.latest;
  }

  /** Adds a watch once its first version is known: `since`, else the state's revision in etcd. */
  private async join(sub: Sub, since: string | undefined): Promise<void> {
    try {
      // Before the store's prefetched first read is done, its version (asking etcd would load etcd3 first).
      const first = since === undefined ? await this.store.prefetchedVersion() : undefined;
      sub.last = since !== undefined ? (since === '' ? 0 : Number(since)) : (first ?? (await this.store.revision()));
      if (!this.watching && this.from === 0) this.start(sub.last, sub.last);
      this.subs.add(sub);
      if (this.seen !== sub.last && this.seen > 0) this.push(sub, this.seen);
      // Reads begun with this watch may serve a version older than etcd's
      // answer (a write landed in between): the newer one is then yielded.
      if (since === undefined) {
        sub.unconfirmed = true;
        if (this.served > 0) this.readServed(this.served);
      }
    } catch {
      this.subs.add(sub);
      if (!this.watching) await this.restart();
    }
  }

  /**
   * A read served `version`: a watch that started from a newer etcd revision
   * than that, before any read confirmed it, yields that revision (its
   * consumer may hold the older version and would otherwise never hear of it).
   */
  readServed(version: number): void {
    if (version > this.served) this.served = version;
    for (const s of this.subs) {
      if (!s.unconfirmed) continue;
      s.unconfirmed = false;
      if (version < s.last) s.latest.push(String(s.last));
    }
  }

  /** Ends every watch and the feed. */
  close(): void {
    for (const s of [...this.subs]) s.latest.end();
    this.ended = true;
    this.cache = undefined;
    this.wake();
    void this.watcher?.cancel().catch(() => undefined);
  }
}
