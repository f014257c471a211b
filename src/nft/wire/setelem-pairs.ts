// A set's elements as the reconciler compares them: key bytes -> value bytes,
// both as one-byte strings cut straight from an NFT_MSG_GETSETELEM dump, with
// no object per element, no Attrs index and no Buffer (decodeElements in
// setelem.ts builds full SetElements; a no-change re-apply of 1000 instances
// decoded 2000 of them only to compare their bytes).
//
// Only plain sets and maps are taken this way: fixed-length keys, no
// intervals, no concatenations, values (if any) of a fixed length. Anything
// else in the dump (a verdict, a range end, a catch-all element, a length
// the set's type does not have) makes elementPairs() answer undefined, and
// the caller decodes the full elements instead (which also reports what is
// malformed). Timeouts, expirations, expressions and userdata are skipped:
// the diff compares keys and values only.
//
//   NFTA_SET_ELEM_LIST_ELEMENTS { NFTA_LIST_ELEM { NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE }
//                                                  NFTA_SET_ELEM_DATA { NFTA_DATA_VALUE } ... } ... }
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from '../../netlink/constants.js';
import type { NlMessage } from '../../netlink/reader.js';
import type { NftSet } from '../types.js';
import {
  NFGENMSG_LEN,
  NFTA_DATA_VALUE,
  NFTA_LIST_ELEM,
  NFTA_SET_ELEM_DATA,
  NFTA_SET_ELEM_FLAGS,
  NFTA_SET_ELEM_KEY,
  NFTA_SET_ELEM_KEY_END,
  NFTA_SET_ELEM_LIST_ELEMENTS,
} from './constants.js';
import { elementLens, hasFlag, isConcat } from './set.js';

/** Key bytes -> value bytes ('' in a set without values), as latin1 strings. */
export type ElementPairs = Map<string, string>;

/** Whether elementPairs() can take this set's elements at all. */
export function pairsApply(set: NftSet): boolean {
  if (hasFlag(set, 'interval') || isConcat(set) || set.data === 'verdict') return false;
  const lens = elementLens(set);
  return lens.key > 0 && (set.data === undefined || lens.data > 0);
}

/** The bytes [start, start + len) of `b` as a one-byte string. */
function bytesOf(b: Buffer, start: number, len: number): string {
  if (len === 4) return String.fromCharCode(b[start], b[start + 1], b[start + 2], b[start + 3]);
  return b.toString('latin1', start, start + len);
}

/** The payload of the NFTA_DATA_VALUE inside the nest whose payload is [start, end), if it is exactly `len` bytes. */
function valueIn(b: Buffer, start: number, end: number, len: number): string | undefined {
  for (let off = start; off + NLA_HDRLEN <= end;) {
    const alen = b[off] | (b[off + 1] << 8);
    if (alen < NLA_HDRLEN || off + alen > end) return undefined;
    if (((b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK) === NFTA_DATA_VALUE) {
      return alen - NLA_HDRLEN === len ? bytesOf(b, off + NLA_HDRLEN, len) : undefined;
    }
    off += (alen + 3) & ~3;
  }
  return undefined;
}

/** Adds one NFTA_LIST_ELEM (payload [start, end)) to `out`; false if it is not a plain element. */
function addElement(b: Buffer, start: number, end: number, lens: { key: number; data: number }, out: ElementPairs): boolean {
  let key: string | undefined;
  let value = '';
  for (let off = start; off < end;) {
    if (end - off < NLA_HDRLEN) return false;
    const alen = b[off] | (b[off + 1] << 8);
    if (alen < NLA_HDRLEN || off + alen > end) return false;
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + NLA_HDRLEN;
    if (type === NFTA_SET_ELEM_KEY) {
      key = valueIn(b, p, off + alen, lens.key);
      if (key === undefined) return false;
    } else if (type === NFTA_SET_ELEM_DATA) {
      const v = lens.data ? valueIn(b, p, off + alen, lens.data) : undefined;
      if (v === undefined) return false;
      value = v;
    } else if (type === NFTA_SET_ELEM_FLAGS) {
      // Any flag (an interval end, a catch-all element) is for the full decoder.
      if (alen !== NLA_HDRLEN + 4 || b.readUInt32BE(p) !== 0) return false;
    } else if (type === NFTA_SET_ELEM_KEY_END) {
      return false;
    }
    off += (alen + 3) & ~3;
  }
  if (key === undefined || (lens.data && value === '')) return false;
  out.set(key, value);
  return true;
}

/**
 * The elements of a dump of `set` as key -> value byte strings, or undefined
 * when the set or one of its elements is not plain (see the top of this file).
 */
export function elementPairs(msgs: readonly NlMessage[], set: NftSet): ElementPairs | undefined {
  if (!pairsApply(set)) return undefined;
  const lens = elementLens(set);
  const out: ElementPairs = new Map();
  for (const m of msgs) {
    const b = m.buf;
    const end = m.offset + m.length;
    let off = m.offset + NLMSG_HDRLEN + NFGENMSG_LEN;
    if (off > end) return undefined;
    for (; off < end;) {
      if (end - off < NLA_HDRLEN) return undefined;
      const alen = b[off] | (b[off + 1] << 8);
      if (alen < NLA_HDRLEN || off + alen > end) return undefined;
      if (((b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK) === NFTA_SET_ELEM_LIST_ELEMENTS && !addList(b, off + NLA_HDRLEN, off + alen, lens, out))
        return undefined;
      off += (alen + 3) & ~3;
    }
  }
  return out;
}

/** The NFTA_LIST_ELEM entries of one list nest (payload [start, end)). */
function addList(b: Buffer, start: number, end: number, lens: { key: number; data: number }, out: ElementPairs): boolean {
  for (let off = start; off < end;) {
    if (end - off < NLA_HDRLEN) return false;
    const alen = b[off] | (b[off + 1] << 8);
    if (alen < NLA_HDRLEN || off + alen > end) return false;
    if (((b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK) === NFTA_LIST_ELEM && !addElement(b, off + NLA_HDRLEN, off + alen, lens, out)) return false;
    off += (alen + 3) & ~3;
  }
  return true;
}
