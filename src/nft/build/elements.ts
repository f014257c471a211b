// Set elements as users write them, parsed once against the set's types.
//
//   set of ipv4_addr:                 '10.0.0.1'
//   interval set of ipv4_addr:        '10.0.0.0/8', '192.168.1.1-192.168.1.9'
//   concatenation:                    ['1.2.3.4', 'tcp', 22]
//   map:                              ['192.168.32.200', '10.1.2.2']   (key, value)
//   verdict map:                      ['eth0', 'accept'], ['eth1', 'jump c']
//   any of them with options:         { key, data?, timeout?, comment? }
import { ValidationError } from '../../errors.js';
import { dataType, padded, type DataType, type Scalar } from '../datatypes.js';
import { hasFlag, isConcat, keyTypes } from '../wire/set.js';
import type { DataTypeName, NftSet, SetElement, Verdict, VerdictCode } from '../types.js';
import { validateChainName } from './validate.js';
import { concat, parseRange, parseValue } from './values.js';

export type KeyInput = Scalar | readonly Scalar[];
export type DataInput = Scalar | Verdict;
export type ElementInput =
  | KeyInput
  | readonly [KeyInput, DataInput]
  | { key: KeyInput; data?: DataInput; timeout?: number; comment?: string };

const VERDICTS: VerdictCode[] = ['accept', 'drop', 'continue', 'return', 'jump', 'goto'];

/** "accept", "jump chain", "goto chain", or a Verdict object. */
export function parseVerdict(v: DataInput, field: string): Verdict {
  if (typeof v === 'object') {
    if (!VERDICTS.includes(v.code)) throw new ValidationError(field, v, 'unknown verdict');
    if (v.code === 'jump' || v.code === 'goto') return { code: v.code, chain: validateChainName(v.chain, field) };
    return { code: v.code };
  }
  const [code, chain, extra] = String(v).trim().split(/\s+/) as [VerdictCode, string | undefined, unknown];
  if (!VERDICTS.includes(code) || extra !== undefined) throw new ValidationError(field, v, 'unknown verdict');
  if (code === 'jump' || code === 'goto') {
    if (chain === undefined) throw new ValidationError(field, v, `${code} needs a chain`);
    return { code, chain: validateChainName(chain, field) };
  }
  if (chain !== undefined) throw new ValidationError(field, v, 'unknown verdict');
  return { code };
}

function parseKey(set: NftSet, k: KeyInput, field: string): Pick<SetElement, 'key' | 'keyEnd'> {
  const types = keyTypes(set);
  const interval = hasFlag(set, 'interval');
  const parts: readonly Scalar[] = isConcat(set) ? (Array.isArray(k) ? k : [k as Scalar]) : [k as Scalar];
  if (parts.length !== types.length || (!isConcat(set) && Array.isArray(k))) {
    throw new ValidationError(field, k, `expected ${types.length === 1 ? 'one value' : `${types.length} values`} of type ${types.join(' . ')}`);
  }
  if (!interval) {
    const vals = parts.map((p, i) => parseValue(types[i], p, types.length === 1 ? field : `${field}[${i}]`, set.keyLen));
    return { key: types.length === 1 ? vals[0] : concat(vals) };
  }
  const ranges = parts.map((p, i) => parseRange(types[i], p, types.length === 1 ? field : `${field}[${i}]`));
  if (types.length === 1) return { key: ranges[0].from, keyEnd: ranges[0].to };
  return { key: concat(ranges.map((r) => r.from)), keyEnd: concat(ranges.map((r) => r.to)) };
}

function parseData(set: NftSet, d: DataInput | undefined, field: string, keyOnly: boolean): Pick<SetElement, 'data' | 'verdict'> {
  if (keyOnly && d === undefined) return {};
  if (set.data === undefined) {
    if (d !== undefined) throw new ValidationError(field, d, `set ${set.name} is not a map`);
    return {};
  }
  if (d === undefined) throw new ValidationError(field, d, `map ${set.name} needs a value of type ${set.data}`);
  if (set.data === 'verdict') return { verdict: parseVerdict(d, field) };
  if (typeof d === 'object') throw new ValidationError(field, d, `expected a value of type ${set.data}`);
  return { data: parseValue(set.data, d, field, set.dataLen) };
}

function normalize(set: NftSet, input: ElementInput): { key: KeyInput; data?: DataInput; timeout?: number; comment?: string } {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    return input as { key: KeyInput; data?: DataInput; timeout?: number; comment?: string };
  }
  if (set.data !== undefined && Array.isArray(input) && input.length === 2 && (!Array.isArray(set.key) || Array.isArray(input[0]))) {
    return { key: input[0] as KeyInput, data: input[1] as DataInput };
  }
  return { key: input as KeyInput };
}

/**
 * Parses and validates element inputs against the set; throws ValidationError
 * naming the element. `keyOnly` (deletes) lets map elements come without values.
 */
export function parseElements(set: NftSet, inputs: readonly ElementInput[], keyOnly = false): SetElement[] {
  const fast = fastParser(set, keyOnly);
  const out = new Array<SetElement>(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    out[i] = (fast && fast(inputs[i])) || parseOne(set, inputs[i], `set ${set.name} element #${i}`, keyOnly);
  }
  return out;
}

function parseOne(set: NftSet, input: ElementInput, field: string, keyOnly: boolean): SetElement {
  const n = normalize(set, input);
  const e: SetElement = { ...parseKey(set, n.key, `${field} key`), ...parseData(set, n.data, `${field} value`, keyOnly) };
  if (n.timeout !== undefined) {
    if (!Number.isInteger(n.timeout) || n.timeout <= 0) throw new ValidationError(`${field} timeout`, n.timeout, 'expected milliseconds > 0');
    if (!hasFlag(set, 'timeout') && set.timeout === undefined) {
      throw new ValidationError(`${field} timeout`, n.timeout, `set ${set.name} has no timeout flag`);
    }
    e.timeout = n.timeout;
  }
  if (n.comment !== undefined) e.comment = n.comment;
  return e;
}

/**
 * The common case, plain keys of one type (and plain values), without the
 * general path's allocations. Returns undefined for anything else, and for
 * bad input, which the general path then reports with the element named.
 */
function fastParser(set: NftSet, keyOnly: boolean): ((input: ElementInput) => SetElement | undefined) | undefined {
  if (hasFlag(set, 'interval') || set.data === 'verdict') return undefined;
  if (isConcat(set)) return set.data === undefined ? fastConcat(set) : undefined;
  if (Array.isArray(set.key)) return undefined;
  const kt = dataType(set.key as DataTypeName);
  const dt = set.data !== undefined ? dataType(set.data) : undefined;
  if (!kt.len || (dt && !dt.len)) return undefined;
  return (input) => {
    if (dt) {
      if (!Array.isArray(input) || input.length !== 2) return keyOnly && !Array.isArray(input) ? keyOf(parse(kt, input)) : undefined;
      const key = parse(kt, input[0]);
      const data = parse(dt, input[1]);
      return key && data ? { key, data } : undefined;
    }
    return keyOf(parse(kt, input));
  };
}

const keyOf = (key: Buffer | undefined): SetElement | undefined => (key ? { key } : undefined);

/** One plain value of a fixed-length type, or undefined (a range, a prefix, bad input: the general path's). */
function parse(t: DataType, v: unknown): Buffer | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  if (typeof v === 'string' && (v.includes('-') || v.includes('/'))) return undefined;
  try {
    return t.parse(v, '');
  } catch {
    return undefined;
  }
}

/**
 * A set (not a map) keyed by a concatenation of fixed-length types, the NC's
 * ifname . ether_addr and ifname . ipv4_addr: each component written straight
 * into the key at its register-aligned offset, as concat() lays them out.
 */
function fastConcat(set: NftSet): ((input: ElementInput) => SetElement | undefined) | undefined {
  const types = keyTypes(set).map((n) => dataType(n));
  if (types.some((t) => !t.len)) return undefined;
  const offsets: number[] = [];
  let total = 0;
  for (const t of types) {
    offsets.push(total);
    total += padded(t.len);
  }
  return (input) => {
    if (!Array.isArray(input) || input.length !== types.length) return undefined;
    const key = Buffer.alloc(total);
    for (let i = 0; i < types.length; i++) {
      const b = parse(types[i], input[i]);
      if (!b || b.length !== types[i].len) return undefined;
      // Uint8Array's set, not Buffer's copy: no call into C++ per part (4000 of them for a node's 2000 concatenated elements).
      key.set(b, offsets[i]);
    }
    return { key };
  };
}
