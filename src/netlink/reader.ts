// The netlink reader: splits a reply buffer into messages and a message's
// attribute area into typed getters. Nothing is copied until a getter asks.
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from './constants.js';

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  port: number;
  /** The whole reply buffer; the message is buf[offset, offset + length). */
  buf: Buffer;
  offset: number;
  length: number;
}

/** Splits a buffer of back-to-back netlink messages. */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const length = buf.readUInt32LE(off);
    if (length < NLMSG_HDRLEN || off + length > buf.length) {
      throw new Error(`netlink: truncated message at offset ${off} (length ${length}, ${buf.length - off} bytes left)`);
    }
    out.push({
      length,
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      port: buf.readUInt32LE(off + 12),
      buf,
      offset: off,
    });
    off += (length + 3) & ~3;
  }
  return out;
}

/**
 * The attributes of one area. Lookups by type return the first occurrence;
 * `each` visits all of them in order (for lists such as nft expressions).
 */
export class Attrs {
  /**
   * Offset of the first attribute of each type, indexed by type. A plain
   * array rather than a Map: dumps build one of these per message (and per
   * nest), and attribute types are small dense numbers.
   */
  private readonly index: number[] = [];
  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
  ) {
    let off = start;
    while (off + NLA_HDRLEN <= end) {
      const len = buf[off]! | (buf[off + 1]! << 8);
      if (len < NLA_HDRLEN || off + len > end) break;
      const type = (buf[off + 2]! | (buf[off + 3]! << 8)) & NLA_TYPE_MASK;
      if (this.index[type] === undefined) this.index[type] = off;
      off += (len + 3) & ~3;
    }
  }

  /** Attributes of message `m` after a family header of `familyHeaderLen` bytes. */
  static ofMessage(m: NlMessage, familyHeaderLen: number): Attrs {
    return new Attrs(m.buf, m.offset + NLMSG_HDRLEN + familyHeaderLen, m.offset + m.length);
  }

  has(type: number): boolean {
    return this.index[type] !== undefined;
  }

  // The getters read through these two and allocate nothing: a dump decodes
  // thousands of attributes.
  /** Payload offset of the first attribute of `type`, or -1. */
  private payload(type: number): number {
    const off = this.index[type];
    return off === undefined ? -1 : off + NLA_HDRLEN;
  }
  /** Payload length of the attribute whose payload starts at `p`. */
  private lengthAt(p: number): number {
    return (this.buf[p - 4]! | (this.buf[p - 3]! << 8)) - NLA_HDRLEN;
  }

  u8(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 1 ? this.buf[p] : undefined;
  }
  u16(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 2 ? this.buf.readUInt16LE(p) : undefined;
  }
  u16be(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 2 ? this.buf.readUInt16BE(p) : undefined;
  }
  u32(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 4 ? this.buf.readUInt32LE(p) : undefined;
  }
  i32(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 4 ? this.buf.readInt32LE(p) : undefined;
  }
  u32be(type: number): number | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 4 ? this.buf.readUInt32BE(p) : undefined;
  }
  u64be(type: number): bigint | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 8 ? this.buf.readBigUInt64BE(p) : undefined;
  }
  u64(type: number): bigint | undefined {
    const p = this.payload(type);
    return p >= 0 && this.lengthAt(p) >= 8 ? this.buf.readBigUInt64LE(p) : undefined;
  }
  /** A string, up to its NUL terminator if it has one. */
  str(type: number): string | undefined {
    const p = this.payload(type);
    if (p < 0) return undefined;
    let end = p + this.lengthAt(p);
    for (let i = p; i < end; i++) {
      if (this.buf[i] === 0) {
        end = i;
        break;
      }
    }
    return this.buf.toString('utf8', p, end);
  }
  /** The raw payload (a view, not a copy). */
  bytes(type: number): Buffer | undefined {
    const p = this.payload(type);
    return p >= 0 ? this.buf.subarray(p, p + this.lengthAt(p)) : undefined;
  }
  nested(type: number): Attrs | undefined {
    const p = this.payload(type);
    return p >= 0 ? new Attrs(this.buf, p, p + this.lengthAt(p)) : undefined;
  }

  /** Visits every attribute in order: type (flags masked), payload offset and length. */
  each(fn: (type: number, offset: number, length: number) => void): void {
    let off = this.start;
    while (off + NLA_HDRLEN <= this.end) {
      const len = this.buf.readUInt16LE(off);
      if (len < NLA_HDRLEN || off + len > this.end) break;
      fn(this.buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off + NLA_HDRLEN, len - NLA_HDRLEN);
      off += (len + 3) & ~3;
    }
  }
  /** The nested areas of every attribute, in order (for lists of nests). */
  list(): Attrs[] {
    const out: Attrs[] = [];
    this.each((_t, o, l) => out.push(new Attrs(this.buf, o, o + l)));
    return out;
  }
}
