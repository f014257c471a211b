// Lowering of parsed matches into expressions, the way nft 1.0.6 does it:
//
//   ip daddr 192.168.32.200     payload load 4b @ network + 16 => reg 1; cmp eq reg 1 c0a820c8
//   ip saddr 10.1.0.0/16        payload load 2b @ network + 12 => reg 1; cmp eq reg 1 0a01   (byte-aligned prefix)
//   ip saddr 10.1.2.0/27        payload load 4b; bitwise reg 1 = (reg 1 & ffffffe0) ^ 0; cmp eq reg 1 0a010200
//   tcp dport 1000-2000         payload load 2b; cmp gte 03e8; cmp lte 07d0
//   tcp dport != 1000-2000      payload load 2b; range neq 03e8 07d0
//   ct state established,related  ct load state; bitwise (& 6) ^ 0; cmp neq 0
//   ip saddr @blocklist         payload load 4b; lookup reg 1 set blocklist
import { ValidationError } from '../../errors.js';
import { prefixMask } from './addr.js';
import { BYTEORDER_BIG, dataType, type Scalar } from '../datatypes.js';
import type { Field } from './fields.js';
import type { CmpOp, Expr } from '../types.js';
import { validateName } from './validate.js';
import { parseRange } from './values.js';

/** A match value after parsing, ready to lower. */
export type Parsed =
  | { kind: 'set'; name: string }
  | { kind: 'value'; data: Buffer }
  | { kind: 'range'; from: Buffer; to: Buffer; prefix?: number }
  | { kind: 'bits'; mask: Buffer };

export interface MatchOptions {
  /** Negate: "!=", "!= @set", "!= a-b". */
  not?: boolean;
  /** Compare with <, <=, >, >= instead of equality (big-endian fields only). */
  op?: CmpOp;
}

export function loadExpr(f: Field, dreg: number, len = f.len): Expr {
  const l = f.load;
  if (l.kind === 'payload') return { kind: 'payload', base: l.base, offset: l.offset, len, dreg };
  if (l.kind === 'meta') return { kind: 'meta', key: l.key, dreg };
  return { kind: 'ct', key: l.key, dreg };
}

/** "@name" is a set reference. */
export function setRef(v: unknown, field: string): string | undefined {
  if (typeof v !== 'string' || !v.startsWith('@')) return undefined;
  return validateName(v.slice(1), field);
}

/** A set named with or without its '@'. */
export function setName(set: string): string {
  return setRef(set, 'set') ?? validateName(`${set}`, 'set');
}

export function parseMatch(f: Field, v: Scalar, what: string): Parsed {
  const set = setRef(v, what);
  if (set !== undefined) return { kind: 'set', name: set };
  const dt = dataType(f.type);
  if (dt.bitmask) return { kind: 'bits', mask: dt.parse(v, what) };
  if (f.type === 'ifname' && typeof v === 'string' && v.endsWith('*')) {
    const prefix = v.slice(0, -1);
    if (prefix.length === 0 || prefix.length > 15 || /[\0"\s]/.test(prefix)) {
      throw new ValidationError(what, v, 'expected an interface name or prefix followed by *');
    }
    return { kind: 'value', data: Buffer.from(prefix) };
  }
  const r = parseRange(f.type, v, what);
  if (r.prefix === undefined && (r.from === r.to || r.from.equals(r.to))) return { kind: 'value', data: r.from };
  if (dt.byteorder !== BYTEORDER_BIG && dt.len > 1) throw new ValidationError(what, v, 'ranges need a big-endian field');
  return r.prefix === undefined ? { kind: 'range', from: r.from, to: r.to } : { kind: 'range', from: r.from, to: r.to, prefix: r.prefix };
}

const REG = 1;

/** Expressions for one match of field `f` against a parsed value, in register 1. */
export function lowerMatch(f: Field, v: Parsed, opts: MatchOptions, what: string): Expr[] {
  const neg = opts.not === true;
  if (v.kind === 'set') {
    const e: Expr = { kind: 'lookup', set: v.name, sreg: REG };
    if (neg) e.invert = true;
    return [loadExpr(f, REG), e];
  }
  if (v.kind === 'bits') {
    return [
      loadExpr(f, REG),
      { kind: 'bitwise', sreg: REG, dreg: REG, len: f.len, mask: v.mask, xor: Buffer.alloc(f.len) },
      { kind: 'cmp', sreg: REG, op: neg ? 'eq' : 'neq', data: Buffer.alloc(f.len) },
    ];
  }
  if (v.kind === 'value') {
    const op: CmpOp = opts.op ?? (neg ? 'neq' : 'eq');
    if (opts.op && dataType(f.type).byteorder !== BYTEORDER_BIG && f.len > 1) {
      throw new ValidationError(what, opts.op, 'ordered comparisons need a big-endian field');
    }
    return [loadExpr(f, REG), { kind: 'cmp', sreg: REG, op, data: v.data }];
  }
  if (v.prefix !== undefined) return lowerPrefix(f, v.from, v.prefix, neg, what);
  if (neg) return [loadExpr(f, REG), { kind: 'range', sreg: REG, op: 'neq', from: v.from, to: v.to }];
  return [
    loadExpr(f, REG),
    { kind: 'cmp', sreg: REG, op: 'gte', data: v.from },
    { kind: 'cmp', sreg: REG, op: 'lte', data: v.to },
  ];
}

function lowerPrefix(f: Field, addr: Buffer, bits: number, neg: boolean, what: string): Expr[] {
  const op: CmpOp = neg ? 'neq' : 'eq';
  if (bits === 0) {
    if (neg) throw new ValidationError(what, `${bits}`, 'a negated /0 never matches');
    return [];
  }
  if (bits === f.len * 8) return [loadExpr(f, REG), { kind: 'cmp', sreg: REG, op, data: addr }];
  if (bits % 8 === 0) {
    const len = bits / 8;
    return [loadExpr(f, REG, len), { kind: 'cmp', sreg: REG, op, data: addr.subarray(0, len) }];
  }
  return [
    loadExpr(f, REG),
    { kind: 'bitwise', sreg: REG, dreg: REG, len: f.len, mask: prefixMask(f.len, bits), xor: Buffer.alloc(f.len) },
    { kind: 'cmp', sreg: REG, op, data: addr },
  ];
}
