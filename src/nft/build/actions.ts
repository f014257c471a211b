// The statement half of the rule builder: verdicts, NAT, counters, logging,
// limits, reject, marks, comments. Matches are in builder.ts.
import { ValidationError } from '../../errors.js';
import { dataType, type Scalar } from '../datatypes.js';
import { parseVerdict } from './elements.js';
import { FIELDS, knownField, type Field, type FieldName } from './fields.js';
import { loadExpr, lowerMatch, setRef } from './lower.js';
import { lowerNatTarget, natFlags, parseNatTarget, parsePorts, type NatOptions } from './nat-target.js';
import type { Expr, LogLevel, NatExpr, RejectExpr } from '../types.js';
import { LOG_LEVELS } from '../wire/expr/log.js';

/** A dependency placed at build time, once the table family is known. */
export type Dep = { dep: 'ipv4' | 'ipv6' | 'll' } | { dep: 'reject' };
export type Part = Expr | Dep;

export interface LogOptions {
  prefix?: string;
  level?: LogLevel;
  group?: number;
  snaplen?: number;
  qthreshold?: number;
}
export interface LimitOptions {
  per?: 'second' | 'minute' | 'hour' | 'day' | 'week';
  burst?: number;
  bytes?: boolean;
  over?: boolean;
}
export interface RejectOptions {
  tcpReset?: boolean;
  icmp?: string;
  icmpv6?: string;
  icmpx?: string;
}

const PER: Record<NonNullable<LimitOptions['per']>, number> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };
const ICMPX_CODES: Record<string, number> = { 'no-route': 0, 'port-unreachable': 1, 'host-unreachable': 2, 'admin-prohibited': 3 };
const ICMPV6_CODES: Record<string, number> = {
  'no-route': 0, 'admin-prohibited': 1, 'addr-unreachable': 3, 'port-unreachable': 4, 'policy-fail': 5, 'reject-route': 6,
};

export abstract class RuleActions {
  protected readonly parts: Part[] = [];
  protected l3: 'ipv4' | 'ipv6' | undefined;
  protected l4: number | undefined;
  protected ll = false;
  /** The rule's comment, if comment() was called. */
  note: string | undefined;

  accept(): this { return this.verdict('accept'); }
  drop(): this { return this.verdict('drop'); }
  continue(): this { return this.verdict('continue'); }
  return(): this { return this.verdict('return'); }
  jump(chain: string): this { return this.verdict(`jump ${chain}`); }
  goto(chain: string): this { return this.verdict(`goto ${chain}`); }
  private verdict(v: string): this {
    if (/\s/.test(v.replace(/^(jump|goto) /, ''))) throw new ValidationError('chain', v.slice(5), 'malformed chain name');
    this.parts.push({ kind: 'immediate', dreg: 0, verdict: parseVerdict(v, 'verdict') });
    return this;
  }

  counter(): this {
    this.parts.push({ kind: 'counter' });
    return this;
  }

  log(o: LogOptions = {}): this {
    const e: Expr = { kind: 'log' };
    if (o.prefix !== undefined) {
      if (typeof o.prefix !== 'string' || Buffer.byteLength(o.prefix) > 127 || o.prefix.includes('"')) {
        throw new ValidationError('log prefix', o.prefix, 'expected at most 127 bytes without quotes');
      }
      e.prefix = o.prefix;
    }
    if (o.level !== undefined && o.level !== 'warn') {
      if (!LOG_LEVELS.includes(o.level)) throw new ValidationError('log level', o.level, `expected one of ${LOG_LEVELS.join(', ')}`);
      e.level = o.level;
    }
    if (o.group !== undefined) e.group = uint(o.group, 'log group', 0xffff);
    if (o.snaplen !== undefined) e.snaplen = uint(o.snaplen, 'log snaplen', 0xffffffff);
    if (o.qthreshold !== undefined) e.qthreshold = uint(o.qthreshold, 'log queue-threshold', 0xffff);
    this.parts.push(e);
    return this;
  }

  /** "limit rate [over] N/second [burst B packets]"; bytes: true counts bytes. */
  limit(rate: number, o: LimitOptions = {}): this {
    const unit = PER[o.per ?? 'second'];
    if (unit === undefined) throw new ValidationError('limit per', o.per, 'expected second, minute, hour, day or week');
    this.parts.push({
      kind: 'limit',
      rate: uint(rate, 'limit rate', Number.MAX_SAFE_INTEGER),
      unit,
      burst: uint(o.burst ?? (o.bytes ? 0 : 5), 'limit burst', 0xffffffff),
      type: o.bytes ? 'bytes' : 'packets',
      ...(o.over ? { over: true } : {}),
    });
    return this;
  }

  reject(o: RejectOptions = {}): this {
    let e: RejectExpr | undefined;
    if (o.tcpReset) {
      this.depsFor(knownField('tcp dport'));
      e = { kind: 'reject', type: 'tcp-reset' };
    } else if (o.icmp !== undefined) {
      this.depsFor(knownField('ip saddr'));
      e = { kind: 'reject', type: 'icmp', code: dataType('icmp_code').parse(o.icmp, 'reject with icmp')[0] };
    } else if (o.icmpv6 !== undefined) {
      this.depsFor(knownField('ip6 saddr'));
      e = { kind: 'reject', type: 'icmp', code: code(ICMPV6_CODES, o.icmpv6, 'reject with icmpv6') };
    } else if (o.icmpx !== undefined) {
      e = { kind: 'reject', type: 'icmpx', code: code(ICMPX_CODES, o.icmpx, 'reject with icmpx') };
    }
    this.parts.push(e ?? { dep: 'reject' });
    return this;
  }

  /** "dnat to 10.1.2.2", "dnat to 169.254.169.254:8773", dnat('10.0.0.1', '80-90'). */
  dnat(to: string, port?: Scalar, o?: NatOptions): this { return this.nat('dnat', to, port, o); }
  snat(to: string, port?: Scalar, o?: NatOptions): this { return this.nat('snat', to, port, o); }

  private nat(type: 'snat' | 'dnat', to: string, port: Scalar | undefined, o: NatOptions | undefined): this {
    const t = parseNatTarget(to, port, `${type} to`);
    if (t.port && this.l4 === undefined) throw new ValidationError(`${type} to`, to, 'a port needs a transport protocol match first');
    const e: NatExpr = { kind: 'nat', nat: type, family: t.family };
    lowerNatTarget(t, this.parts, e);
    const flags = natFlags(o);
    if (flags) e.flags = flags;
    this.parts.push(e);
    return this;
  }

  /** "dnat to ip daddr map @pubmap": the map gives the new address for the key field. */
  dnatMap(map: string, key: FieldName = 'ip daddr'): this { return this.natMap('dnat', map, key); }
  snatMap(map: string, key: FieldName = 'ip saddr'): this { return this.natMap('snat', map, key); }

  private natMap(type: 'snat' | 'dnat', map: string, key: FieldName): this {
    const set = setRef(map, `${type} map`);
    if (set === undefined) throw new ValidationError(`${type} map`, map, 'expected "@mapname"');
    const f = FIELDS.get(key);
    if (!f) throw new ValidationError(`${type} map key`, key, 'unknown field');
    this.depsFor(f);
    const family = f.type === 'ipv6_addr' ? 'ip6' : 'ip';
    const nat: NatExpr = { kind: 'nat', nat: type, family, regAddrMin: 1 };
    this.parts.push(loadExpr(f, 1), { kind: 'lookup', set, sreg: 1, dreg: 1 }, nat);
    return this;
  }

  /** "masquerade [to :ports] [random|fully-random|persistent]". */
  masquerade(o: NatOptions & { ports?: Scalar } = {}): this {
    const e: Expr = { kind: 'masq' };
    if (o.ports !== undefined) this.portRegs(e, o.ports, 'masquerade to');
    const flags = natFlags(o);
    if (flags) e.flags = flags;
    this.parts.push(e);
    return this;
  }

  /** "redirect [to :port]". */
  redirect(port?: Scalar, o?: NatOptions): this {
    const e: Expr = { kind: 'redir' };
    if (port !== undefined) this.portRegs(e, port, 'redirect to');
    const flags = natFlags(o);
    if (flags) e.flags = flags;
    this.parts.push(e);
    return this;
  }

  private portRegs(e: { regProtoMin?: number; regProtoMax?: number }, ports: Scalar, what: string): void {
    if (this.l4 === undefined) throw new ValidationError(what, ports, 'a port needs a transport protocol match first');
    const p = parsePorts(ports, what);
    this.parts.push({ kind: 'immediate', dreg: 1, data: p.from });
    e.regProtoMin = 1;
    if (!p.to.equals(p.from)) {
      this.parts.push({ kind: 'immediate', dreg: 2, data: p.to });
      e.regProtoMax = 2;
    }
  }

  /** "meta mark set 0x20". */
  setMark(v: Scalar): this {
    this.parts.push({ kind: 'immediate', dreg: 1, data: dataType('mark').parse(v, 'meta mark set') }, { kind: 'meta', key: 'mark', sreg: 1 });
    return this;
  }
  /** "ct mark set 0x5". */
  setCtMark(v: Scalar): this {
    this.parts.push({ kind: 'immediate', dreg: 1, data: dataType('mark').parse(v, 'ct mark set') }, { kind: 'ct', key: 'mark', sreg: 1 });
    return this;
  }

  comment(text: string): this {
    if (typeof text !== 'string' || Buffer.byteLength(text) > 127 || /["\n]/.test(text)) {
      throw new ValidationError('comment', text, 'expected at most 127 bytes without quotes or newlines');
    }
    this.note = text;
    return this;
  }

  /** Appends an expression as is (for what the builder has no method for). */
  expr(...e: Expr[]): this {
    this.parts.push(...e);
    return this;
  }

  /** Adds what a field needs before it: network protocol, transport protocol, link layer. */
  protected depsFor(f: Field): void {
    if (f.l3) {
      if (this.l3 && this.l3 !== f.l3) throw new ValidationError(f.name, f.l3, `conflicts with the ${this.l3} match before it`);
      if (!this.l3) this.parts.push({ dep: f.l3 });
      this.l3 = f.l3;
    }
    if (f.l4 !== undefined && this.l4 !== f.l4) {
      this.parts.push(...lowerMatch(knownField('meta l4proto'), { kind: 'value', data: protoByte(f.l4) }, {}, f.name));
      this.l4 = f.l4;
    }
    if (f.ll && !this.ll) {
      this.parts.push({ dep: 'll' });
      this.ll = true;
    }
  }
}

const PROTO_BYTES = new Map<number, Buffer>();
/** One-byte protocol numbers, shared (expressions never mutate their data). */
function protoByte(p: number): Buffer {
  let b = PROTO_BYTES.get(p);
  if (!b) PROTO_BYTES.set(p, (b = Buffer.from([p])));
  return b;
}

function uint(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new ValidationError(field, v, `expected an integer from 0 to ${max}`);
  return v;
}

function code(table: Record<string, number>, v: string, field: string): number {
  const n = table[v];
  if (n === undefined) throw new ValidationError(field, v, `expected one of ${Object.keys(table).join(', ')}`);
  return n;
}
