// A typed rule builder that reads like nft:
//
//   rule().ipDaddr('192.168.32.200').dnat('10.1.2.2')
//   rule().ipSaddr('10.1.0.0/16').ipDaddr('169.254.169.254').tcpDport(80).dnat('169.254.169.254:8773')
//   rule().ctState('established', 'related').accept()
//   rule().ipDaddr('10.1.0.0/16', { not: true }).accept()
//   rule().l4proto('tcp').dport(22).ipDaddr('10.1.2.0/27').accept().comment('authorize')
//   rule().dnatMap('@pubmap')
//
// Every value is parsed and checked when its method is called (bad input
// throws ValidationError naming the field); build() only places the protocol
// dependencies the table family needs, so encoding never parses strings.
import { ValidationError } from '../../errors.js';
import { INET_PROTOS, dataType, padded, type Scalar } from '../datatypes.js';
import { FIELDS, IPPROTO_TCP, IPPROTO_UDP, type FieldName } from './fields.js';
import { loadExpr, lowerMatch, parseMatch, setName, type MatchOptions } from './lower.js';
import { RuleActions, type Dep } from './actions.js';
import type { Expr, Family } from '../types.js';

export type { MatchOptions } from './lower.js';
export type { Dep, Part } from './actions.js';

export class RuleBuilder extends RuleActions {
  /** Matches a field against a value, a CIDR, a range or a set ("@name"). */
  match(name: FieldName, value: Scalar, opts: MatchOptions = {}): this {
    const f = FIELDS.get(name);
    if (!f) throw new ValidationError('field', name, 'unknown field');
    const parsed = parseMatch(f, value, name);
    this.depsFor(f);
    for (const e of lowerMatch(f, parsed, opts, name)) this.parts.push(e);
    return this;
  }

  ipSaddr(v: string, o?: MatchOptions): this { return this.match('ip saddr', v, o); }
  ipDaddr(v: string, o?: MatchOptions): this { return this.match('ip daddr', v, o); }
  ipProtocol(v: Scalar, o?: MatchOptions): this {
    this.match('ip protocol', v, o);
    this.setL4(v, o);
    return this;
  }
  ip6Saddr(v: string, o?: MatchOptions): this { return this.match('ip6 saddr', v, o); }
  ip6Daddr(v: string, o?: MatchOptions): this { return this.match('ip6 daddr', v, o); }
  etherSaddr(v: string, o?: MatchOptions): this { return this.match('ether saddr', v, o); }
  etherDaddr(v: string, o?: MatchOptions): this { return this.match('ether daddr', v, o); }
  iifname(v: string, o?: MatchOptions): this { return this.match('iifname', v, o); }
  oifname(v: string, o?: MatchOptions): this { return this.match('oifname', v, o); }
  /** Input interface by index (iif). */
  iif(index: number, o?: MatchOptions): this { return this.match('iif', index, o); }
  oif(index: number, o?: MatchOptions): this { return this.match('oif', index, o); }
  mark(v: Scalar, o?: MatchOptions): this { return this.match('meta mark', v, o); }
  nfproto(v: 'ipv4' | 'ipv6'): this {
    this.match('meta nfproto', v);
    this.l3 = v;
    return this;
  }
  /** "meta l4proto tcp": also sets the protocol that sport()/dport() refer to. */
  l4proto(v: Scalar, o?: MatchOptions): this {
    this.match('meta l4proto', v, o);
    this.setL4(v, o);
    return this;
  }
  sport(v: Scalar, o?: MatchOptions): this { return this.match(this.portField('sport'), v, o); }
  dport(v: Scalar, o?: MatchOptions): this { return this.match(this.portField('dport'), v, o); }
  tcpSport(v: Scalar, o?: MatchOptions): this { return this.match('tcp sport', v, o); }
  tcpDport(v: Scalar, o?: MatchOptions): this { return this.match('tcp dport', v, o); }
  udpSport(v: Scalar, o?: MatchOptions): this { return this.match('udp sport', v, o); }
  udpDport(v: Scalar, o?: MatchOptions): this { return this.match('udp dport', v, o); }
  icmpType(v: Scalar, o?: MatchOptions): this { return this.match('icmp type', v, o); }
  icmpCode(v: Scalar, o?: MatchOptions): this { return this.match('icmp code', v, o); }
  icmpv6Type(v: Scalar, o?: MatchOptions): this { return this.match('icmpv6 type', v, o); }
  /** "ct state established,related": matches if any of the states is set. */
  ctState(...states: string[]): this { return this.match('ct state', states.join(','), {}); }
  notCtState(...states: string[]): this { return this.match('ct state', states.join(','), { not: true }); }
  ctStatus(...bits: string[]): this { return this.match('ct status', bits.join(','), {}); }
  ctDirection(v: 'original' | 'reply'): this { return this.match('ct direction', v); }
  ctMark(v: Scalar, o?: MatchOptions): this { return this.match('ct mark', v, o); }

  /** Looks the field (or a concatenation of fields) up in a named set: lookup('@allowed', 'ip saddr'). */
  lookup(set: string, fields: FieldName | FieldName[], o: { not?: boolean } = {}): this {
    const name = setName(set);
    this.loadKey(fields);
    this.parts.push(o.not ? { kind: 'lookup', set: name, sreg: 1, invert: true } : { kind: 'lookup', set: name, sreg: 1 });
    return this;
  }
  /** Verdict map: "iifname vmap @name". */
  vmap(set: string, fields: FieldName | FieldName[]): this {
    const name = setName(set);
    this.loadKey(fields);
    this.parts.push({ kind: 'lookup', set: name, sreg: 1, dreg: 0 });
    return this;
  }

  /** Resolves dependencies for the table family and returns the rule's expressions. */
  build(family: Family): Expr[] {
    const out: Expr[] = [];
    for (const p of this.parts) {
      if ('kind' in p) out.push(p);
      else out.push(...resolveDep(p, family, this.l3));
    }
    return out;
  }

  /** Loads the key of a (possibly concatenated) lookup: first field in reg 1, the rest in 32-bit registers. */
  private loadKey(names: FieldName | FieldName[]): void {
    const list = (Array.isArray(names) ? names : [names]).map((n) => {
      const f = FIELDS.get(n);
      if (!f) throw new ValidationError('field', n, 'unknown field');
      return f;
    });
    // Dependencies first: they use register 1, which the key is about to occupy.
    for (const f of list) this.depsFor(f);
    let slot = 0;
    list.forEach((f, i) => {
      this.parts.push(loadExpr(f, i === 0 ? 1 : 8 + slot));
      slot += padded(f.len) / 4;
    });
  }

  private portField(which: 'sport' | 'dport'): FieldName {
    if (this.l4 === IPPROTO_TCP) return `tcp ${which}`;
    if (this.l4 === IPPROTO_UDP) return `udp ${which}`;
    throw new ValidationError(which, this.l4, 'needs a transport protocol first: l4proto("tcp") or l4proto("udp")');
  }

  private setL4(v: Scalar, o?: MatchOptions): void {
    if (o?.not || o?.op) return;
    const n = typeof v === 'string' ? INET_PROTOS[v] ?? Number(v) : Number(v);
    if (Number.isInteger(n)) this.l4 = n;
  }
}

const NFPROTO_DATA = { ipv4: Buffer.from([2]), ipv6: Buffer.from([10]) };
const ETHERTYPE_DATA = { ipv4: Buffer.from([0x08, 0x00]), ipv6: Buffer.from([0x86, 0xdd]) };

function resolveDep(d: Dep, family: Family, l3: 'ipv4' | 'ipv6' | undefined): Expr[] {
  if (d.dep === 'reject') return [rejectFor(family, l3)];
  if (d.dep === 'll') {
    if (family === 'bridge' || family === 'netdev') return [];
    return [{ kind: 'meta', key: 'iiftype', dreg: 1 }, { kind: 'cmp', sreg: 1, op: 'eq', data: dataType('iface_type').parse('ether', 'iiftype') }];
  }
  const want = d.dep;
  if ((family === 'ip' && want === 'ipv4') || (family === 'ip6' && want === 'ipv6')) return [];
  if (family === 'ip' || family === 'ip6' || family === 'arp') {
    throw new ValidationError('rule', want, `${want} match in a ${family} table`);
  }
  if (family === 'inet') return [{ kind: 'meta', key: 'nfproto', dreg: 1 }, { kind: 'cmp', sreg: 1, op: 'eq', data: NFPROTO_DATA[want] }];
  return [{ kind: 'meta', key: 'protocol', dreg: 1 }, { kind: 'cmp', sreg: 1, op: 'eq', data: ETHERTYPE_DATA[want] }];
}

/** Plain "reject": ICMP port unreachable for the family, ICMPX where the family is mixed. */
function rejectFor(family: Family, l3: 'ipv4' | 'ipv6' | undefined): Expr {
  if (family === 'ip' || (family !== 'ip6' && l3 === 'ipv4')) return { kind: 'reject', type: 'icmp', code: 3 };
  if (family === 'ip6' || l3 === 'ipv6') return { kind: 'reject', type: 'icmp', code: 4 };
  return { kind: 'reject', type: 'icmpx', code: 1 };
}

/** Starts a rule. */
export function rule(): RuleBuilder {
  return new RuleBuilder();
}
