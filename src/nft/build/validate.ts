// Validation before anything is encoded: objects (tables, chains, sets,
// rules) and, lighter, expression lists given directly (not through the rule
// builder): known kinds, registers in range, byte fields that are bytes.
// Every failure is a ValidationError naming the field and the value;
// nothing reaches the kernel.
import { ValidationError } from '../../errors.js';
import { BYTEORDER_BIG, dataType, isDataTypeName } from '../datatypes.js';
import { FAMILIES, hookNum } from '../names.js';
import { flagOrder, keyLen } from '../wire/set.js';
import type { Chain, DataTypeName, Expr, Family, NftSet, Rule, SetFlag, Table } from '../types.js';
import { NFT_DATA_VALUE_MAXLEN, NFT_REG32_15 } from '../wire/constants.js';
import { CMP_OPS } from '../wire/expr/cmp.js';
import { CT_KEYS } from '../wire/expr/ct.js';
import { META_KEYS } from '../wire/expr/meta.js';
import { PAYLOAD_BASES } from '../wire/expr/payload.js';

// Names: what nft accepts as an identifier, plus a leading digit (rendered quoted).
const NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.\-/]*$/;
const MAX_NAME = 255;

// Names recur in every rule of a batch; remember the ones already checked.
const goodNames = new Set<string>();

export function validateName(name: unknown, field: string): string {
  if (typeof name === 'string' && goodNames.has(name)) return name;
  if (typeof name !== 'string' || !NAME.test(name) || Buffer.byteLength(name) > MAX_NAME) {
    throw new ValidationError(field, name, 'expected a name of letters, digits and _ . - / (at most 255 bytes)');
  }
  if (goodNames.size > 10000) goodNames.clear();
  goodNames.add(name);
  return name;
}
export const validateChainName = (name: unknown, field = 'chain'): string => validateName(name, field);

export function validateFamily(f: unknown, field = 'family'): Family {
  if (!FAMILIES.includes(f as Family)) throw new ValidationError(field, f, `expected one of ${FAMILIES.join(', ')}`);
  return f as Family;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(field, v, `expected an integer from ${min} to ${max}`);
  }
  return v;
}

export function validateTable(t: Table): Table {
  validateFamily(t.family);
  validateName(t.name, 'table');
  for (const f of t.flags ?? []) if (f !== 'dormant' && f !== 'owner') throw new ValidationError('table flags', f, 'unknown flag');
  return t;
}

const CHAIN_TYPES = ['filter', 'nat', 'route'];

export function validateChain(c: Chain): Chain {
  validateFamily(c.family);
  validateName(c.table, 'table');
  validateChainName(c.name, 'chain');
  const base = c.hook !== undefined || c.type !== undefined || c.priority !== undefined || c.policy !== undefined;
  if (!base) return c;
  const where = `chain ${c.name}`;
  if (!CHAIN_TYPES.includes(c.type as string)) throw new ValidationError(`${where} type`, c.type, 'expected filter, nat or route');
  if (c.hook === undefined || hookNum(c.family, c.hook) === undefined) {
    throw new ValidationError(`${where} hook`, c.hook, `not a hook of the ${c.family} family`);
  }
  int(c.priority, `${where} priority`, -0x80000000, 0x7fffffff);
  if (c.policy !== undefined && c.policy !== 'accept' && c.policy !== 'drop') {
    throw new ValidationError(`${where} policy`, c.policy, 'expected accept or drop');
  }
  if (c.family === 'netdev' && c.device === undefined) throw new ValidationError(`${where} device`, c.device, 'netdev chains need a device');
  if (c.device !== undefined && (typeof c.device !== 'string' || !/^[^\s/]{1,15}$/.test(c.device))) {
    throw new ValidationError(`${where} device`, c.device, 'expected an interface name');
  }
  return c;
}

export function validateRuleTarget(r: Pick<Rule, 'family' | 'table' | 'chain'>): void {
  validateFamily(r.family);
  validateName(r.table, 'table');
  validateChainName(r.chain, 'chain');
}

const SET_FLAGS: SetFlag[] = ['constant', 'interval', 'timeout', 'dynamic', 'anonymous'];

/** Validates a set and returns it with canonical flags ("timeout" implied by a timeout). */
export function validateSet(s: NftSet): NftSet {
  validateFamily(s.family);
  validateName(s.table, 'table');
  validateName(s.name, 'set');
  const where = `set ${s.name}`;
  // (Array.isArray widens a readonly array to any[]: the assertion keeps the element type.)
  const types = (Array.isArray(s.key) ? s.key : [s.key]) as readonly DataTypeName[];
  if (types.length === 0) throw new ValidationError(`${where} key`, s.key, 'expected a type');
  for (const t of types) if (!isDataTypeName(t)) throw new ValidationError(`${where} key`, t, 'unknown data type');
  if (s.data !== undefined && s.data !== 'verdict' && !isDataTypeName(s.data)) {
    throw new ValidationError(`${where} value type`, s.data, 'unknown data type');
  }
  const flags = new Set<SetFlag>(s.flags ?? []);
  for (const f of flags) if (!SET_FLAGS.includes(f)) throw new ValidationError(`${where} flags`, f, 'unknown flag');
  if (s.timeout !== undefined) {
    int(s.timeout, `${where} timeout`, 1, Number.MAX_SAFE_INTEGER);
    flags.add('timeout');
  }
  if (flags.has('interval') && types.length === 1 && dataType(types[0]).byteorder !== BYTEORDER_BIG && dataType(types[0]).len > 1) {
    throw new ValidationError(`${where} key`, types[0], 'interval sets need a big-endian key type (addresses, ports, protocols)');
  }
  if (types.includes('integer') && s.keyLen === undefined) throw new ValidationError(`${where} keyLen`, s.keyLen, 'integer keys need a length');
  if (keyLen(s) > 64) throw new ValidationError(`${where} key`, s.key, 'key longer than 64 bytes');
  if (s.size !== undefined) int(s.size, `${where} size`, 1, 0xffffffff);
  if (s.gcInterval !== undefined) int(s.gcInterval, `${where} gcInterval`, 1, 0xffffffff);
  const out: NftSet = { ...s };
  if (flags.size) out.flags = [...flags].sort(flagOrder);
  else delete out.flags;
  return out;
}

const KINDS = new Set<Expr['kind']>([
  'meta', 'payload', 'cmp', 'bitwise', 'range', 'lookup', 'ct', 'immediate', 'nat', 'masq', 'redir', 'counter', 'log',
  'limit', 'reject', 'raw',
]);
const REG_FIELDS = ['sreg', 'dreg', 'regAddrMin', 'regAddrMax', 'regProtoMin', 'regProtoMax'] as const;
const BYTE_FIELDS = ['data', 'mask', 'xor', 'from', 'to'] as const;

function check(e: Expr, where: string): void {
  if (typeof e !== 'object' || e === null || !KINDS.has(e.kind)) throw new ValidationError(`${where} kind`, (e)?.kind, 'unknown expression');
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
  const list: unknown = exprs;
  if (!Array.isArray(list)) throw new ValidationError(`${where} exprs`, list, 'expected an array of expressions');
  exprs.forEach((e, i) => check(e, `${where} expression #${i + 1}`));
  return [...exprs];
}
