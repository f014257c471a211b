// The etcd store: the cloud's state in etcd v3, one key per object under
// /eucanet/<cloud>/state/ (etcd-layout.ts), for clouds of many machines.
//
// Versions. A state's version is its revision: the newest mod revision of any
// key under the state prefix (in decimal; Snapshot.revision is the number).
// It does not move when something else in etcd changes (agents' status keys),
// only when the state does.
//
// Reads. The store keeps the keys it read (etcd-cache.ts: key -> value, mod
// revision, parsed object), and its one watch on the prefix (etcd-watch.ts)
// applies every change to them, a watch response at a time. So read() costs
// no etcd request while the watch is connected: it assembles the state from
// the kept objects (only the keys that changed are parsed again) and
// validates it, incrementally (managed/check-incremental.ts: only the objects
// that changed are checked again). Without a cache (the first read, after a compacted watch or
// while disconnected) it is one range of the prefix at one revision (in
// pages, every page at the revision of the first). A writer that finds the
// state newer than its cache (a conflict) waits for the watch to bring the
// newer version (up to a second), else reads it in full.
//
// Writes: one transaction that puts and deletes only the keys that differ
// from the state read (diffKeys), if no key under the prefix has a mod
// revision above the version read — one compare over the whole key range
// (etcd's Compare.range_end), and a delete also puts the `deleted` marker key
// so that it too moves the prefix's newest mod revision. Why the whole prefix
// and not only the keys read: two run-instance that pick the same free
// address write two different new keys, which no compare on the keys read
// would see; here the second one's transaction finds the first one's key
// newer than its read and fails (ConflictError), and update() reruns it on the
// new state, where the address is taken. Two writers of different rules
// conflict the same way and both land after a retry. Any writer, eucanet or
// not, that puts a key under the prefix is seen; one that deletes keys
// without putting the marker is not (write through eucanet).
//
// Size. A transaction holds every changed key: etcd's limits (--max-txn-ops,
// default 128, and --max-request-bytes, default 1.5 MiB) bound one change. A
// change over them to a cloud that has a state is refused by etcd as a whole,
// nothing written, and the error says which etcd flags to raise. Into a cloud
// with no state (a first `cloud put`), such an import is staged instead
// (etcd-import.ts): every key but `settings`, in transactions under the
// defaults, then `settings`; readers see no state until that last one.
import { EventEmitter } from 'node:events';
import type { Etcd3, IRequestOp } from 'etcd3';
import { ValidationError } from '../errors.js';
import type { State } from '../managed/types.js';
import { IncrementalCheck } from '../managed/check-incremental.js';
import { indexLater } from './check-later.js';
import { validateState } from '../managed/validate.js';
import { phase } from '../util/phases.js';
import { ConflictError, EtcdError } from './errors.js';
import {
  checkEtcdUrls,
  connectEtcd,
  DEFAULT_TIMEOUT_MS,
  deleteOp,
  etcd3Range,
  newestModRevision,
  putOp,
  rangeAll,
  txn,
  unchangedSince,
  type EtcdConnectOptions,
} from './etcd-client.js';
import { EtcdRangeClient, type PrefetchedRange, type RangeFn, type RangePage } from './etcd-range.js';
import { KeyCache } from './etcd-cache.js';
import { DELETED_KEY, diffKeys, statePrefix, toKeys } from './etcd-layout.js';
import { stagedImport } from './etcd-import.js';
import { StateFeed } from './etcd-watch.js';
import { warmUpCheck } from './etcd-warm.js';
import type { ReadOptions, Snapshot, Store, WatchOptions, WriteOptions } from './types.js';

export interface EtcdStoreOptions extends EtcdConnectOptions {
  /** The cloud's name: its keys are under /eucanet/<cloud>/ (default "default"). */
  cloud?: string;
  /** Keys per page of a read (default 5000). */
  pageSize?: number;
  /** Keep the keys read and move them forward with a watch (default true); false: every read is a range read. */
  cache?: boolean;
  /** A full read already sent (prefetchRange, of this cloud's state prefix): the first read's answer, and the channel for later ones. */
  prefetched?: PrefetchedRange;
}

/** The keys of the state as read, by key relative to the prefix, and its version. */
interface KeysRead {
  keys: Map<string, string>;
  /** The newest mod revision among them; 0 for no state. */
  version: number;
  /** The cache they come from. */
  cache?: KeyCache;
}

const versionText = (v: number) => (v === 0 ? '' : String(v));
const versionNumber = (v: string) => (v === '' ? 0 : Number(v));

/** etcd's default --max-txn-ops. */
const ETCD_DEFAULT_MAX_TXN_OPS = 128;

/**
 * Names etcd's own limits when a transaction is refused for its size: the
 * flags to start etcd with (both when both may be short: etcd checks the
 * bytes first, so a refusal for bytes says nothing of the operations).
 */
function limitHint(err: unknown, ops: number, bytes: number): string | undefined {
  const msg = (err as Error)?.message ?? '';
  const opsFlag = `--max-txn-ops ${ops} or more`;
  if (/too many operations in txn/i.test(msg)) return `this change is ${ops} operations in one transaction: start etcd with ${opsFlag}`;
  if (/request is too large|larger than max|message larger/i.test(msg)) {
    // The request as etcd counts it (gRPC framing included) is a little more than the keys and values.
    const need = Math.ceil((bytes * 1.2 + 65536) / 1048576) * 1048576;
    const both = ops > ETCD_DEFAULT_MAX_TXN_OPS ? ` and ${opsFlag}` : '';
    return `this change is ${ops} operations and ${bytes} bytes of keys and values in one transaction: start etcd with --max-request-bytes ${need}${both}`;
  }
  return undefined;
}

/**
 * What the store's watches go through, for logs and metrics (an agent says
 * when it is cut off from etcd): 'watch-disconnected' (the error; the client
 * reconnects by itself, 100 ms to 2 s apart), 'watch-connected' (the watch is
 * back: it resumes from the last revision seen), 'watch-resync' (the revision
 * was compacted, or etcd cancelled the watch: the current version is yielded,
 * a full re-read).
 */
export interface EtcdStoreEvents {
  'watch-disconnected': [err: unknown];
  'watch-connected': [];
  'watch-resync': [reason: string];
}

export class EtcdStore extends EventEmitter<EtcdStoreEvents> implements Store {
  readonly name: string;
  readonly cloud: string;
  /** The state's key prefix, /eucanet/<cloud>/state/. */
  readonly prefix: string;
  readonly urls: readonly string[];
  /** The etcd3 client (created, and etcd3 loaded, on first use): writes, and with user/password auth every other call (agents' status under a lease too). */
  get client(): Etcd3 {
    return (this.etcd ??= connectEtcd(this.opts));
  }
  private etcd?: Etcd3;
  /** The newest mod revision in the prefetched first read (its version), until that read is done. */
  private firstVersion: Promise<number | undefined> | undefined;
  private readonly feed = new StateFeed(this);
  /** A version the state has reached (a conflict said so): a cache older than it is not served. */
  private wanted = 0;
  /** Validation of each version read at the cost of what changed (the cache keeps unchanged objects). */
  private readonly check = new IncrementalCheck();
  /** The last snapshot read, served again while the version is the same. */
  private snap: Snapshot | undefined;
  /** The channel of full reads, lean decoding (etcd-range.ts); undefined with etcd's user/password auth (they go through etcd3). */
  readonly fullReads?: EtcdRangeClient;
  private readonly range: RangeFn;
  /** The prefetched first read, until a read takes it. */
  private first: Promise<RangePage> | undefined;

  constructor(private readonly opts: EtcdStoreOptions) {
    super();
    checkEtcdUrls(opts.urls);
    if (opts.cloud !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(opts.cloud)) {
      throw new ValidationError('cloud', opts.cloud, 'expected a name of letters, digits, "_", "." and "-"');
    }
    this.cloud = opts.cloud ?? 'default';
    this.prefix = statePrefix(this.cloud);
    this.urls = opts.urls;
    this.name = `etcd ${opts.urls.join(',')} ${this.prefix}`;
    if (opts.auth) {
      this.range = (req) => etcd3Range(this.client)(req);
      opts.prefetched?.client.close();
    } else {
      const lean = opts.prefetched?.client ?? new EtcdRangeClient({ ...opts, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      this.fullReads = lean;
      this.range = (req) => lean.range(req);
      if (opts.prefetched?.prefix === this.prefix) {
        this.first = opts.prefetched.page;
        this.firstVersion = this.first.then(
          (p) => p.kvs.reduce((n, kv) => Math.max(n, kv.modRevision), 0),
          () => undefined,
        );
      }
    }
  }

  /**
   * The state's version as the prefetched first read found it (undefined
   * without one, or when it failed): a watch() begun before that read knows
   * its start from it, without a request of etcd3's (whose loading would
   * delay the read).
   */
  prefetchedVersion(): Promise<number | undefined> | undefined {
    return this.firstVersion;
  }

  /**
   * Starts the store's etcd watch (etcd3's, with user/password auth) only once `until`
   * settles: an agent's first sync and status go first. So does the
   * building of the incremental check's counts of the first version read
   * (check-later.ts), which would otherwise fall in a first sync that takes
   * more than a second.
   */
  holdWatch(until: Promise<unknown>): void {
    this.feed.holdUntil(until);
    this.indexAfter = until;
  }
  /** When the counts of a first version read are built (holdWatch). */
  private indexAfter?: Promise<unknown>;

  /** Runs one etcd call; a failure becomes an EtcdError naming the op and the URLs. */
  private async call<T>(op: string, fn: () => Promise<T>, hint?: (err: unknown) => string | undefined): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new EtcdError(op, this.urls, err, hint?.(err));
    }
  }

  /** One range read of the prefix, as a cache at the range's revision. */
  private async rangeRead(): Promise<KeyCache> {
    phase('store: before the range read');
    const first = this.first;
    this.first = undefined;
    this.firstVersion = undefined;
    const read = () => rangeAll(this.range, this.prefix, this.opts.pageSize);
    // A prefetched read that failed (etcd not up yet) is simply made again.
    const page = await this.call(`read ${this.prefix}`, () => (first ? first.catch(read) : read()));
    phase('store: range read');
    const kvs = page.kvs.map((kv) => ({ key: kv.key.slice(this.prefix.length), value: kv.value, mod: kv.modRevision }));
    return new KeyCache(kvs, page.revision);
  }

  /** The keys at the newest version this store knows of: the cache, or a full read (which becomes the cache). */
  private async keys(fresh = false): Promise<KeyCache> {
    if (this.opts.cache !== false) {
      if (fresh) return this.feed.fill(() => this.rangeRead());
      const c = this.feed.current();
      if (c && c.version >= this.wanted) return c;
      if (c && (await this.feed.waitFor(this.wanted, 1000))) {
        const again = this.feed.current();
        if (again && again.version >= this.wanted) return again;
      }
      const full = await this.feed.fill(() => this.rangeRead());
      // A full read is as new as anything seen before it (a `wanted` newer than it was not a version of this state).
      this.wanted = 0;
      return full;
    }
    return this.rangeRead();
  }

  private async readKeys(): Promise<KeysRead> {
    const c = await this.keys();
    return { keys: c.values(), version: c.version, cache: c };
  }

  /** The state's current revision (0: no state), without reading the state. */
  async revision(): Promise<number> {
    return (await this.call(`revision of ${this.prefix}`, () => newestModRevision(this.client, this.prefix))).newest;
  }

  /**
   * The incremental check of made-up versions of the last state read (a
   * terminate's, an authorize's: etcd-warm.ts), in memory; the check is left
   * holding that state. The agent calls it after its start.
   */
  warmUp(): void {
    if (this.snap) warmUpCheck(this.check, this.snap.state);
  }

  /** The state at the newest version seen (the cache); `fresh`: a range read of etcd, which becomes the cache. */
  async read(opts: ReadOptions = {}): Promise<Snapshot> {
    const c = await this.keys(!!opts.fresh);
    phase('store: etcd');
    this.feed.readServed(c.version);
    if (this.snap && this.snap.revision === c.version) return this.snap;
    const doc = c.assembled(this.prefix);
    if (doc === undefined) {
      throw Object.assign(new Error(`${this.name}: no state (put one with eucanet cloud put)`), { code: 'ENOENT', path: this.prefix });
    }
    try {
      // The incremental check costs what changed since the last read; when it
      // finds the state invalid, the full check names the first problem.
      const state = this.check.check(doc) ? doc : validateState(doc);
      phase('store: assemble, validate');
      indexLater(this.check, 1000, this.indexAfter);
      this.snap = { state, version: versionText(c.version), revision: c.version };
      return this.snap;
    } catch (err) {
      if (err instanceof ValidationError) Object.assign(err, { version: versionText(c.version) });
      throw err;
    }
  }

  /** The keys the write is based on: the cache (at `ifVersion` when given), else a fresh read. */
  private async base(ifVersion: string | undefined): Promise<KeysRead> {
    let now = await this.readKeys();
    if (ifVersion !== undefined && versionNumber(ifVersion) > now.version) {
      // Newer than the cache: wait for the watch to bring it, or read it.
      this.wanted = Math.max(this.wanted, versionNumber(ifVersion));
      now = await this.readKeys();
    }
    if (ifVersion !== undefined && versionNumber(ifVersion) !== now.version) throw new ConflictError(this.name, ifVersion, versionText(now.version));
    return now;
  }

  async write(next: State, opts: WriteOptions = {}): Promise<string> {
    // Validation changes nothing (read() validates the cache's own objects): no copy first (5000 instances: 7 to 20 ms).
    validateState(next);
    if (opts.ifVersion !== undefined && !/^(|\d+)$/.test(opts.ifVersion)) {
      throw new ValidationError('ifVersion', opts.ifVersion, 'expected an etcd revision (a number) or "" for no state');
    }
    // Unconditional: based on a fresh read, retried while others write between the read and the transaction.
    for (;;) {
      const base = await this.base(opts.ifVersion);
      const written = await this.commit(base, toKeys(next, base.keys));
      if (written !== undefined) return written;
      const newest = await this.revision();
      this.wanted = Math.max(this.wanted, newest);
      const actual = versionText(newest);
      if (opts.ifVersion !== undefined) throw new ConflictError(this.name, opts.ifVersion, actual);
    }
  }

  /** The transaction from `base` to `after`; the new version, or undefined when the compare failed. */
  private async commit(base: KeysRead, after: Map<string, string>): Promise<string | undefined> {
    const { put, del } = diffKeys(base.keys, after);
    const ops = put.map(([k, v]) => putOp(this.prefix + k, v));
    for (const k of del) ops.push(deleteOp(this.prefix + k));
    const marker: [string, string][] = del.length ? [[DELETED_KEY, String(Date.now())]] : [];
    for (const [k, v] of marker) ops.push(putOp(this.prefix + k, v));
    const bytes = put.reduce((n, [k, v]) => n + k.length + v.length + this.prefix.length, 0);
    const op = `write ${put.length} keys, delete ${del.length} under ${this.prefix}`;
    let res;
    try {
      res = await this.call(
        op,
        () => txn(this.client, [unchangedSince(this.prefix, base.version)], ops, this.opts.timeoutMs),
        (err) => limitHint(err, ops.length, bytes),
      );
    } catch (err) {
      // Too big for one transaction, into a cloud with no state: staged, settings last (etcd-import.ts).
      if (!(err instanceof EtcdError && err.hint !== undefined && !base.keys.has('settings') && after.has('settings'))) throw err;
      return this.importStaged(base, ops, op);
    }
    if (!res.succeeded) return undefined;
    // The state now is the base plus this transaction, at its revision: so is the cache, if it was at the base.
    const own = base.cache;
    if (own && own === this.feed.current() && own.version === base.version && ops.length) {
      own.applyOwn(del.length ? [...put, ...marker] : put, del, Number(res.header.revision));
    }
    return ops.length ? String(res.header.revision) : versionText(base.version);
  }

  private async importStaged(base: KeysRead, ops: IRequestOp[], op: string): Promise<string | undefined> {
    const settings = `${this.prefix}settings`;
    const marker = `${this.prefix}${DELETED_KEY}`;
    const isLast = (o: IRequestOp) => [settings, marker].includes(o.request_put?.key?.toString() ?? '');
    const rev = await this.call(`${op} (staged, settings last)`, () =>
      stagedImport(
        this.client,
        this.prefix,
        base.version,
        ops.filter((o) => !isLast(o)),
        ops.filter(isLast),
        this.opts.timeoutMs,
      ),
    );
    this.feed.drop();
    return rev === undefined ? undefined : String(rev);
  }

  watch(opts: WatchOptions = {}): AsyncIterableIterator<string> {
    return this.feed.subscribe(opts, () => undefined);
  }

  async close(): Promise<void> {
    this.feed.close();
    this.fullReads?.close();
    this.etcd?.close();
  }
}

/** An etcd store for these options (no connection is made before the first call). */
export function openEtcdStore(opts: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(opts);
}
