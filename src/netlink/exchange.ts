// A netlink exchange that failed part-way, and the test-only fault that makes
// one fail for real (native/netlink_socket.h).
import type { Reply } from './socket.js';

/**
 * Test-only: makes one exchange fail for real at chunk `chunk` (see
 * native/netlink_socket.h): `rcvbuf` shrinks the receive buffer for that chunk
 * so that the kernel drops replies (ENOBUFS); `sendErrno` fails its sendto().
 */
export interface ExchangeFault {
  chunk: number;
  rcvbuf?: number;
  sendErrno?: number;
}

/**
 * run() failed part-way (a later chunk's sendto, ENOBUFS, a timeout). `replies`
 * has one entry per request: the kernel's answer where it arrived; for the
 * others an error saying why there is none. `unknown` lists the requests the
 * kernel was given but whose answer was lost (applied or not: nobody knows);
 * `unsent` those it never saw (not applied).
 */
export class ExchangeError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(
    override readonly cause: Error & { errno: number; code: string },
    readonly replies: Reply[],
    readonly unknown: number[],
    readonly unsent: number[],
  ) {
    const answered = replies.length - unknown.length - unsent.length;
    super(`${cause.message}; ${answered} of ${replies.length} requests answered, ${unknown.length} with an unknown outcome, ${unsent.length} not sent`);
    this.name = 'ExchangeError';
    this.errno = cause.errno;
    this.code = cause.code;
    if (cause.stack) this.stack = `${this.name}: ${this.message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  }
}

/** The addon's exchange with its test-only fault argument (src/native.ts leaves it out). */
export type FaultableExchange = (buf: Buffer, ends: Uint32Array, expects: Uint32Array, dump: boolean, fault?: ExchangeFault) => Promise<Buffer>;

/** What the addon attaches to a failed exchange: replies received so far, chunks sent. */
export interface PartialExchange {
  partial?: Buffer;
  chunksSent?: number;
}

/** Carries the addon's partial replies and chunk count over to the converted error. */
export function keepPartial(raw: unknown, converted: Error): Error {
  const r = raw as PartialExchange;
  if (r && typeof r.chunksSent === 'number') Object.assign(converted, { partial: r.partial, chunksSent: r.chunksSent });
  return converted;
}
