// Addresses, prefixes and MACs: parsed and validated once, then carried as
// bytes. Every parser names the field it was given when it refuses a value.
import { isIPv4, isIPv6 } from 'node:net';
import { ValidationError } from '../netlink/errors.js';

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
  if (isIPv4(text)) return 4;
  if (isIPv6(text)) return 6;
  return undefined;
}

export function ipv4ToBytes(text: string): Uint8Array {
  const p = text.split('.');
  return Uint8Array.of(+p[0]!, +p[1]!, +p[2]!, +p[3]!);
}

export function ipv6ToBytes(text: string): Uint8Array {
  let t = text;
  let tail: number[] = [];
  const lastColon = t.lastIndexOf(':');
  if (t.includes('.')) {
    tail = [...ipv4ToBytes(t.slice(lastColon + 1))];
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = t.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  const groups = [...h, ...Array(fill).fill('0'), ...r].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail.length) out.set(tail, 12);
  return out;
}

/** Parses an IP address (v4 or v6) to network-order bytes. */
export function parseIp(field: string, text: unknown): { family: Family; bytes: Uint8Array } {
  if (typeof text !== 'string') throw new ValidationError(field, text, 'expected an IP address string');
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
  for (let bit = c.prefix; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** True when the CIDR has no host bits set (10.1.0.0/16, not 10.1.0.1/16). */
export function isNetworkAddress(c: { bytes: Uint8Array; prefix: number }): boolean {
  return networkOf(c).every((b, i) => b === c.bytes[i]);
}

export function prefixMask(family: Family, prefix: number): Uint8Array {
  const out = new Uint8Array(family === 4 ? 4 : 16);
  for (let bit = 0; bit < prefix; bit++) out[bit >> 3]! |= 0x80 >> (bit & 7);
  return out;
}

export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) return Buffer.from(b).toString('hex');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // Longest run of zero groups becomes "::" (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** IPv4 text to a 32-bit unsigned integer, and back (for allocation arithmetic). */
export function ipv4ToInt(text: string): number {
  const b = ipv4ToBytes(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
export function intToIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function parseMac(field: string, text: unknown): Uint8Array {
  if (typeof text !== 'string' || !MAC_RE.test(text)) {
    throw new ValidationError(field, text, 'expected a MAC address like d0:0d:0a:01:02:02');
  }
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
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
