// Mutations of real kernel replies for the decoder fuzz test: bit flips, byte
// sets, truncations, edits of message and attribute length fields (at offsets
// known to hold them), splices from other replies, and pure random bytes.
import type { Rng } from './prng.js';
import type { Family, Seed } from './seeds.js';

/** A seed ready for mutation: its bytes and where its length fields are. */
export interface Corpus {
  name: string;
  family: Family;
  bytes: Buffer;
  /** Offsets of netlink message headers (u32 length). */
  messages: number[];
  /** Offsets of attribute headers (u16 length), nests walked where they parse. */
  attrs: number[];
}

/** Offsets of attribute headers in [start, end), and recursively in payloads that parse as attributes. */
function walkAttrs(b: Buffer, start: number, end: number, out: number[], depth: number): boolean {
  const found: number[] = [];
  let off = start;
  while (off + 4 <= end) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > end) return false;
    found.push(off);
    off += (len + 3) & ~3;
  }
  if (off < end) return false;
  out.push(...found);
  if (depth < 6) for (const f of found) walkAttrs(b, f + 4, f + b.readUInt16LE(f), out, depth + 1);
  return true;
}

/** Family header sizes by message type, for finding where attributes start. */
function familyHeader(family: Family, type: number): number {
  if (type === 2 || type === 3) return -1; // NLMSG_ERROR, NLMSG_DONE: no attributes at a fixed place
  if (family === 'nft') return 4; // nfgenmsg
  if (type >= 16 && type <= 19) return 16; // ifinfomsg
  if (type >= 20 && type <= 23) return 8; // ifaddrmsg
  if (type >= 24 && type <= 27) return 12; // rtmsg
  return -1;
}

export function corpus(seed: Seed): Corpus {
  const b = seed.bytes;
  const c: Corpus = { name: seed.name, family: seed.family, bytes: b, messages: [], attrs: [] };
  for (let off = 0; off + 16 <= b.length;) {
    const len = b.readUInt32LE(off);
    if (len < 16 || off + len > b.length) break;
    c.messages.push(off);
    const fh = familyHeader(seed.family, b.readUInt16LE(off + 4));
    if (fh >= 0) walkAttrs(b, off + 16 + fh, off + len, c.attrs, 0);
    off += (len + 3) & ~3;
  }
  return c;
}

/** Each message of a corpus as a corpus of its own (single-message cases are cheap to decode). */
export function singles(c: Corpus): Corpus[] {
  return c.messages.map((off, i) => {
    const len = c.bytes.readUInt32LE(off);
    const bytes = Buffer.from(c.bytes.subarray(off, off + ((len + 3) & ~3)));
    return {
      name: `${c.name}[${i}]`,
      family: c.family,
      bytes,
      messages: [0],
      attrs: c.attrs.filter((a) => a >= off && a < off + len).map((a) => a - off),
    };
  });
}

const INTERESTING = [0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 20, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff];

function setLength16(b: Buffer, at: number, rng: Rng): void {
  if (at + 2 > b.length) return;
  const cur = b.readUInt16LE(at);
  const v = rng.chance(0.5) ? rng.pick(INTERESTING) : cur + rng.pick([-5, -4, -3, -1, 1, 3, 4, 5, 8]);
  b.writeUInt16LE(v & 0xffff, at);
}

function setLength32(b: Buffer, at: number, rng: Rng): void {
  if (at + 4 > b.length) return;
  const cur = b.readUInt32LE(at);
  const v = rng.chance(0.5) ? rng.pick([...INTERESTING, 0xffffffff, 0x80000000, b.length, b.length + 1]) : cur + rng.pick([-16, -4, -1, 1, 4, 16]);
  b.writeUInt32LE(v >>> 0, at);
}

/** Applies one random mutation; may return a buffer of another size. */
function mutateOnce(b: Buffer, c: Corpus, all: readonly Corpus[], rng: Rng): Buffer {
  const n = b.length;
  switch (rng.below(9)) {
    case 0: // bit flip
      if (n) b[rng.below(n)] ^= 1 << rng.below(8);
      return b;
    case 1: // byte set
      if (n) b[rng.below(n)] = rng.chance(0.5) ? rng.pick([0, 1, 0x7f, 0x80, 0xff]) : rng.below(256);
      return b;
    case 2: // truncate
      return b.subarray(0, rng.below(n + 1));
    case 3: // an attribute's length
    case 4:
      if (c.attrs.length) setLength16(b, rng.pick(c.attrs), rng);
      return b;
    case 5: // a message's length
      if (c.messages.length) setLength32(b, rng.pick(c.messages), rng);
      return b;
    case 6: {
      // a type field (message or attribute) to another value
      const at = rng.chance(0.5) && c.attrs.length ? rng.pick(c.attrs) + 2 : c.messages.length ? rng.pick(c.messages) + 4 : 0;
      if (at + 2 <= n) b.writeUInt16LE(rng.chance(0.5) ? rng.below(40) : rng.below(0x10000), at);
      return b;
    }
    case 7: {
      // splice: a piece of another reply in place of a piece of this one
      const o = rng.pick(all).bytes;
      const from = rng.below(o.length);
      const piece = o.subarray(from, from + 1 + rng.below(64));
      const at = rng.below(n + 1);
      const cut = rng.chance(0.5) ? piece.length : rng.below(16);
      return Buffer.concat([b.subarray(0, at), piece, b.subarray(Math.min(n, at + cut))]);
    }
    default: {
      // a run of random bytes over part of it
      const at = rng.below(n + 1);
      const len = Math.min(n - at, 1 + rng.below(8));
      for (let i = 0; i < len; i++) b[at + i] = rng.below(256);
      return b;
    }
  }
}

/** A mutated copy of `c`: one to four mutations. */
export function mutate(c: Corpus, all: readonly Corpus[], rng: Rng): Buffer {
  let b: Buffer = Buffer.from(c.bytes);
  for (let k = 1 + rng.below(4); k > 0; k--) b = mutateOnce(b, c, all, rng);
  // Half the single messages get their length field made true again, so that
  // truncations and splices reach the attributes and not only the framing.
  if (c.messages.length === 1 && b.length >= 4 && rng.chance(0.5)) b.writeUInt32LE(b.length, 0);
  return b;
}

/** Random bytes; half the time behind a plausible message header. */
export function randomBytes(family: Family, rng: Rng): Buffer {
  const b = Buffer.alloc(rng.below(256));
  for (let i = 0; i < b.length; i++) b[i] = rng.below(256);
  if (b.length >= 16 && rng.chance(0.5)) {
    b.writeUInt32LE(rng.chance(0.8) ? b.length : rng.below(b.length + 8), 0);
    const type = family === 'nft' ? (10 << 8) | rng.below(26) : rng.pick([2, 3, 16, 20, 24]);
    b.writeUInt16LE(type, 4);
  }
  return b;
}
