// Addresses, prefixes and MACs: parsed and validated once, then carried as
// bytes. Every parser names the field it was given when it refuses a value.
import { ValidationError } from '../errors.js';
import { must } from './must.js';

// node:net only for IPv6 text: importing it loads Node's stream modules, a few
// milliseconds of every cold command (issue 19) that an IPv4 cloud never needs.
let netIsIPv6: ((s: string) => boolean) | undefined;
const isIPv6 = (s: string): boolean => (netIsIPv6 ??= process.getBuiltinModule('node:net').isIPv6)(s);

export type Family = 4 | 6;

export interface Cidr {
  family: Family;
  /** Network-order bytes of the address as given (host bits kept). */
  bytes: Uint8Array;
  prefix: number;
  /** The address as text, without the prefix. */
  address: string;
}

export function ipFamily(text: string): Family | undefined {
  // ipv4Number takes exactly what node's isIPv4 does (no leading zeros, octets to 255), without its regular expression.
  if (ipv4Number(text) >= 0) return 4;
  if (isIPv6(text)) return 6;
  return undefined;
}

/**
 * Dotted quad, four decimal octets without leading zeros, as the unsigned
 * 32-bit number it spells (network order: the first octet is the top byte),
 * or -1. A hand-rolled loop: this runs per element.
 */
export function ipv4Number(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let part = 0;
  let val = 0;
  let digits = 0;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return -1;
      acc = acc * 256 + val;
      part++;
      val = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || (digits > 0 && val === 0)) return -1;
    val = val * 10 + (c - 48);
    if (++digits > 3 || val > 255) return -1;
  }
  if (part !== 3 || digits === 0) return -1;
  return acc * 256 + val;
}

/** Dotted quad (see ipv4Number) as its 4 network-order bytes. */
export function parseIPv4(s: string): Buffer | undefined {
  const v = ipv4Number(s);
  if (v < 0) return undefined;
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(v, 0);
  return out;
}

/** Dotted quad (see ipv4Number) as its 4 network-order bytes in a one-byte string: no Buffer. */
export function ipv4Chars(s: string): string | undefined {
  const v = ipv4Number(s);
  return v < 0 ? undefined : String.fromCharCode(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/**
 * IPv4 text already made, by address (as a signed 32-bit number): a re-apply
 * decodes the same thousands of addresses from every dump, and each text made
 * afresh is several strings (the parts joined one by one). Emptied when it
 * reaches V4_TEXTS entries, so it stays small whatever a process sees.
 */
const v4Texts = new Map<number, string>();
const V4_TEXTS = 16384;

export function formatIPv4(b: Uint8Array, off = 0): string {
  const key = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  let text = v4Texts.get(key);
  if (text === undefined) {
    if (v4Texts.size >= V4_TEXTS) v4Texts.clear();
    v4Texts.set(key, (text = `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`));
  }
  return text;
}

/**
 * IPv6 text (what node's isIPv6 takes, without a zone "%id") as its 16
 * network-order bytes, or undefined. One pass over the char codes, no regular
 * expression and no split: a kernel dump's link-local addresses (one per tap
 * on a node) come through here.
 */
export function parseIPv6(s: string): Buffer | undefined {
  const n = s.length;
  if (n < 2 || n > 45) return undefined;
  const words: number[] = [];
  let gap = -1; // where "::" stands, as an index into words
  let i = 0;
  if (s.charCodeAt(0) === 58 /* : */) {
    if (s.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let j = i;
    for (let h = hexValue(s.charCodeAt(j)); h >= 0 && j < n; h = hexValue(s.charCodeAt(++j))) v = v * 16 + h;
    if (j < n && s.charCodeAt(j) === 46 /* . */) {
      // A dotted quad ends the address: two groups.
      const v4 = ipv4Number(s.slice(i));
      if (v4 < 0) return undefined;
      words.push(v4 >>> 16, v4 & 0xffff);
      break;
    }
    if (j === i || j - i > 4) return undefined;
    words.push(v);
    if (j === n) break;
    if (s.charCodeAt(j) !== 58) return undefined;
    i = j + 1;
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = words.length;
      i++;
    } else if (i === n) return undefined;
  }
  if (gap < 0 ? words.length !== 8 : words.length > 7) return undefined;
  const out = Buffer.alloc(16);
  const tail = gap < 0 ? 0 : words.length - gap;
  for (let k = 0; k < words.length; k++) {
    const at = gap < 0 || k < gap ? k : 8 - tail + (k - gap);
    out[at * 2] = words[k] >> 8;
    out[at * 2 + 1] = words[k] & 255;
  }
  return out;
}

/** RFC 5952 text: lower case, longest run of zero groups (2+) as "::". */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * Six groups of one or two hex digits separated by ":" ("d0:0d:a:1:2:2"), as
 * 6 bytes, or undefined. By char codes, no regular expression and no split:
 * a node's set elements hold a MAC each.
 */
export function parseEther(s: string): Buffer | undefined {
  const n = s.length;
  if (n < 11 || n > 17) return undefined;
  const out = Buffer.allocUnsafe(6);
  let i = 0;
  for (let k = 0; k < 6; k++) {
    if (k > 0 && s.charCodeAt(i++) !== 58 /* : */) return undefined;
    const hi = hexValue(s.charCodeAt(i));
    if (hi < 0) return undefined;
    const lo = hexValue(s.charCodeAt(i + 1));
    if (lo < 0) {
      out[k] = hi;
      i += 1;
    } else {
      out[k] = hi * 16 + lo;
      i += 2;
    }
  }
  return i === n ? out : undefined;
}
export function formatEther(b: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(b[off + i].toString(16).padStart(2, '0'));
  return out.join(':');
}

/** A mask of `len` bytes with the first `bits` bits set. */
export function prefixMask(len: number, bits: number): Buffer {
  const m = Buffer.alloc(len);
  for (let i = 0; i < len; i++) {
    const n = Math.min(8, Math.max(0, bits - i * 8));
    m[i] = n === 0 ? 0 : (0xff << (8 - n)) & 0xff;
  }
  return m;
}

/** Bytes of an IPv4 address already known to be valid (ipFamily() said 4). */
export function ipv4ToBytes(text: string): Uint8Array {
  return must(parseIPv4(text), `the bytes of IPv4 address ${text}`);
}

/** Bytes of an IPv6 address already known to be valid. */
export function ipv6ToBytes(text: string): Uint8Array {
  return must(parseIPv6(text), `the bytes of IPv6 address ${text}`);
}

/** Parses an IP address (v4 or v6) to network-order bytes. */
export function parseIp(field: string, text: unknown): { family: Family; bytes: Uint8Array } {
  if (typeof text !== 'string') throw new ValidationError(field, text, 'expected an IP address string');
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const family = ipFamily(text);
  if (family === 4) return { family, bytes: ipv4ToBytes(text) };
  if (family === 6) return { family, bytes: ipv6ToBytes(text) };
  throw new ValidationError(field, text, 'not an IPv4 or IPv6 address');
}

export function parseIpv4(field: string, text: unknown): Uint8Array {
  const ip = parseIp(field, text);
  if (ip.family !== 4) throw new ValidationError(field, text, 'expected an IPv4 address');
  return ip.bytes;
}

/** Parses "a.b.c.d/len" (or a bare address, as a host prefix). */
export function parseCidr(field: string, text: unknown, opts: { requirePrefix?: boolean } = {}): Cidr {
  if (typeof text !== 'string') throw new ValidationError(field, text, 'expected a CIDR string like 10.1.0.0/16');
  const slash = text.indexOf('/');
  if (slash < 0 && opts.requirePrefix) throw new ValidationError(field, text, 'missing /prefix length');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const { family, bytes } = parseIp(field, addr);
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || +p > max) {
      throw new ValidationError(field, text, `prefix length must be 0-${max}`);
    }
    prefix = +p;
  }
  return { family, bytes, prefix, address: addr };
}

/** The network address of a CIDR: host bits cleared. */
export function networkOf(c: { bytes: Uint8Array; prefix: number }): Uint8Array {
  const out = Uint8Array.from(c.bytes);
  for (let bit = c.prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** True when the CIDR has no host bits set (10.1.0.0/16, not 10.1.0.1/16). */
export function isNetworkAddress(c: { bytes: Uint8Array; prefix: number }): boolean {
  return networkOf(c).every((b, i) => b === c.bytes[i]);
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return formatIPv4(b);
  if (b.length === 16) return formatIPv6(b);
  return Buffer.from(b).toString('hex');
}

/** IPv4 text to a 32-bit unsigned integer, and back (for allocation arithmetic). */
export function ipv4ToInt(text: string): number {
  // Straight from the text: no Buffer, and no message built unless it is needed.
  const v = ipv4Number(text);
  if (v < 0) throw new Error(`eucanet: internal error: the bytes of IPv4 address ${text} is missing`);
  return v;
}
export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A hex digit's value, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Six hex byte pairs separated by ":" ("d0:0d:0a:01:02:02"). Read by char
 * codes, not a regex and a split: validation calls it for every instance of
 * every state version (5000 per version at 5000 instances).
 */
export function parseMac(field: string, text: unknown): Uint8Array {
  if (typeof text === 'string' && text.length === 17) {
    const out = new Uint8Array(6);
    let i = 0;
    for (; i < 6; i++) {
      const at = i * 3;
      const hi = hexValue(text.charCodeAt(at));
      const lo = hexValue(text.charCodeAt(at + 1));
      if (hi < 0 || lo < 0 || (i < 5 && text.charCodeAt(at + 2) !== 58)) break;
      out[i] = hi * 16 + lo;
    }
    if (i === 6) return out;
  }
  throw new ValidationError(field, text, 'expected a MAC address like d0:0d:0a:01:02:02');
}

const HEX = Array.from({ length: 256 }, (_, x) => x.toString(16).padStart(2, '0'));

/** Any number of bytes as colon-separated hex: a MAC, or a prefix of one ("d0:0d"). */
export function formatMac(b: Uint8Array): string {
  // Called for every link of every dump: a table lookup, not toString/padStart/join.
  let s = b.length ? HEX[b[0]] : '';
  for (let i = 1; i < b.length; i++) s += `:${HEX[b[i]]}`;
  return s;
}

/**
 * A dotted IPv4 netmask ("255.255.0.0") to its prefix length (16). Refuses
 * masks whose one bits are not contiguous ("255.0.255.0").
 */
export function maskToPrefix(field: string, text: unknown): number {
  const n = ipv4ToInt(bytesToIp(parseIpv4(field, text)));
  const inverted = ~n >>> 0;
  // A contiguous mask inverted is 2^k - 1: adding one leaves a single bit.
  if ((inverted & (inverted + 1)) !== 0) {
    throw new ValidationError(field, text, 'not a contiguous netmask (ones, then zeros)');
  }
  return 32 - Math.log2(inverted + 1);
}
