// Big-endian byte arithmetic for masks and ranges. The address parsers and
// formatters nft uses live in src/util/ip.ts, shared with the rest of eucanet.
export { formatEther, formatIPv4, formatIPv6, parseEther, parseIPv4, parseIPv6, prefixMask } from '../../util/ip.js';

export function and(a: Uint8Array, mask: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] & mask[i];
  return out;
}
export function or(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] | b[i];
  return out;
}
export function not(a: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = ~a[i] & 0xff;
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
    const m = mask[i];
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
  for (let i = 0; i < from.length; i++) host[i] = from[i] ^ to[i];
  // from..to is a block iff (from ^ to) is a host mask and from has no host bits.
  const p = maskPrefixLen(not(host));
  if (p < 0) return -1;
  for (let i = 0; i < from.length; i++) if (from[i] & host[i] || (to[i] & host[i]) !== host[i]) return -1;
  return p;
}

/** a + 1 as a big-endian number; undefined on overflow. */
export function increment(a: Uint8Array): Buffer | undefined {
  const out = Buffer.from(a);
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++;
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
      out[i]--;
      return out;
    }
    out[i] = 0xff;
  }
  return out;
}
