// Address parsing and formatting, and big-endian byte arithmetic for ranges.
// Parsers return undefined on malformed input; callers turn that into a
// ValidationError naming their field.
import { isIPv6 } from 'node:net';

/** Dotted quad, four decimal octets without leading zeros. A hand-rolled loop: this runs per element. */
export function parseIPv4(s: string): Buffer | undefined {
  const n = s.length;
  if (n < 7 || n > 15) return undefined;
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return undefined;
      out[part++] = val;
      val = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57 || (digits > 0 && val === 0)) return undefined;
    val = val * 10 + (c - 48);
    if (++digits > 3 || val > 255) return undefined;
  }
  if (part !== 3 || digits === 0) return undefined;
  out[3] = val;
  return out;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function parseIPv6(s: string): Buffer | undefined {
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let head = s;
  let tail4: Buffer | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${s.slice(0, lastColon + 1)}${tail4.readUInt16BE(0).toString(16)}:${tail4.readUInt16BE(2).toString(16)}`;
  }
  const [left, right] = head.split('::') as [string, string | undefined];
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const groups = right === undefined ? l : [...l, ...Array(8 - l.length - r.length).fill('0'), ...r];
  if (groups.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** RFC 5952 text: lower case, longest run of zero groups (2+) as "::". */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
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

const ETHER = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;
export function parseEther(s: string): Buffer | undefined {
  if (!ETHER.test(s)) return undefined;
  return Buffer.from(s.split(':').map((x) => parseInt(x, 16)));
}
export function formatEther(b: Uint8Array, off = 0): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(b[off + i]!.toString(16).padStart(2, '0'));
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

export function and(a: Uint8Array, mask: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! & mask[i]!;
  return out;
}
export function or(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! | b[i]!;
  return out;
}
export function not(a: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = ~a[i]! & 0xff;
  return out;
}
export function isZero(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}
export function isAllOnes(a: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0xff) return false;
  return true;
}

/** Number of leading one bits if `mask` is a prefix mask, else -1. */
export function maskPrefixLen(mask: Uint8Array): number {
  let bits = 0;
  let i = 0;
  for (; i < mask.length && mask[i] === 0xff; i++) bits += 8;
  if (i < mask.length) {
    const m = mask[i]!;
    let n = 0;
    while (n < 8 && m & (0x80 >> n)) n++;
    if (((0xff << (8 - n)) & 0xff) !== m) return -1;
    bits += n;
    for (i++; i < mask.length; i++) if (mask[i] !== 0) return -1;
  }
  return bits;
}

/** The prefix length if [from, to] is exactly one CIDR block, else -1. */
export function rangePrefixLen(from: Uint8Array, to: Uint8Array): number {
  const host = Buffer.alloc(from.length);
  for (let i = 0; i < from.length; i++) host[i] = from[i]! ^ to[i]!;
  // from..to is a block iff (from ^ to) is a host mask and from has no host bits.
  const p = maskPrefixLen(not(host));
  if (p < 0) return -1;
  for (let i = 0; i < from.length; i++) if (from[i]! & host[i]! || (to[i]! & host[i]!) !== host[i]) return -1;
  return p;
}

/** a + 1 as a big-endian number; undefined on overflow. */
export function increment(a: Uint8Array): Buffer | undefined {
  const out = Buffer.from(a);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]!++;
      return out;
    }
    out[i] = 0;
  }
  return undefined;
}
/** a - 1 as a big-endian number (a must not be zero). */
export function decrement(a: Uint8Array): Buffer {
  const out = Buffer.from(a);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0) {
      out[i]!--;
      return out;
    }
    out[i] = 0xff;
  }
  return out;
}
