// Packet and connection fields by their nft names: how to load each into a
// register, its data type, and what it depends on. The rule builder lowers
// matches through this table and the renderer reads loads back through it.
import type { CtKey, DataTypeName, MetaKey, PayloadBase } from '../types.js';
import { must } from '../../util/must.js';

export type Load =
  | { kind: 'payload'; base: PayloadBase; offset: number; len: number }
  | { kind: 'meta'; key: MetaKey }
  | { kind: 'ct'; key: CtKey };

export interface Field {
  name: FieldName;
  load: Load;
  type: DataTypeName;
  /** Bytes the load puts in the register. */
  len: number;
  /** Needs a network protocol match first (in inet/bridge/netdev tables). */
  l3?: 'ipv4' | 'ipv6';
  /** Needs "meta l4proto <n>" first. */
  l4?: number;
  /** Needs a link-layer check ("meta iiftype ether") outside bridge tables. */
  ll?: boolean;
}

export type FieldName =
  | 'ip saddr' | 'ip daddr' | 'ip protocol'
  | 'ip6 saddr' | 'ip6 daddr' | 'ip6 nexthdr'
  | 'tcp sport' | 'tcp dport' | 'udp sport' | 'udp dport' | 'th sport' | 'th dport'
  | 'icmp type' | 'icmp code' | 'icmpv6 type'
  | 'ether saddr' | 'ether daddr' | 'ether type'
  | 'iifname' | 'oifname' | 'iif' | 'oif' | 'meta l4proto' | 'meta nfproto' | 'meta mark' | 'meta protocol'
  | 'meta iiftype'
  | 'ct state' | 'ct direction' | 'ct status' | 'ct mark';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

const p = (base: PayloadBase, offset: number, len: number): Load => ({ kind: 'payload', base, offset, len });
const m = (key: MetaKey): Load => ({ kind: 'meta', key });
const c = (key: CtKey): Load => ({ kind: 'ct', key });

const LIST: Field[] = [
  { name: 'ip saddr', load: p('network', 12, 4), type: 'ipv4_addr', len: 4, l3: 'ipv4' },
  { name: 'ip daddr', load: p('network', 16, 4), type: 'ipv4_addr', len: 4, l3: 'ipv4' },
  { name: 'ip protocol', load: p('network', 9, 1), type: 'inet_proto', len: 1, l3: 'ipv4' },
  { name: 'ip6 saddr', load: p('network', 8, 16), type: 'ipv6_addr', len: 16, l3: 'ipv6' },
  { name: 'ip6 daddr', load: p('network', 24, 16), type: 'ipv6_addr', len: 16, l3: 'ipv6' },
  { name: 'ip6 nexthdr', load: p('network', 6, 1), type: 'inet_proto', len: 1, l3: 'ipv6' },
  { name: 'tcp sport', load: p('transport', 0, 2), type: 'inet_service', len: 2, l4: IPPROTO_TCP },
  { name: 'tcp dport', load: p('transport', 2, 2), type: 'inet_service', len: 2, l4: IPPROTO_TCP },
  { name: 'udp sport', load: p('transport', 0, 2), type: 'inet_service', len: 2, l4: IPPROTO_UDP },
  { name: 'udp dport', load: p('transport', 2, 2), type: 'inet_service', len: 2, l4: IPPROTO_UDP },
  { name: 'th sport', load: p('transport', 0, 2), type: 'inet_service', len: 2 },
  { name: 'th dport', load: p('transport', 2, 2), type: 'inet_service', len: 2 },
  { name: 'icmp type', load: p('transport', 0, 1), type: 'icmp_type', len: 1, l3: 'ipv4', l4: IPPROTO_ICMP },
  { name: 'icmp code', load: p('transport', 1, 1), type: 'icmp_code', len: 1, l3: 'ipv4', l4: IPPROTO_ICMP },
  { name: 'icmpv6 type', load: p('transport', 0, 1), type: 'icmpv6_type', len: 1, l3: 'ipv6', l4: IPPROTO_ICMPV6 },
  { name: 'ether saddr', load: p('ll', 6, 6), type: 'ether_addr', len: 6, ll: true },
  { name: 'ether daddr', load: p('ll', 0, 6), type: 'ether_addr', len: 6, ll: true },
  { name: 'ether type', load: p('ll', 12, 2), type: 'ether_type', len: 2, ll: true },
  { name: 'iifname', load: m('iifname'), type: 'ifname', len: 16 },
  { name: 'oifname', load: m('oifname'), type: 'ifname', len: 16 },
  { name: 'iif', load: m('iif'), type: 'iface_index', len: 4 },
  { name: 'oif', load: m('oif'), type: 'iface_index', len: 4 },
  { name: 'meta l4proto', load: m('l4proto'), type: 'inet_proto', len: 1 },
  { name: 'meta nfproto', load: m('nfproto'), type: 'nf_proto', len: 1 },
  { name: 'meta mark', load: m('mark'), type: 'mark', len: 4 },
  { name: 'meta protocol', load: m('protocol'), type: 'ether_type', len: 2 },
  { name: 'meta iiftype', load: m('iiftype'), type: 'iface_type', len: 2 },
  { name: 'ct state', load: c('state'), type: 'ct_state', len: 4 },
  { name: 'ct direction', load: c('direction'), type: 'ct_dir', len: 1 },
  { name: 'ct status', load: c('status'), type: 'ct_status', len: 4 },
  { name: 'ct mark', load: c('mark'), type: 'mark', len: 4 },
];

export const FIELDS = new Map<FieldName, Field>(LIST.map((f) => [f.name, f]));

export function field(name: FieldName): Field | undefined {
  return FIELDS.get(name);
}

/** A field of the table above: every FieldName is in it. */
export function knownField(name: FieldName): Field {
  return must(FIELDS.get(name), `nft field ${name}`);
}

/** What a register holds after a load, for naming it when rendering. */
export interface LoadContext {
  l3?: 'ipv4' | 'ipv6';
  l4?: number;
}

/**
 * The field a load reads, given the protocol context. `partial` is set when
 * the load covers only the first bytes of the field (nft trims byte-aligned
 * prefixes: "ip saddr 10.1.0.0/16" loads 2 bytes).
 */
export function fieldOfLoad(load: Load, ctx: LoadContext): { field: Field; partial: boolean } | undefined {
  for (const f of LIST) {
    if (f.load.kind !== load.kind) continue;
    if (load.kind !== 'payload') {
      if ((f.load as { key: string }).key === load.key) return { field: f, partial: false };
      continue;
    }
    const fl = f.load as Extract<Load, { kind: 'payload' }>;
    if (fl.base !== load.base || fl.offset !== load.offset || load.len > fl.len) continue;
    if (f.l3 && f.l3 !== ctx.l3 && load.base === 'network') continue;
    if (load.base === 'transport' && f.l4 !== ctx.l4 && !(f.l4 === undefined && !knownL4(ctx.l4))) continue;
    if (load.base === 'transport' && f.l3 && ctx.l3 && f.l3 !== ctx.l3) continue;
    const partial = load.len < fl.len;
    if (partial && f.type !== 'ipv4_addr' && f.type !== 'ipv6_addr' && f.type !== 'ether_addr') continue;
    return { field: f, partial };
  }
  return undefined;
}

function knownL4(l4: number | undefined): boolean {
  return l4 === IPPROTO_TCP || l4 === IPPROTO_UDP || l4 === IPPROTO_ICMP || l4 === IPPROTO_ICMPV6;
}
