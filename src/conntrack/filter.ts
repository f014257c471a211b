// Filters: checked before anything is sent, then split into what the kernel
// filters on a dump or a flush (ctnetlink_alloc_filter in
// net/netfilter/nf_conntrack_netlink.c: the nfgenmsg family, CTA_MARK +
// CTA_MARK_MASK, CTA_ZONE, CTA_STATUS + CTA_STATUS_MASK) and what is matched
// here (protocol, addresses or prefixes, ports). A dump also hands the kernel
// a single original source or destination address (CTA_FILTER with
// CTA_TUPLE_ORIG, Linux 5.8+: ctnetlink_filter_match_tuple), so that a table
// of thousands of entries is not copied out to find the few of one address.
// The kernel-side fields are matched here too, so a kernel that ignores one
// still gives the right answer.
import { ValidationError } from '../errors.js';
import type { NlWriter } from '../netlink/writer.js';
import { parseCidr, parseIp, type Cidr } from '../util/ip.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  CTA_FILTER,
  CTA_FILTER_F_CTA_IP_DST,
  CTA_FILTER_F_CTA_IP_SRC,
  CTA_FILTER_ORIG_FLAGS,
  CTA_IP_V4_DST,
  CTA_IP_V4_SRC,
  CTA_IP_V6_DST,
  CTA_IP_V6_SRC,
  CTA_MARK,
  CTA_MARK_MASK,
  CTA_STATUS,
  CTA_STATUS_MASK,
  CTA_TUPLE_IP,
  CTA_TUPLE_ORIG,
  CTA_ZONE,
  IPS_NAMES,
} from './constants.js';
import { protocolNumber } from './tuple.js';
import type { CtEntry, CtFilter, CtProtocol, CtTuple, CtMasked, CtTupleFilter } from './types.js';

/** A filter, checked and compiled. */
export interface CompiledFilter {
  family: number;
  mark?: { value: number; mask: number };
  zone?: number;
  status?: { value: number; mask: number };
  /** Only family, mark, zone and status: the kernel can select (and flush) on its own. */
  kernelOnly: boolean;
  /** A single original source and/or destination address of the family (network order): a dump asks the kernel for these alone. */
  origAddr?: { src?: Uint8Array; dst?: Uint8Array };
  matches(e: CtEntry): boolean;
}

const u32 = (field: string, v: unknown): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ValidationError(field, v, 'expected an integer 0..4294967295');
  return v;
};
const uint = (field: string, v: unknown, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ValidationError(field, v, `expected an integer 0..${max}`);
  return v;
};

function masked(field: string, v: number | CtMasked): { value: number; mask: number } {
  const m = typeof v === 'number' ? { value: v } : v;
  if (typeof m !== 'object' || m === null) throw new ValidationError(field, v, 'expected a number or { value, mask }');
  const value = u32(`${field}.value`, m.value);
  const mask = m.mask === undefined ? 0xffffffff : u32(`${field}.mask`, m.mask);
  if ((value & ~mask) >>> 0 !== 0) throw new ValidationError(field, v, 'value has bits outside the mask: it could never match');
  return { value, mask };
}

function statusOf(v: CtFilter['status']): { value: number; mask: number } {
  if (!Array.isArray(v)) return masked('status', v as CtMasked);
  let bits = 0;
  for (const [i, n] of v.entries()) {
    const bit = IPS_NAMES.indexOf(n);
    if (bit < 0) throw new ValidationError(`status[${i}]`, n, `unknown status bit; one of ${IPS_NAMES.join(', ')}`);
    bits |= 1 << bit;
  }
  return { value: bits >>> 0, mask: bits >>> 0 };
}

export function checkProtocol(field: string, p: unknown): number {
  if (typeof p === 'number') return uint(field, p, 255);
  if (p === 'tcp' || p === 'udp' || p === 'icmp' || p === 'icmpv6') return protocolNumber(p);
  throw new ValidationError(field, p, 'expected tcp, udp, icmp, icmpv6 or an IP protocol number');
}

type TupleTest = (t: CtTuple) => boolean;

function cidrTest(field: string, text: unknown): (ip: string) => boolean {
  const c: Cidr = parseCidr(field, text);
  const want = c.bytes;
  return (ip) => {
    const got = parseIp(field, ip);
    if (got.bytes.length !== want.length) return false;
    for (let bit = 0; bit < c.prefix; bit++) {
      const m = 0x80 >> (bit & 7);
      if ((got.bytes[bit >> 3] & m) !== (want[bit >> 3] & m)) return false;
    }
    return true;
  };
}

function tupleTest(field: string, f: CtTupleFilter | undefined): TupleTest | undefined {
  if (f === undefined) return undefined;
  if (typeof f !== 'object' || f === null) throw new ValidationError(field, f, 'expected { src?, dst?, sport?, dport? }');
  const tests: TupleTest[] = [];
  if (f.src !== undefined) {
    const t = cidrTest(`${field}.src`, f.src);
    tests.push((x) => t(x.src));
  }
  if (f.dst !== undefined) {
    const t = cidrTest(`${field}.dst`, f.dst);
    tests.push((x) => t(x.dst));
  }
  if (f.sport !== undefined) {
    const p = uint(`${field}.sport`, f.sport, 65535);
    tests.push((x) => x.sport === p);
  }
  if (f.dport !== undefined) {
    const p = uint(`${field}.dport`, f.dport, 65535);
    tests.push((x) => x.dport === p);
  }
  return (x) => tests.every((t) => t(x));
}

/** Checks a filter (ValidationError naming the field and value) and compiles it. */
export function compileFilter(f: CtFilter = {}): CompiledFilter {
  if (typeof f !== 'object' || f === null) throw new ValidationError('filter', f, 'expected an object');
  const known = new Set(['family', 'mark', 'zone', 'status', 'protocol', 'orig', 'reply']);
  for (const k of Object.keys(f))
    if (!known.has(k)) throw new ValidationError(k, (f as Record<string, unknown>)[k], `unknown filter field; one of ${[...known].join(', ')}`);
  if (f.family !== undefined && f.family !== 'ipv4' && f.family !== 'ipv6') throw new ValidationError('family', f.family, 'expected ipv4 or ipv6');
  const out: CompiledFilter = { family: f.family === 'ipv4' ? AF_INET : f.family === 'ipv6' ? AF_INET6 : AF_UNSPEC, kernelOnly: true, matches: () => true };
  if (f.mark !== undefined) out.mark = masked('mark', f.mark);
  if (f.zone !== undefined) out.zone = uint('zone', f.zone, 65535);
  if (f.status !== undefined) out.status = statusOf(f.status);
  const proto = f.protocol !== undefined ? checkProtocol('protocol', f.protocol) : undefined;
  const orig = tupleTest('orig', f.orig);
  const reply = tupleTest('reply', f.reply);
  const addr = origAddrOf(f);
  if (addr) out.origAddr = addr;
  out.kernelOnly = proto === undefined && !orig && !reply;
  const fam = f.family;
  const protoName: CtProtocol | undefined = f.protocol;
  out.matches = (e) =>
    (fam === undefined || e.family === fam) &&
    (out.mark === undefined || (e.mark & out.mark.mask) >>> 0 === out.mark.value) &&
    (out.zone === undefined || e.zone === out.zone) &&
    (out.status === undefined || (e.status & out.status.mask) >>> 0 === out.status.value) &&
    (proto === undefined || protocolNumber(e.protocol) === proto || e.protocol === protoName) &&
    (!orig || orig(e.orig)) &&
    (!reply || reply(e.reply));
  return out;
}

/**
 * The orig filter's single addresses, when the kernel can select on them:
 * the family is ipv4 (the kernel refuses a tuple filter without a family, and
 * its IPv6 comparison is inverted, ctnetlink_filter_match_tuple's
 * `!ipv6_addr_cmp`: it would send every entry but the wanted ones) and the
 * address is one host (the kernel compares whole addresses). Called after
 * the orig filter was checked.
 */
function origAddrOf(f: CtFilter): CompiledFilter['origAddr'] {
  if (!f.orig || f.family !== 'ipv4') return undefined;
  const len = 4;
  const one = (field: string, text: string | undefined): Uint8Array | undefined => {
    if (text === undefined) return undefined;
    const c = parseCidr(field, text);
    return c.bytes.length === len && c.prefix === len * 8 ? c.bytes : undefined;
  };
  const src = one('orig.src', f.orig.src);
  const dst = one('orig.dst', f.orig.dst);
  if (!src && !dst) return undefined;
  return { ...(src ? { src } : {}), ...(dst ? { dst } : {}) };
}

/** Writes a dump's original-address filter (CTA_TUPLE_ORIG with the addresses, CTA_FILTER saying which to compare). */
export function encodeOrigFilter(w: NlWriter, c: CompiledFilter): void {
  const a = c.origAddr;
  if (!a) return;
  const v6 = c.family === AF_INET6;
  const outer = w.nestStart(CTA_TUPLE_ORIG, true);
  const ip = w.nestStart(CTA_TUPLE_IP, true);
  if (a.src) w.binary(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, a.src);
  if (a.dst) w.binary(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, a.dst);
  w.nestEnd(ip);
  w.nestEnd(outer);
  const filter = w.nestStart(CTA_FILTER, true);
  w.u32(CTA_FILTER_ORIG_FLAGS, (a.src ? CTA_FILTER_F_CTA_IP_SRC : 0) | (a.dst ? CTA_FILTER_F_CTA_IP_DST : 0));
  w.nestEnd(filter);
}

/** Writes the kernel-side part of a compiled filter (a dump's or a flush's attributes). */
export function encodeKernelFilter(w: NlWriter, c: CompiledFilter): void {
  if (c.mark) {
    w.u32be(CTA_MARK, c.mark.value);
    w.u32be(CTA_MARK_MASK, c.mark.mask);
  }
  if (c.status) {
    w.u32be(CTA_STATUS, c.status.value);
    w.u32be(CTA_STATUS_MASK, c.status.mask);
  }
  if (c.zone !== undefined) w.u16be(CTA_ZONE, c.zone);
}
