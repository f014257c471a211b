// Fault injection for tests: a request that encodes exactly like the real one
// but with a message type no netlink family knows (the subsystem byte is
// kept, so it still lands inside an nftables batch), so the kernel itself
// refuses it. Used to prove that every phase rolls back.
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';

export class FaultRequest implements Request {
  constructor(private readonly inner: Request) {}
  describe(): string {
    return `${this.inner.describe()} [injected fault]`;
  }
  encode(w: NlWriter, seq: number): void {
    const start = w.pos;
    this.inner.encode(w, seq);
    const type = w.buf.readUInt16LE(start + 4);
    w.buf.writeUInt16LE((type & 0xff00) | 0xfe, start + 4);
  }
}

/** Raised in place of an op that cannot be made to fail in the kernel (taps, sysctls). */
export class InjectedFault extends Error {
  readonly code = 'EFAULTINJECTED';
  constructor(what: string) {
    super(`${what}: injected fault`);
    this.name = 'InjectedFault';
  }
}
