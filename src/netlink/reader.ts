// The netlink reader: splits a reply buffer into messages and a message's
// attribute area into typed getters. Nothing is copied until a getter asks.
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from './constants.js';
import { DecodeError } from '../errors.js';

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

/** The unsigned little-endian 32-bit field at `p` (the caller has checked that it is in the buffer). */
const le32 = (b: Buffer, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;

/**
 * Splits a buffer of back-to-back netlink messages. Throws DecodeError when a
 * message's length is shorter than its header or runs past the buffer, or
 * when bytes are left over that cannot hold a header.
 */
export function splitMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    const left = buf.length - off;
    if (left < NLMSG_HDRLEN) {
      throw new DecodeError('netlink message', off, `${left} trailing bytes, too few for a message header (${NLMSG_HDRLEN})`);
    }
    // Byte reads rather than readUInt32LE and friends (a range check and a call
    // each): a dump of a thousand links is split once, often in a cold process.
    const length = le32(buf, off);
    if (length < NLMSG_HDRLEN || length > left) {
      throw new DecodeError('netlink message', off, `length ${length} (a message is at least ${NLMSG_HDRLEN} bytes; ${left} left)`);
    }
    out.push({
      length,
      type: buf[off + 4] | (buf[off + 5] << 8),
      flags: buf[off + 6] | (buf[off + 7] << 8),
      seq: le32(buf, off + 8),
      port: le32(buf, off + 12),
      buf,
      offset: off,
    });
    off += (length + 3) & ~3;
  }
  return out;
}

/**
 * Where the attributes of message `m` start, after a family header of
 * `familyHeaderLen` bytes. Throws DecodeError, naming `what`, if the message
 * cannot hold that header: decoders call this before they read the header.
 */
export function attrsStart(m: NlMessage, familyHeaderLen: number, what: string): number {
  if (m.length < NLMSG_HDRLEN + familyHeaderLen || m.offset + m.length > m.buf.length) {
    const need = NLMSG_HDRLEN + familyHeaderLen;
    throw new DecodeError(what, m.offset, `message length ${m.length} (its headers take ${need} bytes; ${m.buf.length - m.offset} in the buffer)`);
  }
  return m.offset + NLMSG_HDRLEN + familyHeaderLen;
}

/** The string in buf[p, p + n), up to its NUL terminator if it has one. */
export function strAt(buf: Buffer, p: number, n: number): string {
  let end = p + n;
  for (let i = p; i < end; i++) {
    if (buf[i] === 0) {
      end = i;
      break;
    }
  }
  return buf.toString('utf8', p, end);
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
  /**
   * Checks the whole area as it indexes it: every attribute's length is at
   * least its header and stays inside the area, and no bytes are left that
   * cannot be an attribute (DecodeError otherwise). `what` names the area in
   * errors ("RTM_NEWLINK"); nests inherit it.
   */
  constructor(
    readonly buf: Buffer,
    readonly start: number,
    readonly end: number,
    readonly what = 'netlink attributes',
  ) {
    let off = start;
    while (off < end) {
      const left = end - off;
      if (left < NLA_HDRLEN) throw new DecodeError(what, off, `${left} trailing bytes, too few for an attribute header`);
      const len = buf[off] | (buf[off + 1] << 8);
      const type = (buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || len > left) {
        throw new DecodeError(what, off, `attribute type ${type} has length ${len} (at least ${NLA_HDRLEN}; ${left} bytes left)`);
      }
      if (this.index[type] === undefined) this.index[type] = off;
      off += (len + 3) & ~3;
    }
  }

  /**
   * Attributes of message `m` after a family header of `familyHeaderLen`
   * bytes. Throws DecodeError, naming `what`, if the message cannot hold that
   * header: decoders call this before they read the header.
   */
  static ofMessage(m: NlMessage, familyHeaderLen: number, what = 'netlink message'): Attrs {
    return new Attrs(m.buf, attrsStart(m, familyHeaderLen, what), m.offset + m.length, what);
  }

  has(type: number): boolean {
    return this.index[type] !== undefined;
  }

  // The getters read through these and allocate nothing: a dump decodes
  // thousands of attributes.
  /** Payload offset of the first attribute of `type`, or -1. */
  private payload(type: number): number {
    const off = this.index[type];
    return off === undefined ? -1 : off + NLA_HDRLEN;
  }
  /** Payload length of the attribute whose payload starts at `p`. */
  private lengthAt(p: number): number {
    return (this.buf[p - 4] | (this.buf[p - 3] << 8)) - NLA_HDRLEN;
  }
  /** Payload offset of `type` if it holds at least `n` bytes; -1 if absent; DecodeError if shorter. */
  private sized(type: number, n: number): number {
    const p = this.payload(type);
    if (p >= 0 && this.lengthAt(p) < n) {
      throw new DecodeError(this.what, p - NLA_HDRLEN, `attribute type ${type} has ${this.lengthAt(p)} bytes, needs ${n}`);
    }
    return p;
  }

  u8(type: number): number | undefined {
    const p = this.sized(type, 1);
    return p >= 0 ? this.buf[p] : undefined;
  }
  u16(type: number): number | undefined {
    const p = this.sized(type, 2);
    return p >= 0 ? this.buf.readUInt16LE(p) : undefined;
  }
  u16be(type: number): number | undefined {
    const p = this.sized(type, 2);
    return p >= 0 ? this.buf.readUInt16BE(p) : undefined;
  }
  u32(type: number): number | undefined {
    const p = this.sized(type, 4);
    return p >= 0 ? this.buf.readUInt32LE(p) : undefined;
  }
  i32(type: number): number | undefined {
    const p = this.sized(type, 4);
    return p >= 0 ? this.buf.readInt32LE(p) : undefined;
  }
  u32be(type: number): number | undefined {
    const p = this.sized(type, 4);
    return p >= 0 ? this.buf.readUInt32BE(p) : undefined;
  }
  u64be(type: number): bigint | undefined {
    const p = this.sized(type, 8);
    return p >= 0 ? this.buf.readBigUInt64BE(p) : undefined;
  }
  u64(type: number): bigint | undefined {
    const p = this.sized(type, 8);
    return p >= 0 ? this.buf.readBigUInt64LE(p) : undefined;
  }
  /** A string, up to its NUL terminator if it has one. */
  str(type: number): string | undefined {
    const p = this.payload(type);
    return p < 0 ? undefined : strAt(this.buf, p, this.lengthAt(p));
  }
  /** The raw payload (a view, not a copy). */
  bytes(type: number): Buffer | undefined {
    const p = this.payload(type);
    return p >= 0 ? this.buf.subarray(p, p + this.lengthAt(p)) : undefined;
  }
  /** The raw payload, which must be exactly `n` bytes (an address): DecodeError otherwise. */
  exact(type: number, n: number): Buffer | undefined {
    const p = this.payload(type);
    if (p < 0) return undefined;
    const len = this.lengthAt(p);
    if (len !== n) throw new DecodeError(this.what, p - NLA_HDRLEN, `attribute type ${type} has ${len} bytes, expected ${n}`);
    return this.buf.subarray(p, p + n);
  }
  nested(type: number): Attrs | undefined {
    const p = this.payload(type);
    return p >= 0 ? new Attrs(this.buf, p, p + this.lengthAt(p), this.what) : undefined;
  }

  /** Visits every attribute in order: type (flags masked), payload offset and length. */
  each(fn: (type: number, offset: number, length: number) => void): void {
    // The constructor checked every length in the area.
    let off = this.start;
    while (off < this.end) {
      const len = this.buf.readUInt16LE(off);
      fn(this.buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, off + NLA_HDRLEN, len - NLA_HDRLEN);
      off += (len + 3) & ~3;
    }
  }
  /** The nested areas of every attribute, in order (for lists of nests). */
  list(): Attrs[] {
    const out: Attrs[] = [];
    this.each((_t, o, l) => out.push(new Attrs(this.buf, o, o + l, this.what)));
    return out;
  }
}
