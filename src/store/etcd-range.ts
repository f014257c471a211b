// The etcd store's full reads (a range of every key under the state prefix)
// over gRPC with the hand-written codec of etcd-range-codec.ts, on a channel
// of its own (etcd-grpc.ts: unary gRPC over node:http2, so that neither
// etcd3 nor @grpc/grpc-js is loaded for it). The agent's
// cold start and every resync read the whole state: at 5000 instances
// etcd3's generic decoding of the reply (objects, Buffers, 64-bit numbers
// turned into strings) was most of the read's CPU. An agent's watch
// (etcd-watch-lean.ts), status puts and kept-alive lease
// (etcd-lease-lean.ts) go over it too, so that an agent never loads etcd3 (a
// few hundred ms of CPU and tens of MiB). Writes stay on etcd3's client.
//
// Only without etcd's user/password authentication (the token it needs is
// etcd3's business): with `auth`, the store reads through etcd3 (etcd-client's
// etcd3Range). TLS is the same as etcd3's: the CA (or the system's roots) and
// an optional client certificate.
import type { EtcdConnectOptions } from './etcd-client.js';
import { GRPC_STATUS, GrpcCallError, GrpcChannel, type GrpcStream } from './etcd-grpc.js';
import {
  decodeLeaseGrant,
  decodeRangeResponse,
  encodeLeaseGrant,
  encodeLeaseRevoke,
  putEncoder,
  encodeRangeRequest,
  type RangeKv,
  type RangeReply,
  type RangeRequest,
} from './etcd-range-codec.js';

const RANGE = '/etcdserverpb.KV/Range';
const PUT = '/etcdserverpb.KV/Put';
const LEASE_GRANT = '/etcdserverpb.Lease/LeaseGrant';
const LEASE_REVOKE = '/etcdserverpb.Lease/LeaseRevoke';
/** A reply whose content is not needed (its arrival is the answer). */
const ignore = (b: Buffer): Buffer => b;

export type RangeFn = (req: RangeRequest) => Promise<RangeReply>;

/** A channel per URL, opened on first use; a call goes to the first URL that answers. */
export class EtcdRangeClient {
  private readonly channels: GrpcChannel[];

  constructor(private readonly o: EtcdConnectOptions & { timeoutMs: number }) {
    this.channels = o.urls.map((url) => new GrpcChannel({ url, ...(o.tls ? { tls: o.tls } : {}) }));
  }

  private async once<Q, R>(i: number, method: string, enc: (q: Q) => Buffer, dec: (b: Buffer) => R, req: Q): Promise<R> {
    return dec(await this.channels[i].unary(method, enc(req), Date.now() + this.o.timeoutMs));
  }

  /** One unary call; an unavailable URL passes it to the next (each URL twice at most, as etcd3's calls here). */
  private async call<Q, R>(method: string, enc: (q: Q) => Buffer, dec: (b: Buffer) => R, req: Q): Promise<R> {
    const n = this.channels.length;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(attempt % n, method, enc, dec, req);
      } catch (err) {
        // UNAVAILABLE: no connection to that URL; anything else is etcd's answer.
        if (!(err instanceof GrpcCallError) || err.code !== GRPC_STATUS.UNAVAILABLE || attempt + 1 >= n * 2) throw err;
      }
    }
  }

  /** One Range call. */
  readonly range: RangeFn = (req) => this.call(RANGE, encodeRangeRequest, decodeRangeResponse, req);

  /** A lease of `ttl` seconds (kept alive by etcd-lease-lean.ts): its id, decimal. */
  async grant(ttl: number): Promise<string> {
    const res = await this.call(LEASE_GRANT, encodeLeaseGrant, decodeLeaseGrant, ttl);
    if (res.error) throw new Error(`etcd refused a lease: ${res.error}`);
    return res.id;
  }

  /** The encoder of the last key and lease put (an agent's status: the same each time). */
  private putOf?: { key: string; lease: string; encode: (value: string) => Buffer };

  /** Puts `key` = `value` under `lease`. */
  async put(key: string, value: string, lease: string): Promise<void> {
    let p = this.putOf;
    if (p?.key !== key || p.lease !== lease) p = this.putOf = { key, lease, encode: putEncoder(key, lease) };
    await this.call(PUT, p.encode, ignore, value);
  }

  /** Revokes `lease` (its keys go). */
  async revoke(lease: string): Promise<void> {
    await this.call(LEASE_REVOKE, encodeLeaseRevoke, ignore, lease);
  }

  /** A streaming call on the channel of URL `attempt` modulo their number (the lean watch: etcd-watch-lean.ts). */
  stream(attempt: number, method: string, first: Buffer, onMessage: (m: Buffer) => void, onEnd: (err?: GrpcCallError) => void): GrpcStream {
    return this.channels[attempt % this.channels.length].stream(method, first, onMessage, onEnd);
  }

  /** Drops the connection of URL `attempt` modulo their number (it answered nothing): its calls fail, the next connect again. */
  reset(attempt: number): void {
    this.channels[attempt % this.channels.length].reset();
  }

  /** The newest mod revision under `prefix` (0: no key) and the store's revision (one keys-only range of one key). */
  async newest(prefix: string): Promise<{ newest: number; revision: number }> {
    const res = await this.range({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), limit: 1, newestFirst: true, keysOnly: true });
    return { newest: res.kvs.length ? res.kvs[0].modRevision : 0, revision: res.revision };
  }

  /** Resolves when the first URL's channel is connected (rejects past the timeout: the range then finds its own way). */
  ready(): Promise<void> {
    return this.channels[0].ready(Date.now() + this.o.timeoutMs);
  }

  close(): void {
    for (const c of this.channels) c.close();
  }
}

/** The end of the key range of every key that starts with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  let i = b.length - 1;
  while (i >= 0 && b[i] === 0xff) i--;
  const end = Buffer.from(b.subarray(0, i + 1));
  end[i] = (end[i] ?? 0) + 1;
  return end;
}

export interface RangePage {
  kvs: RangeKv[];
  /** The revision the range was read at. */
  revision: number;
}

/**
 * Every key under `prefix` at one revision (the current one, or `revision`),
 * read in pages of `pageSize` keys, all at the revision of the first.
 */
export async function rangeAll(range: RangeFn, prefix: string, pageSize = 5000, revision?: number): Promise<RangePage> {
  const rangeEnd = prefixEnd(prefix);
  const out: RangeKv[] = [];
  let key = Buffer.from(prefix);
  let rev = revision;
  for (;;) {
    const res = await range({ key, rangeEnd, limit: pageSize, ...(rev !== undefined ? { revision: rev } : {}) });
    rev ??= res.revision;
    for (const kv of res.kvs) out.push(kv);
    if (!res.more || !res.kvs.length) return { kvs: out, revision: rev };
    key = Buffer.concat([Buffer.from(res.kvs[res.kvs.length - 1].key), Buffer.from([0])]);
  }
}

/** A full read begun before the etcd store exists (prefetchRange), for the store's first read. */
export interface PrefetchedRange {
  /** The channel it went over: the store keeps it for its later full reads. */
  client: EtcdRangeClient;
  /** The prefix read. */
  prefix: string;
  /** The keys under the prefix (rejected when etcd did not answer: the store reads again). */
  page: Promise<RangePage>;
}

/**
 * Sends the range read of `prefix` and resolves once it is on its way, so
 * that etcd works on the answer while this process does something else (an
 * agent loads etcd3's client meanwhile: a few hundred ms of CPU during which
 * etcd reads and sends 5000 keys). Waits at most `timeoutMs` for the channel.
 */
export async function prefetchRange(o: EtcdConnectOptions & { timeoutMs: number }, prefix: string, pageSize?: number): Promise<PrefetchedRange> {
  const client = new EtcdRangeClient(o);
  await client.ready().catch(() => undefined);
  const page = rangeAll(client.range, prefix, pageSize);
  page.catch(() => undefined);
  // Let the request's frames reach the socket before the caller blocks the event loop.
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
  return { client, prefix, page };
}
