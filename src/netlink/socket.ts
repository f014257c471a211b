// A netlink connection: sequence numbers, pipelined requests, acks matched to
// requests, multipart dumps, and extended-ACK errors mapped back to the op and
// the attribute that caused them (ack.ts).

import { addon, ERRNO, nativeError, type NativeSocket } from '../native.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP_INTR } from './constants.js';
import { NetlinkError } from '../errors.js';
import { ExchangeError } from '../errors.js';
import { netnsTarget, type Netns } from '../sys/netns-path.js';
import { keepPartial, type ExchangeFault, type FaultableExchange, type PartialExchange } from './exchange.js';
export type { ExchangeFault } from './exchange.js';
import { matchReplies } from './match.js';
import { splitMessages, type NlMessage } from './reader.js';
import { NlWriter } from './writer.js';

/** One request message. `encode` writes exactly one message, with NLM_F_REQUEST | NLM_F_ACK. */
export interface Request {
  describe(): string;
  encode(w: NlWriter, seq: number): void;
  /** Names an attribute path (types from the outermost nest in) for error messages. */
  attrName?(path: number[]): string;
}

/** runSteps()'s exchange encoded ahead of it (encodeSteps()). */
export interface EncodedSteps {
  readonly steps: readonly (readonly Request[])[];
  readonly flat: Request[];
  readonly buf: Buffer;
  readonly ends: number[];
  readonly expects: number[];
  readonly first: number;
  readonly stops: Uint8Array;
  readonly chunkOf: Uint32Array;
}

/** run()'s exchange encoded ahead of it (encodeRun()). */
export interface EncodedRun {
  readonly requests: readonly Request[];
  readonly buf: Buffer;
  readonly ends: number[];
  readonly expects: number[];
  readonly first: number;
}

export interface Reply {
  /** Data messages the kernel sent for this request (a GET's answer). */
  messages: NlMessage[];
  error?: NetlinkError;
}

/** How many requests share one sendto(); their acks must fit the receive buffer. */
export const PIPELINE_CHUNK = 256;
/**
 * A dump the kernel marks interrupted is run again: the first few times at
 * once, then after a pause that doubles (1, 2, 4... ms, at most 32): a run of
 * changes (a batch of addresses added) lasts longer than several dumps, and
 * retries that all fall inside it would give up while the table is about to
 * settle. About a second of retrying in all before EINTR.
 */
const DUMP_RETRIES_AT_ONCE = 3;
const MAX_DUMP_RETRIES = 40;
const dumpRetryPauseMs = (attempt: number) => Math.min(32, 2 ** (attempt - DUMP_RETRIES_AT_ONCE));

export type { Netns };

const settled = (): undefined => undefined;

export { decodeError, requestError, type DecodedError } from './ack.js';
import { decodeError, requestError } from './ack.js';

export class NetlinkConnection {
  private readonly sock: NativeSocket;
  private seq = (Math.random() * 0x40000000) >>> 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Exchanges queued or in flight; close() waits for them. */
  private pending = 0;
  private readonly writer = new NlWriter(64 * 1024);
  closed = false;
  /** Dumps the kernel marked NLM_F_DUMP_INTR (changed while dumped) and that were therefore run again. */
  dumpsRetried = 0;
  /** Test-only: asked before each run(); a fault it returns makes that exchange fail for real. */
  testFault?: (requests: readonly Request[]) => ExchangeFault | undefined;

  constructor(
    readonly protocol: number,
    readonly netns?: Netns,
  ) {
    try {
      this.sock = new addon.NetlinkSocket(protocol, netnsTarget(netns));
    } catch (err) {
      throw nativeError(err, `open netlink socket${netns !== undefined ? ` in netns ${netns}` : ''}`);
    }
  }

  /**
   * The socket's netlink port id: notifications of changes made through this
   * connection carry it as their nlmsg_pid (see src/events/).
   */
  get port(): number {
    return this.sock.port;
  }

  /** Reserves `n` consecutive sequence numbers and returns the first. */
  nextSeq(n = 1): number {
    const s = this.seq;
    this.seq = (this.seq + n) >>> 0;
    if (this.seq > 0xfffff000) this.seq = 1;
    return s;
  }

  /**
   * Closes the socket. Exchanges already queued still complete (the socket is
   * closed after the last one); anything asked for afterwards fails with EBADF.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending === 0) this.sock.close();
    else void this.queue.then(() => this.sock.close());
  }

  /** No exchange queued or in flight: a synchronous one (exchangeSync) may run now without interleaving. */
  get idle(): boolean {
    return this.pending === 0 && !this.closed;
  }

  private closedError(site: Error): Error {
    return nativeError({ errno: ERRNO.EBADF, syscall: 'exchange', message: 'the connection is closed' }, 'netlink exchange', site);
  }

  /**
   * Sends pre-encoded bytes. The native side is one-at-a-time per socket, so
   * calls are queued. `chunkEnds` splits the buffer into sendto() calls,
   * `expects` says how many NLMSG_ERROR replies each chunk must produce.
   */
  exchange(buf: Buffer, chunkEnds: number[], expects: number[], dump: boolean, fault?: ExchangeFault, stops?: Uint8Array): Promise<Buffer> {
    const site = new Error();
    if (this.closed) return Promise.reject(this.closedError(site));
    this.pending++;
    const run = async () => {
      try {
        const sock = this.sock as unknown as { exchange: FaultableExchange };
        return await sock.exchange(buf, Uint32Array.from(chunkEnds), Uint32Array.from(expects), dump, fault, stops);
      } catch (err) {
        throw keepPartial(err, nativeError(err, 'netlink exchange', site));
      } finally {
        this.pending--;
      }
    };
    // With nothing queued the exchange starts now rather than a microtask
    // later: a caller can then compute while the kernel answers (reconcile).
    const p = this.pending === 1 ? run() : this.queue.then(run, run);
    // The queue holds the exchange's end, not its reply: that would keep a dump's buffer from the addon's pool (gather_buffer.h).
    this.queue = p.then(settled, settled);
    return p;
  }

  exchangeSync(buf: Buffer, chunkEnds: number[], expects: number[], dump: boolean): Buffer {
    if (this.closed) throw this.closedError(new Error());
    try {
      return this.sock.exchangeSync(buf, Uint32Array.from(chunkEnds), Uint32Array.from(expects), dump);
    } catch (err) {
      throw keepPartial(err, nativeError(err, 'netlink exchange'));
    }
  }

  /**
   * The ifindexes of the links named `names` in the connection's namespace,
   * 0 for a name no link has: SIOCGIFINDEX on the socket, which the kernel
   * answers for the socket's own namespace, at once, with no message to
   * decode and no hop to a worker thread (native/netlink_socket.h).
   */
  ifindexes(names: readonly string[]): Int32Array {
    if (this.closed) throw this.closedError(new Error());
    try {
      return this.sock.ifindexes(names);
    } catch (err) {
      throw nativeError(err, 'link lookup by name');
    }
  }

  /**
   * Encodes `requests` into one buffer, cut into sendto() chunks of at most
   * `chunk` requests and at each of `stepEnds` (request counts, ascending),
   * where `stops` flags the chunk. `chunkOf` is each request's chunk.
   */
  private encode(requests: readonly Request[], chunk: number, stepEnds: readonly number[] = []) {
    const w = this.writer;
    w.reset();
    const first = this.nextSeq(requests.length);
    const ends: number[] = [];
    const expects: number[] = [];
    const stops: number[] = [];
    const chunkOf = new Uint32Array(requests.length);
    let inChunk = 0;
    let step = 0;
    for (let i = 0; i < requests.length; i++) {
      requests[i].encode(w, (first + i) >>> 0);
      chunkOf[i] = ends.length;
      inChunk++;
      const stepEnd = stepEnds[step] === i + 1;
      if (stepEnd) step++;
      if (inChunk === chunk || stepEnd || i === requests.length - 1) {
        ends.push(w.pos);
        expects.push(inChunk);
        stops.push(stepEnd ? 1 : 0);
        inChunk = 0;
      }
    }
    // Copy: the writer is reused while the native side may still read.
    return { buf: Buffer.from(w.bytes()), ends, expects, first, stops: Uint8Array.from(stops), chunkOf };
  }

  /** Matches replies to requests by sequence number; `acked` marks those with an NLMSG_ERROR. */
  private match(requests: readonly Request[], first: number, reply: Buffer, opIndexBase?: number) {
    return matchReplies(requests, first, reply, opIndexBase);
  }

  private decode(requests: readonly Request[], first: number, reply: Buffer, opIndexBase?: number): Reply[] {
    const { out, acked } = this.match(requests, first, reply, opIndexBase);
    for (let i = 0; i < requests.length; i++) {
      if (!acked[i]) {
        out[i].error = new NetlinkError(62 /* ETIME */, { op: `${requests[i].describe()} (no reply from the kernel)` });
      }
    }
    return out;
  }

  /**
   * The ExchangeError for an exchange that failed part-way: the answers that
   * came, and for each request without one whether the kernel saw it.
   */
  private partialError(requests: readonly Request[], first: number, err: unknown, opIndexBase?: number, chunkOf?: Uint32Array): unknown {
    const e = err as Error & PartialExchange & { errno?: number; code?: string };
    if (!e || typeof e.errno !== 'number' || typeof e.chunksSent !== 'number') return err;
    const { out, acked } = this.match(requests, first, e.partial ?? Buffer.alloc(0), opIndexBase);
    const unknown: number[] = [];
    const unsent: number[] = [];
    for (let i = 0; i < requests.length; i++) {
      if (acked[i]) continue;
      const seen = (chunkOf ? chunkOf[i] : Math.floor(i / PIPELINE_CHUNK)) < e.chunksSent;
      (seen ? unknown : unsent).push(i);
      const why = seen ? `outcome unknown: its answer was lost (${e.code})` : `not sent (${e.code})`;
      out[i].error = new NetlinkError(e.errno, { op: `${requests[i].describe()} (${why})` });
    }
    return new ExchangeError(e as Error & { errno: number; code: string }, out, unknown, unsent);
  }

  /**
   * Sends every request pipelined, PIPELINE_CHUNK per sendto(), and returns one
   * reply per request. The kernel handles each independently: one failing does
   * not stop the rest, so callers look at every reply. If the exchange itself
   * fails part-way, throws an ExchangeError carrying the answers received.
   */
  async run(requests: readonly Request[], opIndexBase?: number, encoded?: EncodedRun): Promise<Reply[]> {
    if (requests.length === 0) return [];
    if (encoded && encoded.requests !== requests) throw new Error("eucanet: internal error: run() given another exchange's encoding");
    const { buf, ends, expects, first } = encoded ?? this.encode(requests, PIPELINE_CHUNK);
    let reply: Buffer;
    try {
      reply = await this.exchange(buf, ends, expects, false, this.testFault?.(requests));
    } catch (err) {
      throw this.partialError(requests, first, err, opIndexBase);
    }
    return this.decode(requests, first, reply, opIndexBase);
  }

  /**
   * Several dependent steps of requests in one exchange (one hop to the
   * worker thread): the kernel handles them in order, and the exchange stops
   * after the first step that had a refusal, so the steps after it are never
   * sent, just as if each step had been its own run(). Returns each step's
   * replies and how many steps were sent; the replies of steps not sent are
   * empty. Steps must not be empty. If the exchange itself fails part-way,
   * throws an ExchangeError over all the requests, flattened in order.
   */
  async runSteps(steps: readonly (readonly Request[])[], encoded?: EncodedSteps): Promise<{ replies: Reply[][]; sent: number }> {
    if (encoded && encoded.steps !== steps) throw new Error("eucanet: internal error: runSteps() given another exchange's encoding");
    const e = encoded ?? this.encodeSteps(steps);
    if (!e) return { replies: [], sent: 0 };
    const { flat, buf, ends, expects, first, stops, chunkOf } = e;
    let reply: Buffer;
    try {
      reply = await this.exchange(buf, ends, expects, false, this.testFault?.(flat), stops);
    } catch (err) {
      throw this.partialError(flat, first, err, undefined, chunkOf);
    }
    const { out, acked } = this.match(flat, first, reply);
    const replies: Reply[][] = [];
    let sent = steps.length;
    let at = 0;
    steps.forEach((s, k) => {
      const these: Reply[] = k < sent ? out.slice(at, at + s.length) : s.map(() => ({ messages: [] }));
      if (k < sent) {
        these.forEach((r, i) => {
          if (!acked[at + i]) r.error = new NetlinkError(62 /* ETIME */, { op: `${s[i].describe()} (no reply from the kernel)` });
        });
        // Nothing after a step with a refusal was sent.
        if (these.some((r) => r.error)) sent = k + 1;
      }
      replies.push(these);
      at += s.length;
    });
    return { replies, sent };
  }

  /**
   * Encodes runSteps()'s exchange ahead of it (sequence numbers reserved), so
   * that a caller can do it while an earlier exchange waits for the kernel;
   * undefined when there is nothing to send. Steps must not be empty.
   */
  encodeSteps(steps: readonly (readonly Request[])[]): EncodedSteps | undefined {
    if (steps.some((s) => s.length === 0)) throw new Error('eucanet: internal error: runSteps() given an empty step');
    // concat(), not flat(): V8's flat() takes the generic path, about 100 times slower for hundreds of requests.
    const flat = ([] as Request[]).concat(...steps);
    if (flat.length === 0) return undefined;
    const stepEnds: number[] = [];
    for (const s of steps) stepEnds.push((stepEnds.at(-1) ?? 0) + s.length);
    return { steps, flat, ...this.encode(flat, PIPELINE_CHUNK, stepEnds) };
  }

  /** Encodes run()'s exchange ahead of it (sequence numbers reserved), as encodeSteps() does for runSteps(). */
  encodeRun(requests: readonly Request[]): EncodedRun {
    return { requests, ...this.encode(requests, PIPELINE_CHUNK) };
  }

  /** The synchronous twin of run(), for benchmarks. */
  runSync(requests: readonly Request[], opIndexBase?: number): Reply[] {
    if (requests.length === 0) return [];
    const { buf, ends, expects, first } = this.encode(requests, PIPELINE_CHUNK);
    let reply: Buffer;
    try {
      reply = this.exchangeSync(buf, ends, expects, false);
    } catch (err) {
      throw this.partialError(requests, first, err, opIndexBase);
    }
    return this.decode(requests, first, reply, opIndexBase);
  }

  /** Sends requests and throws the first error. */
  async runAll(requests: readonly Request[]): Promise<Reply[]> {
    const replies = await this.run(requests);
    for (const r of replies) if (r.error) throw r.error;
    return replies;
  }

  /**
   * Several dumps (or GETs that ask for an ack) in one exchange, one request
   * per sendto(): one hop to the worker thread instead of one per dump. Each
   * result is that request's data messages, in order. A dump the kernel marks
   * interrupted (NLM_F_DUMP_INTR) is run again on its own (dump()).
   */
  async dumps(reqs: readonly Request[]): Promise<NlMessage[][]> {
    if (reqs.length === 0) return [];
    const { buf, ends, first } = this.encode(reqs, 1);
    const reply = await this.exchange(
      buf,
      ends,
      ends.map(() => 0),
      true,
    );
    const out = reqs.map((): NlMessage[] => []);
    const ended = new Uint8Array(reqs.length);
    const interrupted = new Set<number>();
    // An index loop: no iterator result per message (thousands in a re-apply's dumps).
    const msgs = splitMessages(reply);
    for (let k = 0; k < msgs.length; k++) {
      const m = msgs[k];
      const i = (m.seq - first) >>> 0;
      if (i >= reqs.length || ended[i]) continue;
      if (m.flags & NLM_F_DUMP_INTR) interrupted.add(i);
      if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE) {
        const e =
          m.type === NLMSG_ERROR ? decodeError(m) : { errno: m.length >= NLMSG_HDRLEN + 4 ? -m.buf.readInt32LE(m.offset + NLMSG_HDRLEN) : 0, seq: m.seq };
        if (e.errno > 0) throw requestError(reqs[i], e);
        ended[i] = 1;
        continue;
      }
      out[i].push(m);
    }
    for (const i of interrupted) {
      this.dumpsRetried++;
      out[i] = await this.dump(reqs[i]);
    }
    return out;
  }

  /** A multipart dump. Retries when the kernel flags it as interrupted (NLM_F_DUMP_INTR). */
  async dump(req: Request): Promise<NlMessage[]> {
    for (let attempt = 0; ; attempt++) {
      const { buf, first } = this.encode([req], 1);
      const reply = await this.exchange(buf, [buf.length], [0], true);
      const out: NlMessage[] = [];
      let interrupted = false;
      for (const m of splitMessages(reply)) {
        if (m.seq !== first) continue;
        if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m.type === NLMSG_ERROR) {
          const e = decodeError(m);
          if (e.errno !== 0) throw requestError(req, e);
          continue;
        }
        if (m.type === NLMSG_DONE) {
          const status = m.length >= NLMSG_HDRLEN + 4 ? m.buf.readInt32LE(m.offset + NLMSG_HDRLEN) : 0;
          if (status < 0) throw requestError(req, { errno: -status, seq: m.seq });
          break;
        }
        out.push(m);
      }
      if (!interrupted) return out;
      this.dumpsRetried++;
      if (attempt >= MAX_DUMP_RETRIES) {
        throw new NetlinkError(4 /* EINTR */, { op: `${req.describe()} (dump kept changing)` });
      }
      if (attempt >= DUMP_RETRIES_AT_ONCE) await new Promise((resolve) => setTimeout(resolve, dumpRetryPauseMs(attempt)));
    }
  }
}
