// The netlink TLV writer: one growable buffer holding many messages.
//
//   nlmsghdr   u32 len | u16 type | u16 flags | u32 seq | u32 port   (16 bytes)
//   family header (ifinfomsg, nfgenmsg, ...), written raw by the caller
//   attributes u16 len | u16 type | payload | pad to 4 bytes
//
// Nests are back-patched: nestStart() leaves the length blank and nestEnd()
// fills it in. All alignment happens in pad().
import { NLA_F_NESTED, NLA_HDRLEN, NLMSG_HDRLEN } from './constants.js';

/** Where an attribute was written, for mapping an extended-ACK offset back to a field. */
export interface TraceEntry {
  offset: number; // from the start of the message
  path: number[]; // attribute types from the outermost nest inwards
}

// Host-order (little-endian) fields as byte stores rather than Buffer's
// writeUInt32LE and friends, whose range checks and calls cost more than the
// stores themselves, most of all in a cold process where they are not yet
// compiled (a cold apply encodes a few thousand messages once). A typed
// array store keeps the value modulo 256, so signed and unsigned 32-bit
// values are written alike (the callers pass integers).
function put16(b: Buffer, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
}
function put32(b: Buffer, p: number, v: number): void {
  b[p] = v;
  b[p + 1] = v >>> 8;
  b[p + 2] = v >>> 16;
  b[p + 3] = v >>> 24;
}

export class NlWriter {
  buf: Buffer;
  pos = 0;
  private msgStart = -1;
  /** When set, every attribute's position is recorded (used only to explain errors). */
  trace: TraceEntry[] | null = null;
  private nestTypes: number[] = [];

  constructor(initialBytes = 16384) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far, sharing memory with the writer. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.msgStart = -1;
    this.nestTypes.length = 0;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private pad(): void {
    const aligned = (this.pos + 3) & ~3;
    // At most 3 bytes: a loop beats Buffer.fill's native call.
    while (this.pos < aligned) this.buf[this.pos++] = 0;
  }

  /** Starts a message; returns its offset in the buffer. */
  beginMessage(type: number, flags: number, seq: number, port = 0): number {
    this.ensure(NLMSG_HDRLEN);
    const start = this.pos;
    const b = this.buf;
    put32(b, start, 0);
    put16(b, start + 4, type);
    put16(b, start + 6, flags);
    put32(b, start + 8, seq);
    put32(b, start + 12, port);
    this.pos += NLMSG_HDRLEN;
    this.msgStart = start;
    return start;
  }

  endMessage(): void {
    this.pad();
    put32(this.buf, this.msgStart, this.pos - this.msgStart);
    this.msgStart = -1;
  }

  /** Offset of the current message, for trace entries. */
  get messageStart(): number {
    return this.msgStart;
  }

  // Raw fields of a family header (host byte order unless named *BE).
  rawU8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }
  rawU16(v: number): void {
    this.ensure(2);
    put16(this.buf, this.pos, v);
    this.pos += 2;
  }
  rawU16BE(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
  }
  rawI32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v);
    this.pos += 4;
  }
  rawU32(v: number): void {
    this.ensure(4);
    put32(this.buf, this.pos, v);
    this.pos += 4;
  }
  rawZero(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Writes an attribute header for a payload of `len` bytes; returns the payload offset. */
  private header(type: number, len: number): number {
    const need = this.pos + NLA_HDRLEN + len + 3;
    if (need > this.buf.length) this.ensure(NLA_HDRLEN + len + 3);
    if (this.trace) this.trace.push({ offset: this.pos - this.msgStart, path: [...this.nestTypes, type & 0x3fff] });
    // Byte stores rather than Buffer.writeUInt16LE: this is the hottest path of every encoder.
    const b = this.buf;
    const p = this.pos;
    const total = NLA_HDRLEN + len;
    if (total > 0xffff) throw new RangeError(`netlink attribute ${type & 0x3fff} too long (${total} bytes)`);
    b[p] = total & 0xff;
    b[p + 1] = total >>> 8;
    b[p + 2] = type & 0xff;
    b[p + 3] = (type >>> 8) & 0xff;
    this.pos = p + NLA_HDRLEN;
    return this.pos;
  }

  flag(type: number): void {
    this.header(type, 0);
  }
  u8(type: number, v: number): void {
    const at = this.header(type, 1);
    this.buf[at] = v & 0xff;
    this.pos += 1;
    this.pad();
  }
  u16(type: number, v: number): void {
    const at = this.header(type, 2);
    put16(this.buf, at, v);
    this.pos += 2;
    this.pad();
  }
  u16be(type: number, v: number): void {
    const at = this.header(type, 2);
    this.buf.writeUInt16BE(v & 0xffff, at);
    this.pos += 2;
    this.pad();
  }
  u32(type: number, v: number): void {
    const at = this.header(type, 4);
    put32(this.buf, at, v);
    this.pos += 4;
  }
  i32(type: number, v: number): void {
    const at = this.header(type, 4);
    put32(this.buf, at, v);
    this.pos += 4;
  }
  u32be(type: number, v: number): void {
    const at = this.header(type, 4);
    const b = this.buf;
    b[at] = v >>> 24;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
    this.pos += 4;
  }
  u64be(type: number, v: bigint): void {
    const at = this.header(type, 8);
    this.buf.writeBigUInt64BE(v, at);
    this.pos += 8;
  }
  u64(type: number, v: bigint): void {
    const at = this.header(type, 8);
    this.buf.writeBigUInt64LE(v, at);
    this.pos += 8;
  }
  /** A NUL-terminated string. */
  str(type: number, s: string): void {
    // Short ASCII strings (names, mostly) are copied byte by byte: cheaper than a native call.
    if (s.length <= 32) {
      const at = this.header(type, s.length + 1);
      const b = this.buf;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[at + i] = c;
      }
      if (i === s.length) {
        b[at + i] = 0;
        this.pos = at + i + 1;
        this.pad();
        return;
      }
      this.pos = at - NLA_HDRLEN; // not ASCII: start over on the general path
      if (this.trace) this.trace.pop();
    }
    const len = Buffer.byteLength(s);
    const at = this.header(type, len + 1);
    this.buf.write(s, at, len, 'utf8');
    this.buf[at + len] = 0;
    this.pos += len + 1;
    this.pad();
  }
  binary(type: number, data: Uint8Array): void {
    const at = this.header(type, data.length);
    // An address or a MAC (4 to 16 bytes) byte by byte: cheaper than set()'s native call.
    if (data.length <= 16) for (let i = 0; i < data.length; i++) this.buf[at + i] = data[i];
    else this.buf.set(data, at);
    this.pos += data.length;
    this.pad();
  }

  /** Opens a nest; pass the result to nestEnd(). `nested` sets NLA_F_NESTED (nftables wants it). */
  nestStart(type: number, nested = false): number {
    const start = this.pos;
    this.header(nested ? type | NLA_F_NESTED : type, 0);
    if (this.trace) this.nestTypes.push(type & 0x3fff);
    return start;
  }
  nestEnd(start: number): void {
    const len = this.pos - start;
    if (len > 0xffff) throw new RangeError(`netlink nest at ${start} too long (${len} bytes)`);
    this.buf[start] = len & 0xff;
    this.buf[start + 1] = len >>> 8;
    if (this.trace) this.nestTypes.pop();
  }
}
