// The etcd store: the cloud's state in etcd v3, one key per object under
// /eucanet/<cloud>/state/ (etcd-layout.ts), for clouds of many machines.
//
// Versions. A state's version is its revision: the newest mod revision of any
// key under the state prefix (in decimal; Snapshot.revision is the number).
// It does not move when something else in etcd changes (agents' status keys),
// only when the state does.
//
// Reads. One range of the prefix at one revision (in pages, every page at the
// revision of the first), assembled (fromKeys) and validated.
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
import { validateState } from '../managed/validate.js';
import { ConflictError, EtcdError } from './errors.js';
import { checkEtcdUrls, connectEtcd, deleteOp, newestModRevision, putOp, rangeAll, txn, unchangedSince, type EtcdConnectOptions } from './etcd-client.js';
import { DELETED_KEY, diffKeys, fromKeys, statePrefix, toKeys } from './etcd-layout.js';
import { stagedImport } from './etcd-import.js';
import { watchPrefix } from './etcd-watch.js';
import type { Latest } from './latest.js';
import type { Snapshot, Store, WatchOptions, WriteOptions } from './types.js';

export interface EtcdStoreOptions extends EtcdConnectOptions {
  /** The cloud's name: its keys are under /eucanet/<cloud>/ (default "default"). */
  cloud?: string;
  /** Keys per page of a read (default 5000). */
  pageSize?: number;
}

/** The keys of the state as read, by key relative to the prefix, and its version. */
interface KeysRead {
  keys: Map<string, string>;
  /** The newest mod revision among them; 0 for no state. */
  version: number;
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
  /** The etcd3 client, for what else a cloud keeps in etcd (agents' status under a lease). */
  readonly client: Etcd3;
  private last: KeysRead | undefined;
  private readonly watches = new Set<Latest<string>>();

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
    this.client = connectEtcd(opts);
  }

  /** Runs one etcd call; a failure becomes an EtcdError naming the op and the URLs. */
  private async call<T>(op: string, fn: () => Promise<T>, hint?: (err: unknown) => string | undefined): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new EtcdError(op, this.urls, err, hint?.(err));
    }
  }

  private async readKeys(): Promise<KeysRead> {
    const page = await this.call(`read ${this.prefix}`, () => rangeAll(this.client, this.prefix, this.opts.pageSize));
    const keys = new Map<string, string>();
    let version = 0;
    for (const kv of page.kvs) {
      keys.set(kv.key.slice(this.prefix.length), kv.value.toString('utf8'));
      if (kv.modRevision > version) version = kv.modRevision;
    }
    return { keys, version };
  }

  /** The state's current revision (0: no state), without reading the state. */
  async revision(): Promise<number> {
    return (await this.call(`revision of ${this.prefix}`, () => newestModRevision(this.client, this.prefix))).newest;
  }

  async read(): Promise<Snapshot> {
    const r = await this.readKeys();
    const doc = fromKeys(r.keys, this.prefix);
    if (doc === undefined) {
      throw Object.assign(new Error(`${this.name}: no state (put one with eucanet cloud put)`), { code: 'ENOENT', path: this.prefix });
    }
    try {
      const state = validateState(doc);
      this.last = r;
      return { state, version: versionText(r.version), revision: r.version };
    } catch (err) {
      if (err instanceof ValidationError) Object.assign(err, { version: versionText(r.version) });
      throw err;
    }
  }

  /** The keys the write is based on: the last read when it is at `ifVersion`, else a fresh read. */
  private async base(ifVersion: string | undefined): Promise<KeysRead> {
    if (ifVersion !== undefined && this.last && versionText(this.last.version) === ifVersion) return this.last;
    const now = await this.readKeys();
    if (ifVersion !== undefined && versionNumber(ifVersion) !== now.version) throw new ConflictError(this.name, ifVersion, versionText(now.version));
    return now;
  }

  async write(next: State, opts: WriteOptions = {}): Promise<string> {
    validateState(structuredClone(next));
    if (opts.ifVersion !== undefined && !/^(|\d+)$/.test(opts.ifVersion)) {
      throw new ValidationError('ifVersion', opts.ifVersion, 'expected an etcd revision (a number) or "" for no state');
    }
    // Unconditional: based on a fresh read, retried while others write between the read and the transaction.
    for (;;) {
      const base = await this.base(opts.ifVersion);
      const written = await this.commit(base, toKeys(next, base.keys));
      if (written !== undefined) return written;
      const actual = versionText(await this.revision());
      if (opts.ifVersion !== undefined) throw new ConflictError(this.name, opts.ifVersion, actual);
    }
  }

  /** The transaction from `base` to `after`; the new version, or undefined when the compare failed. */
  private async commit(base: KeysRead, after: Map<string, string>): Promise<string | undefined> {
    const { put, del } = diffKeys(base.keys, after);
    const ops = put.map(([k, v]) => putOp(this.prefix + k, v));
    for (const k of del) ops.push(deleteOp(this.prefix + k));
    if (del.length) ops.push(putOp(this.prefix + DELETED_KEY, String(Date.now())));
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
    this.last = undefined;
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
    this.last = undefined;
    return rev === undefined ? undefined : String(rev);
  }

  watch(opts: WatchOptions = {}): AsyncIterableIterator<string> {
    const w = watchPrefix(this, opts, () => this.watches.delete(w));
    this.watches.add(w);
    return w;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.end();
    this.client.close();
  }
}

/** An etcd store for these options (no connection is made before the first call). */
export function openEtcdStore(opts: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(opts);
}
