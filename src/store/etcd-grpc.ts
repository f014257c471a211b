// A unary gRPC call over Node's own HTTP/2 (node:http2), for the etcd store's
// lean channel (etcd-range.ts: full reads, an agent's status puts and its
// first lease). @grpc/grpc-js, which etcd3 uses, costs 70 to 90 ms to load
// (its modules are compiled at every start): an agent paid that before it
// could even send its first read. node:http2 is Node's, about 10 ms.
//
// gRPC over HTTP/2 (grpc/grpc, doc/PROTOCOL-HTTP2.md): a POST to
// /<package.Service>/<Method> with `content-type: application/grpc` and
// `te: trailers`; the request and the reply are each one length-prefixed
// message (a compressed-flag byte, 0 here: no grpc-encoding is offered, a
// 4-byte big-endian length, the protobuf bytes); the call's status is the
// `grpc-status` (and percent-encoded `grpc-message`) of the trailers, or of
// the headers of a reply that has no body ("trailers-only").
//
// One HTTP/2 session per URL, opened on first use and again after it closed
// or failed; it keeps the process alive only while a call is in flight. A
// call that does not reach etcd (connection refused, reset, the session
// gone) fails with UNAVAILABLE; one that has no answer by its deadline with
// DEADLINE_EXCEEDED (the stream is cancelled, and the session too when no
// other call waits on it: the next call connects again), as grpc-js names them.
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type SecureClientSessionOptions } from 'node:http2';

/** gRPC status codes (grpc/grpc doc/statuscodes.md) this channel names. */
export const GRPC_STATUS = { OK: 0, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, INTERNAL: 13, UNAVAILABLE: 14 } as const;
const NAMES: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};

/** A call that ended with a status other than OK: `code` is the gRPC status, `details` etcd's message. */
export class GrpcCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    readonly method: string,
  ) {
    super(`${code} ${NAMES[code] ?? 'STATUS'}: ${details}`);
    this.name = 'GrpcCallError';
  }
}

export interface GrpcChannelOptions {
  /** http://HOST:PORT or https://HOST:PORT. */
  url: string;
  /** TLS (https): the CA (else Node's roots), a client certificate and key (PEM). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

const percentDecoded = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** The message of a reply's body (one length-prefixed message). */
function messageOf(body: Buffer, method: string): Buffer {
  if (body.length < 5) throw new GrpcCallError(GRPC_STATUS.INTERNAL, `reply without a message (${body.length} bytes)`, method);
  if (body[0] !== 0) throw new GrpcCallError(GRPC_STATUS.INTERNAL, 'compressed reply (none was offered)', method);
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) throw new GrpcCallError(GRPC_STATUS.INTERNAL, `reply cut short (${body.length - 5} of ${len} bytes)`, method);
  return body.subarray(5, 5 + len);
}

/**
 * While a streaming call is open the session is pinged this often; a ping
 * still unanswered at the next drops it (a connection dead without a word:
 * its streams then fail and are opened again). etcd refuses pings more often
 * than its --grpc-keepalive-min-time (5 s by default).
 */
const PING_MS = 10_000;

/** One HTTP/2 session to one etcd, for unary gRPC calls. */
export class GrpcChannel {
  private session?: ClientHttp2Session;
  private inFlight = 0;
  /** Streaming calls open, and the timer that pings their session meanwhile. */
  private streams = 0;
  private pinger?: NodeJS.Timeout;
  private pinging = false;
  private readonly origin: string;
  private readonly secure: boolean;

  constructor(private readonly o: GrpcChannelOptions) {
    this.secure = o.url.startsWith('https://') || !!o.tls;
    this.origin = `${this.secure ? 'https' : 'http'}://${o.url.replace(/^https?:\/\//, '').replace(/\/$/, '')}`;
  }

  /** The session, opened if there is none usable. */
  private open(): ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const opts: SecureClientSessionOptions = {};
    if (this.o.tls?.ca) opts.ca = this.o.tls.ca;
    if (this.o.tls?.cert) opts.cert = this.o.tls.cert;
    if (this.o.tls?.key) opts.key = this.o.tls.key;
    const next = connect(this.origin, opts);
    // Errors reach the calls through their streams; the session's own is only dropped.
    next.on('error', () => undefined);
    next.on('goaway', () => this.session === next && (this.session = undefined));
    next.on('close', () => this.session === next && (this.session = undefined));
    if (this.inFlight === 0) next.unref();
    this.session = next;
    this.pinging = false;
    return next;
  }

  /** Resolves once the session is connected; rejects on its error or after `deadline` (ms since the epoch). */
  ready(deadline: number): Promise<void> {
    const s = this.open();
    if (s.connecting === false && !s.destroyed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => done(new GrpcCallError(GRPC_STATUS.DEADLINE_EXCEEDED, 'not connected before the deadline', 'connect')),
        deadline - Date.now(),
      );
      const done = (err?: Error) => {
        clearTimeout(timer);
        s.off('connect', ok);
        s.off('error', done);
        if (err) reject(err);
        else resolve();
      };
      const ok = () => done();
      s.once('connect', ok);
      s.once('error', done);
    });
  }

  /** One unary call: the request's message bytes in, the reply's out; fails with a GrpcCallError. */
  unary(method: string, message: Buffer, deadline: number): Promise<Buffer> {
    const ms = Math.max(1, deadline - Date.now());
    let session: ClientHttp2Session;
    let stream: ClientHttp2Stream;
    try {
      session = this.open();
      stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers', 'grpc-timeout': `${ms}m` });
    } catch (err) {
      return Promise.reject(new GrpcCallError(GRPC_STATUS.UNAVAILABLE, (err as Error).message, method));
    }
    if (this.inFlight++ === 0) session.ref();
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.close(constants.NGHTTP2_CANCEL);
        // A connection that answered nothing in time may be dead without a word (a peer gone, a network cut): the
        // next call opens a new one rather than waiting on it (unless other calls are still waiting on it).
        if (this.inFlight === 1 && this.session === session) this.drop(session);
        reject(new GrpcCallError(GRPC_STATUS.DEADLINE_EXCEEDED, `Deadline exceeded after ${ms} ms`, method));
      }, ms);
      replyOf(stream, method)
        .then(resolve, reject)
        .finally(() => clearTimeout(timer));
    });
    stream.end(framed(message));
    return reply.finally(() => {
      if (--this.inFlight === 0 && !session.destroyed) session.unref();
    });
  }

  /**
   * A streaming call (etcd's Watch): `first` is sent at once, each message
   * of the reply goes to `onMessage` as it arrives, and `onEnd` is called
   * once, when the call ends (undefined: with status OK; else the
   * GrpcCallError, UNAVAILABLE when the stream broke). The session is kept
   * alive (ref'd) while the call is open.
   */
  stream(method: string, first: Buffer, onMessage: (m: Buffer) => void, onEnd: (err?: GrpcCallError) => void): GrpcStream {
    let session: ClientHttp2Session;
    let stream: ClientHttp2Stream;
    try {
      session = this.open();
      stream = session.request({ ':method': 'POST', ':path': method, 'content-type': 'application/grpc', te: 'trailers' });
    } catch (err) {
      const e = new GrpcCallError(GRPC_STATUS.UNAVAILABLE, (err as Error).message, method);
      queueMicrotask(() => onEnd(e));
      return { send: () => undefined, cancel: () => undefined };
    }
    if (this.inFlight++ === 0) session.ref();
    if (this.streams++ === 0) this.startPinging();
    let ended = false;
    const end = (err?: GrpcCallError) => {
      if (ended) return;
      ended = true;
      if (--this.inFlight === 0 && !session.destroyed) session.unref();
      if (--this.streams === 0) clearInterval(this.pinger);
      onEnd(err);
    };
    streamReplies(stream, method, onMessage, end);
    const send = (m: Buffer) => {
      if (!ended && !stream.destroyed) stream.write(framed(m));
    };
    send(first);
    return {
      send,
      cancel: () => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
        end(new GrpcCallError(1, 'cancelled', method));
      },
    };
  }

  /** Forgets `s` and closes it at once. */
  private drop(s: ClientHttp2Session): void {
    if (this.session === s) {
      this.session = undefined;
      this.pinging = false;
    }
    s.destroy();
  }

  /** Drops the session (it answered nothing): its calls fail, the next ones connect again. */
  reset(): void {
    if (this.session) this.drop(this.session);
  }

  private startPinging(): void {
    this.pinging = false;
    this.pinger = setInterval(() => {
      const s = this.session;
      if (!s || s.destroyed || s.connecting) return;
      if (this.pinging) return this.drop(s);
      this.pinging = true;
      s.ping((err) => {
        if (this.session !== s) return;
        this.pinging = false;
        if (err) this.drop(s);
      });
    }, PING_MS);
    this.pinger.unref();
  }

  close(): void {
    clearInterval(this.pinger);
    this.session?.close();
    this.session = undefined;
  }
}

/** One length-prefixed message (not compressed). */
function framed(message: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/** An open streaming call: send() writes one more request message, cancel() ends it (onEnd gets CANCELLED). */
export interface GrpcStream {
  send(message: Buffer): void;
  cancel(): void;
}

/** The status of a call from its headers or trailers, if they carry one. */
function statusIn(h: IncomingHttpHeaders): { status: number; details: string } | undefined {
  const s = h['grpc-status'];
  if (typeof s !== 'string') return undefined;
  return { status: Number(s), details: percentDecoded(typeof h['grpc-message'] === 'string' ? h['grpc-message'] : '') };
}

/** Splits a streaming reply into its messages (a message may span chunks, a chunk hold several); then its end. */
function streamReplies(stream: ClientHttp2Stream, method: string, onMessage: (m: Buffer) => void, end: (err?: GrpcCallError) => void): void {
  let pending: Buffer | undefined;
  let st: { status: number; details: string } | undefined;
  let httpStatus = 0;
  stream.on('response', (h) => {
    httpStatus = Number(h[':status']);
    st = statusIn(h) ?? st;
  });
  stream.on('trailers', (h: IncomingHttpHeaders) => (st = statusIn(h) ?? st));
  stream.on('data', (c: Buffer) => {
    let buf = pending ? Buffer.concat([pending, c]) : c;
    pending = undefined;
    while (buf.length >= 5) {
      if (buf[0] !== 0) {
        stream.close(constants.NGHTTP2_CANCEL);
        return end(new GrpcCallError(GRPC_STATUS.INTERNAL, 'compressed reply (none was offered)', method));
      }
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      onMessage(buf.subarray(5, 5 + len));
      buf = buf.subarray(5 + len);
    }
    if (buf.length) pending = Buffer.from(buf);
  });
  stream.on('error', (err: Error) => end(new GrpcCallError(GRPC_STATUS.UNAVAILABLE, err.message, method)));
  stream.on('close', () => {
    if (!st) {
      const why = httpStatus ? `HTTP status ${httpStatus} without a gRPC status` : `the stream closed (code ${stream.rstCode ?? '?'}) without an answer`;
      return end(new GrpcCallError(httpStatus && httpStatus !== 503 ? GRPC_STATUS.UNKNOWN : GRPC_STATUS.UNAVAILABLE, why, method));
    }
    end(st.status === GRPC_STATUS.OK ? undefined : new GrpcCallError(st.status, st.details, method));
  });
}

/** The reply of one call's stream: its message, or a GrpcCallError with the call's status (UNAVAILABLE when the stream broke). */
function replyOf(stream: ClientHttp2Stream, method: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let details = '';
    let httpStatus = 0;
    let failed = false;
    const statusOf = (h: IncomingHttpHeaders) => {
      const s = h['grpc-status'];
      if (typeof s !== 'string') return;
      status = Number(s);
      details = percentDecoded(typeof h['grpc-message'] === 'string' ? h['grpc-message'] : '');
    };
    stream.on('response', (h) => {
      httpStatus = Number(h[':status']);
      statusOf(h);
    });
    stream.on('trailers', statusOf);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', (err: Error) => {
      failed = true;
      reject(new GrpcCallError(GRPC_STATUS.UNAVAILABLE, err.message, method));
    });
    stream.on('close', () => {
      if (failed) return;
      if (status === undefined) {
        const why = httpStatus ? `HTTP status ${httpStatus} without a gRPC status` : `the stream closed (code ${stream.rstCode ?? '?'}) without an answer`;
        return reject(new GrpcCallError(httpStatus && httpStatus !== 503 ? GRPC_STATUS.UNKNOWN : GRPC_STATUS.UNAVAILABLE, why, method));
      }
      if (status !== GRPC_STATUS.OK) return reject(new GrpcCallError(status, details, method));
      try {
        resolve(messageOf(Buffer.concat(chunks), method));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
