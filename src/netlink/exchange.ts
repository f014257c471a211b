// The test-only fault that makes a netlink exchange fail for real part-way
// (native/netlink_socket.h), and the partial replies a failed one carries
// (its error is ExchangeError, src/errors.ts).

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

/** The addon's exchange with its test-only fault argument (src/native.ts leaves it out). */
export type FaultableExchange = (
  buf: Buffer,
  ends: Uint32Array,
  expects: Uint32Array,
  dump: boolean,
  fault?: ExchangeFault,
  stops?: Uint8Array,
) => Promise<Buffer>;

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
