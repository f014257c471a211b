// NAT targets as users write them, parsed once:
//   '10.1.2.2'   '10.1.2.2:8080'   '10.0.0.1-10.0.0.9'   '[2001:db8::1]:80'   '2001:db8::1'
// plus an optional separate port (8080 or '80-90'). Lowered the way nft does:
// immediates into registers 1, 2, ... then the nat expression naming them.
import { ValidationError } from '../../errors.js';
import { parseIPv6 } from './addr.js';
import type { Scalar } from '../datatypes.js';
import type { Expr, NatExpr, NatFlag } from '../types.js';
import { parseRange } from './values.js';

export interface NatTarget {
  family: 'ip' | 'ip6';
  addr?: { from: Buffer; to: Buffer };
  port?: { from: Buffer; to: Buffer };
}

export interface NatOptions {
  random?: boolean;
  fullyRandom?: boolean;
  persistent?: boolean;
}

export function natFlags(o: NatOptions | undefined): NatFlag[] | undefined {
  const f: NatFlag[] = [];
  if (o?.random) f.push('random');
  if (o?.fullyRandom) f.push('fully-random');
  if (o?.persistent) f.push('persistent');
  return f.length ? f : undefined;
}

function splitSpec(spec: string, field: string): { addr: string; port?: string; v6: boolean } {
  const colon = spec.indexOf(':');
  if (colon < 0) return { addr: spec, v6: false };
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    const rest = spec.slice(close + 1);
    if (close < 0 || (rest && !rest.startsWith(':'))) throw new ValidationError(field, spec, 'malformed [IPv6]:port');
    return rest ? { addr: spec.slice(1, close), port: rest.slice(1), v6: true } : { addr: spec.slice(1, close), v6: true };
  }
  const colons = spec.split(':').length - 1;
  if (colons === 1) {
    const [addr, port] = spec.split(':') as [string, string];
    return { addr, port, v6: false };
  }
  return { addr: spec, v6: colons > 1 };
}

export function parsePorts(v: Scalar, field: string): { from: Buffer; to: Buffer } {
  const r = parseRange('inet_service', typeof v === 'string' ? v.trim() : v, field);
  return { from: r.from, to: r.to };
}

export function parseNatTarget(spec: string, port: Scalar | undefined, field: string): NatTarget {
  if (typeof spec !== 'string' || spec.length === 0) throw new ValidationError(field, spec, 'expected an address');
  const s = splitSpec(spec.trim(), field);
  const v6 = s.v6 || (s.addr.includes(':') && !!parseIPv6(s.addr.split('-')[0] ?? ''));
  const t: NatTarget = { family: v6 ? 'ip6' : 'ip' };
  if (s.addr !== '') {
    const r = parseRange(v6 ? 'ipv6_addr' : 'ipv4_addr', s.addr, field);
    if (r.prefix !== undefined) throw new ValidationError(field, spec, 'expected an address or a-b range, not a prefix');
    t.addr = { from: r.from, to: r.to };
  }
  if (s.port !== undefined && port !== undefined) throw new ValidationError(field, spec, 'port given twice');
  const p = s.port ?? port;
  if (p !== undefined) t.port = parsePorts(p, `${field} port`);
  if (!t.addr && !t.port) throw new ValidationError(field, spec, 'expected an address or a port');
  return t;
}

/** Appends immediates for `t` (registers 1, 2, ...) to `out` and names the registers in `e`. */
export function lowerNatTarget(t: NatTarget, out: Array<Expr | object>, e: Partial<NatExpr>): void {
  let reg = 1;
  const put = (data: Buffer): number => {
    out.push({ kind: 'immediate', dreg: reg, data });
    return reg++;
  };
  if (t.addr) {
    e.regAddrMin = put(t.addr.from);
    if (t.addr.to !== t.addr.from && !t.addr.to.equals(t.addr.from)) e.regAddrMax = put(t.addr.to);
  }
  if (t.port) {
    e.regProtoMin = put(t.port.from);
    if (t.port.to !== t.port.from && !t.port.to.equals(t.port.from)) e.regProtoMax = put(t.port.to);
  }
}
