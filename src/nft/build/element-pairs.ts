// Desired set elements as the reconciler compares them: key bytes -> value
// bytes as one-byte strings (the form elementPairs() reads from a dump), with
// no SetElement and no Buffer per element. For the plain sets and maps that
// pairsApply() accepts, and inputs in their plain form (a scalar key, or a
// [key, value] pair); anything else, bad input included, answers undefined
// and the caller parses with parseElements(), which names what is wrong.
import { byteString } from '../../util/bytes.js';
import { ipv4Chars } from '../../util/ip.js';
import { dataType, type DataType } from '../datatypes.js';
import type { DataTypeName, NftSet } from '../types.js';
import { pairsApply, type ElementPairs } from '../wire/setelem-pairs.js';
import type { ElementInput } from './elements.js';

/** One scalar as its wire bytes, or undefined where parseElements() must judge it. */
function charsOf(t: DataType, v: unknown): string | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  if (t.name === 'ipv4_addr') return typeof v === 'string' ? ipv4Chars(v) : undefined;
  // Ranges and prefixes are not plain keys (parseElements' fast path refuses them too).
  if (typeof v === 'string' && (v.includes('-') || v.includes('/'))) return undefined;
  try {
    return byteString(t.parse(v, ''));
  } catch {
    return undefined;
  }
}

/** `inputs` of `set` as key -> value byte strings, or undefined (see the top of this file). Later duplicates win. */
export function inputPairs(set: NftSet, inputs: readonly ElementInput[]): ElementPairs | undefined {
  if (!pairsApply(set)) return undefined;
  const kt = dataType(set.key as DataTypeName);
  const dt = set.data !== undefined && set.data !== 'verdict' ? dataType(set.data) : undefined;
  if (!kt.len || (dt && !dt.len)) return undefined;
  const out: ElementPairs = new Map();
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i];
    if (dt) {
      if (!Array.isArray(input) || input.length !== 2) return undefined;
      const k = charsOf(kt, input[0]);
      const v = k === undefined ? undefined : charsOf(dt, input[1]);
      if (v === undefined) return undefined;
      out.set(k as string, v);
    } else {
      const k = charsOf(kt, input);
      if (k === undefined) return undefined;
      out.set(k, '');
    }
  }
  return out;
}
