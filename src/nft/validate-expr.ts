// Light checks on expression lists given directly (not through the rule
// builder): known kinds, registers in range, byte fields that are bytes.
import { ValidationError } from '../errors.js';
import { NFT_DATA_VALUE_MAXLEN, NFT_REG32_15 } from './constants.js';
import { CMP_OPS } from './expr/cmp.js';
import { CT_KEYS } from './expr/ct.js';
import { META_KEYS } from './expr/meta.js';
import { PAYLOAD_BASES } from './expr/payload.js';
import type { Expr } from './types.js';

const KINDS = new Set<Expr['kind']>([
  'meta', 'payload', 'cmp', 'bitwise', 'range', 'lookup', 'ct', 'immediate', 'nat', 'masq', 'redir', 'counter', 'log',
  'limit', 'reject', 'raw',
]);
const REG_FIELDS = ['sreg', 'dreg', 'regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax'] as const;
const BYTE_FIELDS = ['data', 'mask', 'xor', 'from', 'to'] as const;

function check(e: Expr, where: string): void {
  if (typeof e !== 'object' || e === null || !KINDS.has(e.kind)) throw new ValidationError(`${where} kind`, (e as Expr)?.kind, 'unknown expression');
  const rec = e as unknown as Record<string, unknown>;
  for (const f of REG_FIELDS) {
    const r = rec[f];
    if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 0 || r > NFT_REG32_15)) {
      throw new ValidationError(`${where} ${f}`, r, 'expected a register number 0..23');
    }
  }
  for (const f of BYTE_FIELDS) {
    const b = rec[f];
    if (b !== undefined && (!Buffer.isBuffer(b) || b.length === 0 || b.length > NFT_DATA_VALUE_MAXLEN)) {
      throw new ValidationError(`${where} ${f}`, b, 'expected a Buffer of 1 to 64 bytes');
    }
  }
  if (e.kind === 'cmp' && !CMP_OPS.includes(e.op)) throw new ValidationError(`${where} op`, e.op, 'unknown cmp op');
  if (e.kind === 'meta' && !META_KEYS.includes(e.key)) throw new ValidationError(`${where} key`, e.key, 'unknown meta key');
  if (e.kind === 'ct' && !CT_KEYS.includes(e.key)) throw new ValidationError(`${where} key`, e.key, 'unknown ct key');
  if (e.kind === 'payload' && !PAYLOAD_BASES.includes(e.base)) throw new ValidationError(`${where} base`, e.base, 'unknown payload base');
  if (e.kind === 'immediate' && !e.data && !e.verdict) throw new ValidationError(`${where} data`, undefined, 'immediate needs data or a verdict');
}

/** Returns a copy of the list after checking every expression. */
export function validateExprs(exprs: readonly Expr[], where: string): Expr[] {
  if (!Array.isArray(exprs)) throw new ValidationError(`${where} exprs`, exprs, 'expected an array of expressions');
  exprs.forEach((e, i) => check(e, `${where} expression #${i + 1}`));
  return [...exprs];
}
