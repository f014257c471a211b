// Values as users write them ("10.1.0.0/16", "1000-2000", ["1.2.3.4", "tcp", 22])
// parsed once into wire bytes, and wire bytes formatted back for rendering.
import { ValidationError } from '../../errors.js';
import { and, increment, not, prefixMask, rangePrefixLen } from './addr.js';
import { dataType, padded, type Scalar } from '../datatypes.js';
import type { DataTypeName } from '../types.js';


/** An inclusive range of wire values; `prefix` is set when it came from CIDR notation. */
export interface ParsedRange {
  from: Buffer;
  to: Buffer;
  prefix?: number;
}

const PREFIXABLE = new Set<DataTypeName>(['ipv4_addr', 'ipv6_addr']);

export function parseValue(type: DataTypeName, v: Scalar, field: string, len?: number): Buffer {
  return dataType(type).parse(v, field, len);
}

/**
 * A single value, a CIDR block ("10.0.0.0/8", addresses only) or a range
 * ("a-b"). Host bits in a CIDR and ranges running backwards are refused.
 */
export function parseRange(type: DataTypeName, v: Scalar, field: string): ParsedRange {
  if (typeof v === 'string' && (v.includes('/') || v.includes('-'))) {
    // Prefixes and ranges recur across rules ("!= 10.0.0.0/8"): parse each once.
    const k = `${type}\0${v}`;
    let r = memo.get(k);
    if (!r) {
      r = parseRangeOnce(type, v, field);
      if (memo.size >= 4096) memo.clear();
      memo.set(k, r);
    }
    return r;
  }
  return parseRangeOnce(type, v, field);
}

// Results are shared between the expressions built from them; nothing mutates them.
const memo = new Map<string, ParsedRange>();

function parseRangeOnce(type: DataTypeName, v: Scalar, field: string): ParsedRange {
  const dt = dataType(type);
  if (typeof v === 'string' && v.includes('/') && PREFIXABLE.has(type)) {
    const [addr, bits, extra] = v.split('/');
    const maxBits = dt.len * 8;
    if (extra !== undefined || !/^\d{1,3}$/.test(bits ?? '') || Number(bits) > maxBits) {
      throw new ValidationError(field, v, `malformed CIDR: prefix length must be 0 to ${maxBits}`);
    }
    let from: Buffer;
    try {
      from = dt.parse(addr, field);
    } catch {
      throw new ValidationError(field, v, `malformed CIDR: ${addr} is not an ${type === 'ipv4_addr' ? 'IPv4' : 'IPv6'} address`);
    }
    const mask = prefixMask(dt.len, Number(bits));
    if (!and(from, mask).equals(from)) throw new ValidationError(field, v, 'malformed CIDR: host bits are set');
    const to = Buffer.from(from);
    const host = not(mask);
    for (let i = 0; i < to.length; i++) to[i] |= host[i];
    return { from, to, prefix: Number(bits) };
  }
  if (typeof v === 'string' && v.includes('-') && type !== 'ifname' && !parses(type, v)) {
    const [a, b, extra] = v.split('-');
    if (extra !== undefined || !a || !b) throw new ValidationError(field, v, 'malformed range: expected "from-to"');
    const from = dt.parse(a.trim(), field);
    const to = dt.parse(b.trim(), field);
    if (Buffer.compare(from, to) > 0) throw new ValidationError(field, v, 'range runs backwards');
    return { from, to };
  }
  const one = dt.parse(v, field);
  return { from: one, to: one };
}

/** Whether `v` is one value of the type (symbolic names such as "echo-request" contain dashes). */
function parses(type: DataTypeName, v: string): boolean {
  try {
    dataType(type).parse(v, '');
    return true;
  } catch {
    return false;
  }
}

/** Concatenates components, each padded to 4 bytes (register-aligned). */
export function concat(parts: Buffer[]): Buffer {
  const total = parts.reduce((n, p) => n + padded(p.length), 0);
  const out = Buffer.alloc(total);
  let off = 0;
  for (const p of parts) {
    p.copy(out, off);
    off += padded(p.length);
  }
  return out;
}

/** Splits a concatenated value into its components. */
export function split(b: Buffer, lens: number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  for (const l of lens) {
    out.push(b.subarray(off, off + l));
    off += padded(l);
  }
  return out;
}

export function formatValue(type: DataTypeName, b: Buffer): string {
  return dataType(type).format(b);
}

/** "a", "a/n" (addresses that form a block) or "a-b". */
export function formatRange(type: DataTypeName, from: Buffer, to: Buffer): string {
  if (from.equals(to)) return formatValue(type, from);
  if (PREFIXABLE.has(type)) {
    const p = rangePrefixLen(from, to);
    if (p >= 0) return `${formatValue(type, from)}/${p}`;
  }
  return `${formatValue(type, from)}-${formatValue(type, to)}`;
}

/** The first value after a range, for interval-end elements; undefined at the top. */
export function after(to: Buffer): Buffer | undefined {
  return increment(to);
}
