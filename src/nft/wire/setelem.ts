// Set elements.
//
//   NFT_MSG_NEWSETELEM / NFT_MSG_DELSETELEM, nfgenmsg.nfgen_family = the table's family
//     NFTA_SET_ELEM_LIST_TABLE     string
//     NFTA_SET_ELEM_LIST_SET       string
//     NFTA_SET_ELEM_LIST_SET_ID    be32    when the set is created in the same batch
//     NFTA_SET_ELEM_LIST_ELEMENTS  nested, one nest per element (nft numbers them 1, 2, 3, ...) {
//       NFTA_SET_ELEM_FLAGS     be32   NFT_SET_ELEM_INTERVAL_END (1)
//       NFTA_SET_ELEM_TIMEOUT   be64   ms
//       NFTA_SET_ELEM_KEY       nested { NFTA_DATA_VALUE key }
//       NFTA_SET_ELEM_KEY_END   nested { NFTA_DATA_VALUE key }        (concatenated intervals)
//       NFTA_SET_ELEM_DATA      nested { NFTA_DATA_VALUE v | NFTA_DATA_VERDICT {...} }   (maps)
//       NFTA_SET_ELEM_USERDATA  udata: comment, NFTNL_SET_ELEM_F_INTERVAL_OPEN
//       NFTA_SET_ELEM_EXPIRATION be64  ms (dumps)
//     }
//
// Intervals the way nft 1.0.6 writes them (strace):
//   - plain interval sets (rbtree): a range [a, b] is two elements, key a and
//     key b+1 flagged INTERVAL_END; a range that reaches the top of the key
//     space has no end element and carries the INTERVAL_OPEN udata flag
//     instead; an add whose lowest range does not start at 0 is preceded by
//     an INTERVAL_END element at key 0.
//   - concatenated interval sets (pipapo): one element with KEY and KEY_END
//     (inclusive).
// Flush is NFT_MSG_DELSETELEM with no element list (nft writes SET before TABLE).
import type { NlMessage } from '../../netlink/reader.js';
import { Attrs } from '../../netlink/reader.js';
import { DecodeError } from '../../errors.js';
import type { NlWriter } from '../../netlink/writer.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST } from '../../netlink/constants.js';
import { decrement, isZero } from '../build/addr.js';
import {
  NFGENMSG_LEN,
  NFTA_SET_ELEM_DATA,
  NFTA_SET_ELEM_EXPIRATION,
  NFTA_SET_ELEM_FLAGS,
  NFTA_SET_ELEM_KEY,
  NFTA_SET_ELEM_KEY_END,
  NFTA_SET_ELEM_LIST_ELEMENTS,
  NFTA_SET_ELEM_LIST_SET,
  NFTA_SET_ELEM_LIST_SET_ID,
  NFTA_SET_ELEM_LIST_TABLE,
  NFTA_SET_ELEM_TIMEOUT,
  NFTA_SET_ELEM_USERDATA,
  NFT_MSG_DELSETELEM,
  NFT_MSG_NEWSETELEM,
  NFT_SET_ELEM_CATCHALL,
  NFT_SET_ELEM_INTERVAL_END,
} from './constants.js';
import { byteString } from '../../util/bytes.js';
import { getValue, getVerdict, putValue, putVerdict } from './data.js';
import { beginNft } from './ops.js';
import { FAMILY_NUM } from '../names.js';
import { elementLens, hasFlag, isConcat, keyLen } from './set.js';
import type { NftSet, SetElement, Verdict } from '../types.js';
import {
  NFTNL_SET_ELEM_F_INTERVAL_OPEN,
  NFTNL_UDATA_SET_ELEM_COMMENT,
  NFTNL_UDATA_SET_ELEM_FLAGS,
  UdataWriter,
  parseUdata,
  udataString,
  udataU32,
} from './udata.js';
import { after } from '../build/values.js';

export const SETELEM_LIST_ATTRS = [
  'NFTA_SET_ELEM_LIST_UNSPEC',
  'NFTA_SET_ELEM_LIST_TABLE',
  'NFTA_SET_ELEM_LIST_SET',
  'NFTA_SET_ELEM_LIST_ELEMENTS',
  'NFTA_SET_ELEM_LIST_SET_ID',
];
export const SETELEM_ATTRS = [
  'NFTA_SET_ELEM_UNSPEC',
  'NFTA_SET_ELEM_KEY',
  'NFTA_SET_ELEM_DATA',
  'NFTA_SET_ELEM_FLAGS',
  'NFTA_SET_ELEM_TIMEOUT',
  'NFTA_SET_ELEM_EXPIRATION',
  'NFTA_SET_ELEM_USERDATA',
  'NFTA_SET_ELEM_EXPR',
  'NFTA_SET_ELEM_PAD',
  'NFTA_SET_ELEM_OBJREF',
  'NFTA_SET_ELEM_KEY_END',
];

export type ElemVerb = 'add' | 'create' | 'delete';

/** One element as it goes on the wire. */
export interface WireElement {
  key: Buffer;
  keyEnd?: Buffer;
  flags: number;
  data?: Buffer;
  verdict?: Verdict;
  timeout?: number;
  udata?: Buffer;
}

function elemUdata(comment: string | undefined, open: boolean): Buffer | undefined {
  if (comment === undefined && !open) return undefined;
  const u = new UdataWriter();
  if (comment !== undefined) u.str(NFTNL_UDATA_SET_ELEM_COMMENT, comment);
  if (open) u.u32(NFTNL_UDATA_SET_ELEM_FLAGS, NFTNL_SET_ELEM_F_INTERVAL_OPEN);
  return u.bytes();
}

/** Typed elements to wire elements, splitting ranges the way the set's backend wants them. */
export function toWire(set: NftSet, elems: readonly SetElement[], verb: ElemVerb): WireElement[] {
  const rbtree = hasFlag(set, 'interval') && !isConcat(set);
  if (!rbtree) return elems.map((e) => plainWire(e, verb !== 'delete'));
  const out: WireElement[] = [];
  const list = [...elems].sort((a, b) => Buffer.compare(a.key, b.key));
  if (verb !== 'delete' && list.length && !isZero(list[0].key)) {
    out.push({ key: Buffer.alloc(keyLen(set)), flags: NFT_SET_ELEM_INTERVAL_END });
  }
  for (const e of list) {
    const end = e.keyEnd ? after(e.keyEnd) : undefined;
    const w = plainWire({ ...e, keyEnd: undefined }, verb !== 'delete');
    if (verb !== 'delete') {
      const udata = elemUdata(e.comment, e.keyEnd !== undefined && end === undefined);
      if (udata) w.udata = udata;
    }
    out.push(w);
    if (end) out.push({ key: end, flags: NFT_SET_ELEM_INTERVAL_END });
  }
  return out;
}

/** One wire element per typed element (hash sets, maps, concatenated intervals). */
function plainWire(e: SetElement, withData: boolean): WireElement {
  const w: WireElement = { key: e.key, flags: 0 };
  if (e.keyEnd) w.keyEnd = e.keyEnd;
  if (!withData) return w;
  if (e.timeout !== undefined) w.timeout = e.timeout;
  if (e.data) w.data = e.data;
  else if (e.verdict) w.verdict = e.verdict;
  if (e.comment !== undefined) w.udata = elemUdata(e.comment, false);
  return w;
}

function writeElement(w: NlWriter, index: number, e: WireElement): void {
  const n = w.nestStart(index, true);
  if (e.flags) w.u32be(NFTA_SET_ELEM_FLAGS, e.flags);
  if (e.timeout !== undefined) w.u64be(NFTA_SET_ELEM_TIMEOUT, BigInt(e.timeout));
  putValue(w, NFTA_SET_ELEM_KEY, e.key);
  if (e.keyEnd) putValue(w, NFTA_SET_ELEM_KEY_END, e.keyEnd);
  if (e.data) putValue(w, NFTA_SET_ELEM_DATA, e.data);
  else if (e.verdict) putVerdict(w, NFTA_SET_ELEM_DATA, e.verdict);
  if (e.udata) w.binary(NFTA_SET_ELEM_USERDATA, e.udata);
  w.nestEnd(n);
}

const pad4 = (n: number) => (n + 3) & ~3;

/** Bytes one element takes inside the list nest. */
export function wireSize(e: WireElement): number {
  let n = 4 + 12 + pad4(e.key.length); // element nest, KEY { VALUE }
  if (e.flags) n += 8;
  if (e.timeout !== undefined) n += 12;
  if (e.keyEnd) n += 8 + pad4(e.keyEnd.length);
  if (e.data) n += 8 + pad4(e.data.length);
  else if (e.verdict) n += 4 + 4 + 8 + (e.verdict.chain !== undefined ? 4 + pad4(Buffer.byteLength(e.verdict.chain) + 1) : 0);
  if (e.udata) n += 4 + pad4(e.udata.length);
  return n;
}

// An attribute's length is 16 bits, so a message's element list holds at most
// 64 KiB; longer lists go in several messages of one batch, as nft does.
const MAX_LIST = 0xffff - 4;

/** Splits wire elements into runs that each fit one message's list nest. */
export function chunkElements(wire: readonly WireElement[]): WireElement[][] {
  const out: WireElement[][] = [];
  let cur: WireElement[] = [];
  let size = 0;
  for (const e of wire) {
    const n = wireSize(e);
    if (cur.length && size + n > MAX_LIST) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** One NEWSETELEM / DELSETELEM message for a run of elements (see chunkElements). */
export function encodeElements(
  w: NlWriter,
  seq: number,
  flags: number,
  verb: ElemVerb,
  set: NftSet,
  wire: readonly WireElement[],
  setId: number | undefined,
): void {
  const msg = verb === 'delete' ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM;
  const f = NLM_F_REQUEST | flags | (verb === 'delete' ? 0 : NLM_F_CREATE) | (verb === 'create' ? NLM_F_EXCL : 0);
  beginNft(w, msg, f, seq, FAMILY_NUM[set.family]);
  w.str(NFTA_SET_ELEM_LIST_TABLE, set.table);
  w.str(NFTA_SET_ELEM_LIST_SET, set.name);
  if (setId !== undefined) w.u32be(NFTA_SET_ELEM_LIST_SET_ID, setId);
  const list = w.nestStart(NFTA_SET_ELEM_LIST_ELEMENTS, true);
  for (let i = 0; i < wire.length; i++) writeElement(w, (i % 0x3fff) + 1, wire[i]);
  w.nestEnd(list);
  w.endMessage();
}

/** DELSETELEM with no list: every element of the set. */
export function encodeSetFlush(w: NlWriter, seq: number, flags: number, set: NftSet): void {
  beginNft(w, NFT_MSG_DELSETELEM, NLM_F_REQUEST | flags, seq, FAMILY_NUM[set.family]);
  w.str(NFTA_SET_ELEM_LIST_SET, set.name);
  w.str(NFTA_SET_ELEM_LIST_TABLE, set.table);
  w.endMessage();
}

interface DumpedElement extends SetElement {
  flags: number;
  open: boolean;
}

/** The value of nest `type`, checked against the set's length `len` (0: any). */
function valueOf(a: Attrs, type: number, len: number, what: string): Buffer | undefined {
  const v = getValue(a, type);
  if (v && len && v.length !== len) throw new DecodeError('NFT_MSG_NEWSETELEM', a.start, `${what} of ${v.length} bytes in a set of ${len}-byte ${what}s`);
  return v;
}

function decodeOne(a: Attrs, lens: { key: number; data: number }): DumpedElement | undefined {
  const flags = a.u32be(NFTA_SET_ELEM_FLAGS) ?? 0;
  const key = valueOf(a, NFTA_SET_ELEM_KEY, lens.key, 'key');
  if (!key || flags & NFT_SET_ELEM_CATCHALL) return undefined;
  // Most elements have no userdata: no Map for them (a dump decodes thousands).
  const ub = a.bytes(NFTA_SET_ELEM_USERDATA);
  const u = ub ? parseUdata(ub) : undefined;
  const e: DumpedElement = { key, flags, open: ((udataU32(u?.get(NFTNL_UDATA_SET_ELEM_FLAGS)) ?? 0) & 1) === 1 };
  const keyEnd = valueOf(a, NFTA_SET_ELEM_KEY_END, key.length, 'key');
  if (keyEnd) e.keyEnd = keyEnd;
  const data = valueOf(a, NFTA_SET_ELEM_DATA, lens.data, 'value');
  const verdict = data ? undefined : getVerdict(a, NFTA_SET_ELEM_DATA);
  if (data) e.data = data;
  if (verdict) e.verdict = verdict;
  const timeout = a.u64be(NFTA_SET_ELEM_TIMEOUT);
  const expires = a.u64be(NFTA_SET_ELEM_EXPIRATION);
  if (timeout !== undefined) e.timeout = Number(timeout);
  if (expires !== undefined) e.expires = Number(expires);
  const comment = udataString(u?.get(NFTNL_UDATA_SET_ELEM_COMMENT));
  if (comment !== undefined) e.comment = comment;
  return e;
}

/** The element without the dump-only fields (built field by field: object rest is slow at 10^4 elements). */
function plain(e: DumpedElement): SetElement {
  const r: SetElement = { key: e.key };
  if (e.keyEnd !== undefined) r.keyEnd = e.keyEnd;
  if (e.data !== undefined) r.data = e.data;
  if (e.verdict !== undefined) r.verdict = e.verdict;
  if (e.timeout !== undefined) r.timeout = e.timeout;
  if (e.expires !== undefined) r.expires = e.expires;
  if (e.comment !== undefined) r.comment = e.comment;
  return r;
}

/** Pairs rbtree start and end elements back into ranges. */
function mergeIntervals(elems: DumpedElement[]): SetElement[] {
  elems.sort((a, b) => Buffer.compare(a.key, b.key) || (b.flags & 1) - (a.flags & 1));
  const out: SetElement[] = [];
  for (let i = 0; i < elems.length; i++) {
    const e = elems[i];
    if (e.flags & NFT_SET_ELEM_INTERVAL_END) continue;
    const next = elems[i + 1];
    const r = plain(e);
    if (next && next.flags & NFT_SET_ELEM_INTERVAL_END && !isZero(next.key)) {
      r.keyEnd = decrement(next.key);
      i++;
    } else {
      r.keyEnd = Buffer.alloc(e.key.length, 0xff);
    }
    out.push(r);
  }
  return out;
}

/** Decodes an NFT_MSG_GETSETELEM dump into typed elements, sorted by key. */
export function decodeElements(msgs: readonly NlMessage[], set: NftSet): SetElement[] {
  const raw: DumpedElement[] = [];
  const lens = elementLens(set);
  for (const m of msgs) {
    const list = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWSETELEM').nested(NFTA_SET_ELEM_LIST_ELEMENTS);
    for (const a of list?.list() ?? []) {
      const e = decodeOne(a, lens);
      if (e) raw.push(e);
    }
  }
  if (hasFlag(set, 'interval') && !isConcat(set)) return mergeIntervals(raw);
  const keyed = raw.map((e) => ({ k: byteString(e.key), e }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => plain(x.e));
}
