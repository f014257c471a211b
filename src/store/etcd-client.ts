// The etcd v3 client the etcd store uses: the npm `etcd3` package (gRPC),
// set up from eucanet's options (endpoints, TLS, user and password) with a
// bounded time per call, so that an unreachable etcd is an error within
// seconds instead of the client's long default retries; and the raw
// range/txn calls the store needs (a range at one revision, page by page; a
// transaction whose compare covers a whole key range, which etcd3's
// builder does not offer).
import { createRequire } from 'node:module';
import type { Etcd3, ICompare, IOptions, IRangeResponse, IRequestOp, ITxnResponse } from 'etcd3';
import { ValidationError } from '../errors.js';
import { prefixEnd, type RangeFn } from './etcd-range.js';

// Where they were first written: the range helpers now live with the lean Range read.
export { prefixEnd, rangeAll, type RangePage } from './etcd-range.js';

export interface EtcdConnectOptions {
  /** The client URLs, http(s)://HOST:PORT. */
  urls: string[];
  /** TLS: the CA that signed etcd's certificate, and a client certificate and key (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** etcd's own authentication (etcdctl user add). */
  auth?: { username: string; password: string };
  /** The longest one request may take, connecting included (default 5000 ms). */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5000;

type Etcd3Module = typeof import('etcd3');
let etcd3: Etcd3Module | undefined;
/**
 * The etcd3 package, loaded on first use: it and protobufjs cost a few
 * hundred ms of CPU to load, which an agent spends only after its first sync
 * is published (its first read and status go over etcd-range.ts's channel).
 */
export const etcd3Module = (): Etcd3Module => (etcd3 ??= createRequire(import.meta.url)('etcd3') as Etcd3Module);

/** Checks the URLs before any connection: http(s)://HOST:PORT each, at least one; `field` names them in the error. */
export function checkEtcdUrls(urls: readonly string[], field = 'urls'): void {
  if (!urls.length) throw new ValidationError(field, '', 'expected at least one etcd URL');
  for (const u of urls) {
    if (!/^https?:\/\/[^/\s]+:\d{1,5}\/?$/.test(u)) throw new ValidationError(field, u, 'expected http://HOST:PORT or https://HOST:PORT');
  }
}

/**
 * The watch's reconnect delays: 100 ms doubling up to 2 s. (etcd3's default
 * grows to 30 s, so an agent could stay blind for half a minute after etcd
 * came back.) The shape etcd3's watch manager uses: `duration`, `next()`.
 */
class WatchBackoff {
  constructor(readonly duration = 100) {}
  next(): WatchBackoff {
    return new WatchBackoff(Math.min(this.duration * 2, 2000));
  }
}

type FaultHandling = NonNullable<IOptions['faultHandling']>;

/**
 * How a request goes through the endpoints. etcd3's defaults retry every
 * "recoverable" error 3 times and open a per-endpoint circuit breaker after 3
 * in a row: a deadline then costs 3 deadlines, and a transaction etcd refuses
 * for its size (RESOURCE_EXHAUSTED) is sent 3 times and then blocks every
 * request for 5 s. Here: an endpoint that is unavailable moves the request to
 * the next one (each endpoint once, then a second round), nothing else is
 * retried, and no breaker. (etcd3 calls `execute(fn)` of these policies only.)
 */
function faultHandling(endpoints: number): FaultHandling {
  // etcd3 reports a failed stream with execute(() => { throw err }).catch(...):
  // execute must return a promise, so a synchronous throw becomes a rejection
  // (thrown as is, it escaped uncaught and killed the process).
  const passThrough = { execute: async <T>(fn: () => T | Promise<T>): Promise<T> => fn() };
  const failover = {
    async execute<T>(fn: () => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (!(err instanceof etcd3Module().GRPCUnavailableError) || attempt >= endpoints * 2) throw err;
        }
      }
    },
  };
  return {
    host: () => passThrough as unknown as ReturnType<NonNullable<FaultHandling['host']>>,
    global: failover as unknown as FaultHandling['global'],
    watchBackoff: new WatchBackoff(),
  };
}

/** An etcd3 client for these options; no connection is made until the first call. */
export function connectEtcd(o: EtcdConnectOptions): Etcd3 {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secure = !!o.tls || o.urls.some((u) => u.startsWith('https://'));
  const options: IOptions = {
    hosts: o.urls,
    dialTimeout: timeoutMs,
    // Unary calls get a deadline; watches are streams and stay open.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    // Large states: a page of a range can be several MiB.
    grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.max_send_message_length': 64 * 1024 * 1024 },
    faultHandling: faultHandling(o.urls.length),
  };
  if (secure) {
    // etcd3 builds TLS credentials from these; a missing CA means the system's roots.
    options.credentials = {
      rootCertificate: o.tls?.ca as Buffer,
      ...(o.tls?.key ? { privateKey: o.tls.key } : {}),
      ...(o.tls?.cert ? { certChain: o.tls.cert } : {}),
    };
  }
  if (o.auth) options.auth = { username: o.auth.username, password: o.auth.password };
  return new (etcd3Module().Etcd3)(options);
}

/** A Range call through etcd3's client (used with etcd's user/password authentication, whose token etcd3 keeps). */
export function etcd3Range(client: Etcd3): RangeFn {
  return async (req) => {
    const res: IRangeResponse = await client.kv.range({
      key: req.key,
      range_end: req.rangeEnd,
      ...(req.limit ? { limit: req.limit } : {}),
      ...(req.revision ? { revision: req.revision } : {}),
    });
    return {
      revision: Number(res.header.revision),
      more: !!res.more,
      kvs: res.kvs.map((kv) => ({ key: kv.key.toString(), value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision) })),
    };
  };
}

/** The newest mod revision of any key under `prefix` (0 when there is none), and the store's revision. */
export async function newestModRevision(client: Etcd3, prefix: string): Promise<{ newest: number; revision: number }> {
  const res = await client.kv.range({
    key: Buffer.from(prefix),
    range_end: prefixEnd(prefix),
    limit: 1,
    sort_order: 'Descend',
    sort_target: 'Mod',
    keys_only: true,
  });
  return { newest: res.kvs.length ? Number(res.kvs[0].mod_revision) : 0, revision: Number(res.header.revision) };
}

/** A compare: no key under `prefix` was modified after revision `rev` (none exists, or all have mod_revision <= rev). */
export function unchangedSince(prefix: string, rev: number): ICompare {
  return { key: Buffer.from(prefix), range_end: prefixEnd(prefix), target: 'Mod', result: 'Less', mod_revision: rev + 1 };
}

export const putOp = (key: string, value: string): IRequestOp => ({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } });
export const deleteOp = (key: string): IRequestOp => ({ request_delete_range: { key: Buffer.from(key) } });

/**
 * One transaction: if every compare holds, the ops. Its deadline grows with
 * its size (a 20,000-key import takes seconds on a busy machine).
 */
export function txn(client: Etcd3, compare: ICompare[], success: IRequestOp[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<ITxnResponse> {
  return client.kv.txn({ compare, success, failure: [] }, { deadline: Date.now() + timeoutMs + 2 * success.length });
}
