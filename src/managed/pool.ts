// The public address pool (VNET_PUBLICIPS): addresses, CIDRs and "a-b"
// ranges, kept as inclusive integer ranges in the order given.
import { ValidationError } from '../errors.js';
import { intToIpv4 } from '../util/ip.js';
import { lastOf, parseBlock, parseIpv4Int, reservedOverlap, type Block } from './net.js';

export interface PoolRange {
  start: number;
  end: number;
  /** Index of the publicIps entry it came from. */
  entry: number;
}

function parseEntry(field: string, text: unknown, entry: number): PoolRange {
  if (typeof text !== 'string') throw new ValidationError(field, text, 'expected an address, CIDR or a-b range');
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const start = parseIpv4Int(field, text.slice(0, dash).trim());
    const end = parseIpv4Int(field, text.slice(dash + 1).trim());
    if (end < start) throw new ValidationError(field, text, 'range ends before it starts');
    return { start, end, entry };
  }
  const b = parseBlock(field, text);
  return { start: b.network, end: lastOf(b), entry };
}

/** Parses and checks the pool: no reserved addresses, no entry overlapping another. */
export function parsePool(entries: readonly unknown[], field = 'publicIps'): PoolRange[] {
  const pool = entries.map((e, i) => parseEntry(`${field}[${i}]`, e, i));
  for (const r of pool) {
    const what = reservedOverlap({ network: r.start, prefix: 0, size: r.end - r.start + 1 });
    if (what) throw new ValidationError(`${field}[${r.entry}]`, entries[r.entry], `overlaps ${what}`);
  }
  const sorted = [...pool].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1], sorted[i]];
    if (b.start <= a.end) {
      const [first, second] = a.entry < b.entry ? [a, b] : [b, a];
      throw new ValidationError(`${field}[${second.entry}]`, entries[second.entry], `overlaps ${field}[${first.entry}]`);
    }
  }
  return pool;
}

export function poolContains(pool: readonly PoolRange[], ip: number): boolean {
  return pool.some((r) => ip >= r.start && ip <= r.end);
}

export function poolSize(pool: readonly PoolRange[]): number {
  return pool.reduce((n, r) => n + r.end - r.start + 1, 0);
}

/** The lowest address not in `used`, entries in the order given. */
export function firstFree(pool: readonly PoolRange[], used: ReadonlySet<number>): number | undefined {
  for (const r of pool) {
    for (let ip = r.start; ip <= r.end; ip++) if (!used.has(ip)) return ip;
  }
  return undefined;
}

/** Does any pool range overlap the block? Returns the entry index. */
export function poolOverlap(pool: readonly PoolRange[], b: Block): number | undefined {
  return pool.find((r) => r.start <= lastOf(b) && b.network <= r.end)?.entry;
}

export function describePool(pool: readonly PoolRange[]): string {
  return pool.map((r) => (r.start === r.end ? intToIpv4(r.start) : `${intToIpv4(r.start)}-${intToIpv4(r.end)}`)).join(' ');
}
