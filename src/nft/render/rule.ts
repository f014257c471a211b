// Renders a rule's expressions as nft statements, the inverse of build/lower.ts:
// it follows what each register holds (a field, a constant, a map result)
// and prints loads together with the cmp / bitwise / range / lookup that
// consumes them; then the statements (what acts rather than matches): NAT,
// masquerade, redirect, counter, log, limit, reject, and setting meta / ct
// values. Protocol dependencies nft would add by itself ("meta l4proto
// tcp" before "tcp dport") are left out, as `nft list` does.
import { isZero, maskPrefixLen } from '../build/addr.js';
import { renderStatement } from './statement.js';
import { fieldOfLoad, type Field, type Load } from '../build/fields.js';
import { formatValue } from '../build/values.js';
import { dataType, padded } from '../datatypes.js';
import type { BitwiseExpr, CmpExpr, DataTypeName, Expr, Family, LookupExpr } from '../types.js';
import { must } from '../../util/must.js';

export interface Reg {
  text: string;
  type: DataTypeName;
  len: number;
  field?: Field;
  /** Bytes of the field actually loaded, when fewer than the field's length (prefix match). */
  partial?: boolean;
  data?: Buffer;
  mask?: Buffer;
  xor?: Buffer;
  /** An integer in host byte order (meta / ct keys without a known type). */
  host?: boolean;
}

interface Stmt {
  text: string;
  dep?: 'l3' | 'l4' | 'll';
}

const CMP_SYMBOL: Record<CmpExpr['op'], string> = { eq: '', neq: '!= ', lt: '< ', lte: '<= ', gt: '> ', gte: '>= ' };

export function slot(reg: number): number {
  return reg >= 8 ? reg - 8 : (reg - 1) * 4;
}

export class RuleRenderer {
  readonly regs = new Map<number, Reg>();
  private pending: number[] = [];
  private readonly out: Stmt[] = [];
  l3: 'ipv4' | 'ipv6' | undefined;
  l4: number | undefined;

  /** `anon` gives the inline text ("{ 22, 80 }") of anonymous sets, which have no usable name. */
  constructor(
    readonly family: Family,
    private readonly anon?: (set: string) => string | undefined,
  ) {
    if (family === 'ip') this.l3 = 'ipv4';
    if (family === 'ip6') this.l3 = 'ipv6';
  }

  render(exprs: readonly Expr[]): string {
    for (let i = 0; i < exprs.length; i++) {
      const e = exprs[i];
      const next = exprs[i + 1];
      if (e.kind === 'cmp' && e.op === 'gte' && next?.kind === 'cmp' && next.op === 'lte' && next.sreg === e.sreg) {
        this.emit(`${this.use(e.sreg).text} ${formatValue(this.use(e.sreg).type, e.data)}-${formatValue(this.use(e.sreg).type, next.data)}`);
        this.consume(e.sreg);
        i++;
        continue;
      }
      this.step(e);
    }
    return this.out.map((s) => s.text).join(' ');
  }

  /** The register's contents, or a placeholder for a register nothing was loaded into. */
  use(reg: number): Reg {
    return this.regs.get(slot(reg)) ?? { text: `reg${reg}`, type: 'integer', len: 4 };
  }

  emit(text: string, dep?: Stmt['dep']): void {
    this.out.push(dep ? { text, dep } : { text });
  }

  private consume(reg: number): void {
    this.pending = this.pending.filter((s) => s !== slot(reg));
  }

  private step(e: Expr): void {
    switch (e.kind) {
      case 'payload':
      case 'meta':
      case 'ct':
        if (e.dreg !== undefined) return this.load(e, e.dreg);
        return this.emit(renderStatement(this, e));
      case 'cmp':
        return this.cmp(e);
      case 'bitwise':
        return this.bitwise(e);
      case 'range': {
        const r = this.use(e.sreg);
        this.consume(e.sreg);
        return this.emit(`${r.text} ${e.op === 'neq' ? '!= ' : ''}${formatValue(r.type, e.from)}-${formatValue(r.type, e.to)}`);
      }
      case 'lookup':
        return this.lookup(e);
      case 'immediate':
        if (e.verdict) return this.emit(e.verdict.chain !== undefined ? `${e.verdict.code} ${quoteName(e.verdict.chain)}` : e.verdict.code);
        {
          const data = must(e.data, 'the data of an immediate without a verdict');
          this.regs.set(slot(e.dreg), { text: '', type: 'integer', len: data.length, data });
        }
        return;
      default:
        return this.emit(renderStatement(this, e));
    }
  }

  private load(e: Expr & { kind: 'payload' | 'meta' | 'ct' }, dreg: number): void {
    const load: Load = e.kind === 'payload' ? { kind: 'payload', base: e.base, offset: e.offset, len: e.len } : ({ kind: e.kind, key: e.key } as Load);
    const hit =
      e.kind === 'ct' && e.direction
        ? undefined
        : fieldOfLoad(load, { ...(this.l3 ? { l3: this.l3 } : {}), ...(this.l4 !== undefined ? { l4: this.l4 } : {}) });
    let reg: Reg;
    if (hit) {
      this.dropDependency(hit.field);
      reg = { text: hit.field.name, type: hit.field.type, len: e.kind === 'payload' ? e.len : hit.field.len, field: hit.field };
      if (hit.partial) reg.partial = true;
    } else if (e.kind === 'payload') {
      const base = { ll: 'll', network: 'nh', transport: 'th', inner: 'ih' }[e.base];
      reg = { text: `@${base},${e.offset * 8},${e.len * 8}`, type: 'integer', len: e.len };
    } else if (e.kind === 'meta') {
      reg = { text: `meta ${e.key}`, type: 'integer', len: 4, host: true };
    } else {
      reg = { text: `ct ${e.direction ? `${e.direction} ` : ''}${e.key}`, type: 'integer', len: 4, host: true };
    }
    const s = slot(dreg);
    this.regs.set(s, reg);
    this.pending = this.pending.filter((p) => p !== s);
    this.pending.push(s);
  }

  /**
   * Drops "meta l4proto tcp" / "meta nfproto ipv4" / "meta iiftype ether" from
   * the run of dependency statements just before a field that implies them.
   */
  private dropDependency(f: Field): void {
    const base = f.load.kind === 'payload' ? f.load.base : undefined;
    if (base === 'transport' && f.l4 !== undefined) this.dropDep('l4');
    if (base === 'network' || (base === 'transport' && f.l3)) this.dropDep('l3');
    if (base === 'll') this.dropDep('ll');
  }

  dropDep(kind: NonNullable<Stmt['dep']>): void {
    for (let i = this.out.length - 1; i >= 0 && this.out[i].dep; i--) {
      if (this.out[i].dep === kind) {
        this.out.splice(i, 1);
        return;
      }
    }
  }

  private cmp(e: CmpExpr): void {
    const r = this.use(e.sreg);
    this.consume(e.sreg);
    if (r.mask) return this.emit(this.maskedCmp(r, e));
    let value: string;
    if (r.partial && r.field) {
      const full = Buffer.alloc(r.field.len);
      e.data.copy(full);
      value = `${formatValue(r.type, full)}/${e.data.length * 8}`;
    } else if (r.type === 'integer') {
      // Raw payload is big endian (hex of the bytes); meta and ct values are host-order integers.
      value = r.host ? formatValue('integer', e.data) : `0x${e.data.toString('hex')}`;
    } else {
      value = formatValue(r.type, e.data);
    }
    this.emit(`${r.text} ${CMP_SYMBOL[e.op]}${value}`, e.op === 'eq' ? this.depKind(r, e.data) : undefined);
  }

  /** Marks the statements nft adds on its own as dependencies, and tracks protocol context. */
  private depKind(r: Reg, data: Buffer): Stmt['dep'] {
    const name = r.field?.name;
    if (name === 'meta l4proto' || name === 'ip protocol' || name === 'ip6 nexthdr') {
      this.l4 = data[0];
      return name === 'meta l4proto' ? 'l4' : undefined;
    }
    if (name === 'meta nfproto') {
      this.l3 = data[0] === 2 ? 'ipv4' : data[0] === 10 ? 'ipv6' : this.l3;
      return 'l3';
    }
    if (name === 'meta protocol' || name === 'ether type') {
      const t = data.readUInt16BE(0);
      this.l3 = t === 0x0800 ? 'ipv4' : t === 0x86dd ? 'ipv6' : this.l3;
      return name === 'meta protocol' ? 'l3' : undefined;
    }
    if (name === 'meta iiftype' && data.readUInt16LE(0) === 1) return 'll';
    return undefined;
  }

  private maskedCmp(r: Reg, e: CmpExpr): string {
    const mask = must(r.mask, 'the mask of a masked comparison');
    const dt = dataType(r.type === 'integer' ? 'integer' : r.type);
    if (dt.bitmask && isZero(e.data) && (e.op === 'neq' || e.op === 'eq') && isZero(r.xor ?? mask.subarray(0, 0))) {
      return `${r.text} ${e.op === 'eq' ? '!= ' : ''}${dt.format(mask)}`;
    }
    const bits = maskPrefixLen(mask);
    if (bits > 0 && r.field && (r.type === 'ipv4_addr' || r.type === 'ipv6_addr') && isZero(r.xor ?? Buffer.alloc(0))) {
      return `${r.text} ${CMP_SYMBOL[e.op]}${formatValue(r.type, e.data)}/${bits}`;
    }
    const hex = (b: Buffer) => `0x${b.toString('hex')}`;
    const xor = r.xor && !isZero(r.xor) ? ` ^ ${hex(r.xor)}` : '';
    return `${r.text} & ${hex(mask)}${xor} ${CMP_SYMBOL[e.op] || '== '}${hex(e.data)}`;
  }

  private bitwise(e: BitwiseExpr): void {
    const r = this.use(e.sreg);
    if (e.shift) {
      this.regs.set(slot(e.dreg), { text: `${r.text} ${e.shift.op === 'lshift' ? '<<' : '>>'} ${e.shift.bits}`, type: 'integer', len: e.len });
      return;
    }
    this.regs.set(slot(e.dreg), { ...r, mask: e.mask, xor: e.xor });
  }

  private lookup(e: LookupExpr): void {
    const key = this.keyText(e.sreg);
    const set = this.anon?.(e.set) ?? `@${quoteName(e.set)}`;
    if (e.dreg === undefined) return this.emit(`${key} ${e.invert ? '!= ' : ''}${set}`);
    if (e.dreg === 0) return this.emit(`${key} vmap ${set}`);
    this.regs.set(slot(e.dreg), { text: `${key} map ${set}`, type: 'integer', len: 4 });
  }

  /** The lookup key: the field in sreg, or a concatenation of the fields loaded into the registers after it. */
  private keyText(sreg: number): string {
    const parts: string[] = [];
    let s = slot(sreg);
    for (;;) {
      const r = this.regs.get(s);
      if (!r || !this.pending.includes(s)) break;
      parts.push(r.text);
      this.pending = this.pending.filter((p) => p !== s);
      s += padded(r.len) / 4;
    }
    return parts.length ? parts.join(' . ') : this.use(sreg).text;
  }
}

const IDENT = /^[A-Za-z_.][A-Za-z0-9_.\-/]*$/;
/** A name as nft syntax: bare if it is an identifier, else quoted. */
export function quoteName(n: string): string {
  return IDENT.test(n) ? n : JSON.stringify(n);
}

export function renderRuleBody(family: Family, exprs: readonly Expr[], anon?: (set: string) => string | undefined): string {
  return new RuleRenderer(family, anon).render(exprs);
}
