// The statements of a rule (what acts rather than matches), as nft prints
// them: NAT, masquerade, redirect, counter, log, limit, reject, and setting
// meta / ct / payload values. The registers they read come from the
// RuleRenderer (rule.ts), which has followed the loads before them.
import { formatIPv4, formatIPv6 } from '../build/addr.js';
import { dataType } from '../datatypes.js';
import type { Expr, LimitExpr, LogExpr, NatExpr, NatFlag, RejectExpr } from '../types.js';
import type { Reg, RuleRenderer } from './rule.js';

const ICMPX = ['no-route', 'port-unreachable', 'host-unreachable', 'admin-prohibited'];
const ICMPV6 = ['no-route', 'admin-prohibited', '', 'addr-unreachable', 'port-unreachable', 'policy-fail', 'reject-route'];
const UNITS: Record<number, string> = { 1: 'second', 60: 'minute', 3600: 'hour', 86400: 'day', 604800: 'week' };

export function renderStatement(r: RuleRenderer, e: Expr): string {
  switch (e.kind) {
    case 'nat':
      return nat(r, e);
    case 'masq':
      return `masquerade${ports(r, e.regProtoMin, e.regProtoMax)}${flags(e.flags)}`;
    case 'redir':
      return `redirect${ports(r, e.regProtoMin, e.regProtoMax)}${flags(e.flags)}`;
    case 'counter':
      return `counter packets ${e.packets ?? 0n} bytes ${e.bytes ?? 0n}`;
    case 'log':
      return log(e);
    case 'limit':
      return limit(e);
    case 'reject':
      return reject(r, e);
    case 'meta':
      return `meta ${e.key} set ${value(r.use(e.sreg ?? 1), e.key === 'mark' ? 'mark' : undefined)}`;
    case 'ct':
      return `ct ${e.key} set ${value(r.use(e.sreg ?? 1), e.key === 'mark' ? 'mark' : undefined)}`;
    case 'payload': {
      const base = { ll: 'll', network: 'nh', transport: 'th', inner: 'ih' }[e.base];
      return `@${base},${e.offset * 8},${e.len * 8} set ${value(r.use(e.sreg ?? 1))}`;
    }
    case 'raw':
      return `<raw ${e.name} ${e.data.toString('hex')}>`;
    default:
      return `<${e.kind}>`;
  }
}

/** A register read by a statement: a constant formatted by type, or the text of what was loaded. */
function value(reg: Reg, type?: 'mark'): string {
  if (!reg.data) return reg.text;
  if (type) return dataType(type).format(reg.data);
  return `0x${reg.data.toString('hex')}`;
}

function addr(reg: Reg, family: 'ip' | 'ip6'): string {
  if (!reg.data) return reg.text;
  return family === 'ip6' ? formatIPv6(reg.data) : formatIPv4(reg.data);
}

function port(reg: Reg): string {
  return reg.data && reg.data.length >= 2 ? String(reg.data.readUInt16BE(0)) : reg.text;
}

function ports(r: RuleRenderer, min: number | undefined, max: number | undefined): string {
  if (min === undefined) return '';
  return ` to :${port(r.use(min))}${max !== undefined ? `-${port(r.use(max))}` : ''}`;
}

function flags(f: readonly NatFlag[] | undefined): string {
  return f?.length ? ` ${f.join(',')}` : '';
}

function nat(r: RuleRenderer, e: NatExpr): string {
  const fam = r.family === 'inet' ? ` ${e.family}` : '';
  let to = '';
  if (e.regAddrMin !== undefined) {
    const min = r.use(e.regAddrMin);
    to = addr(min, e.family);
    if (e.regAddrMax !== undefined) to += `-${addr(r.use(e.regAddrMax), e.family)}`;
    if (e.family === 'ip6' && e.regProtoMin !== undefined && min.data) to = `[${to}]`;
  }
  if (e.regProtoMin !== undefined) {
    to += `:${port(r.use(e.regProtoMin))}`;
    if (e.regProtoMax !== undefined) to += `-${port(r.use(e.regProtoMax))}`;
  }
  return `${e.nat}${fam} to ${to}${flags(e.flags)}`;
}

function log(e: LogExpr): string {
  const p = ['log'];
  if (e.prefix !== undefined) p.push(`prefix ${JSON.stringify(e.prefix)}`);
  if (e.group !== undefined) p.push(`group ${e.group}`);
  if (e.snaplen !== undefined) p.push(`snaplen ${e.snaplen}`);
  if (e.qthreshold !== undefined) p.push(`queue-threshold ${e.qthreshold}`);
  if (e.level !== undefined && e.group === undefined) p.push(`level ${e.level}`);
  if (e.flags) p.push(`flags ${logFlags(e.flags)}`);
  return p.join(' ');
}

// NF_LOG_* (/usr/include/linux/netfilter/nf_log.h) by nft's names.
function logFlags(f: number): string {
  if ((f & 0x2f) === 0x2f) return 'all';
  const names: Array<[number, string]> = [
    [1, 'tcp sequence'],
    [2, 'tcp options'],
    [4, 'ip options'],
    [8, 'skuid'],
    [0x20, 'ether'],
  ];
  return names
    .filter(([b]) => f & b)
    .map(([, n]) => n)
    .join(',');
}

function bytesRate(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} mbytes`;
  if (n % 1024 === 0) return `${n / 1024} kbytes`;
  return `${n} bytes`;
}

function limit(e: LimitExpr): string {
  const unit = UNITS[e.unit] ?? `${e.unit}`;
  const over = e.over ? 'over ' : '';
  if (e.type === 'bytes') {
    return `limit rate ${over}${bytesRate(e.rate)}/${unit}${e.burst ? ` burst ${bytesRate(e.burst)}` : ''}`;
  }
  return `limit rate ${over}${e.rate}/${unit}${e.burst !== 5 ? ` burst ${e.burst} packets` : ''}`;
}

function reject(r: RuleRenderer, e: RejectExpr): string {
  if (e.type === 'tcp-reset') return 'reject with tcp reset';
  // The family's default, which nft lists as a plain "reject".
  const f = r.family;
  if ((f === 'ip' && e.type === 'icmp' && e.code === 3) || (f === 'ip6' && e.type === 'icmp' && e.code === 4)) return 'reject';
  if (f !== 'ip' && f !== 'ip6' && e.type === 'icmpx' && e.code === 1) return 'reject';
  if (e.type === 'icmpx') return `reject with icmpx ${ICMPX[e.code ?? 1] ?? e.code}`;
  // nft adds the "meta nfproto" a family-specific reject needs in inet tables.
  r.dropDep('l3');
  if (r.l3 === 'ipv6') return `reject with icmpv6 ${ICMPV6[e.code ?? 4] || e.code}`;
  return `reject with icmp ${dataType('icmp_code').format(Buffer.from([e.code ?? 3]))}`;
}
