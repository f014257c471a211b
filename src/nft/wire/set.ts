// Sets and maps.
//
//   NFT_MSG_NEWSET / NFT_MSG_DELSET, nfgenmsg.nfgen_family = the table's family
//     NFTA_SET_TABLE        string
//     NFTA_SET_NAME         string
//     NFTA_SET_FLAGS        be32  NFT_SET_* (interval 0x4, map 0x8, timeout 0x10, concat 0x80, ...)
//     NFTA_SET_KEY_TYPE     be32  nft datatype number; concatenations pack 6 bits per component
//     NFTA_SET_KEY_LEN      be32  bytes; concatenation components are padded to 4 bytes each
//     NFTA_SET_DATA_TYPE    be32  (maps) datatype, or NFT_DATA_VERDICT (0xffffff00)
//     NFTA_SET_DATA_LEN     be32  (maps) bytes, 0 for verdicts
//     NFTA_SET_POLICY       be32  NFT_SET_POL_MEMORY (only when asked for)
//     NFTA_SET_ID           be32  batch-local id; lookups and elements in the same batch refer to it
//     NFTA_SET_DESC         nested { NFTA_SET_DESC_SIZE be32,
//                                    NFTA_SET_DESC_CONCAT { NFTA_LIST_ELEM { NFTA_SET_FIELD_LEN be32 } ... } }
//     NFTA_SET_TIMEOUT      be64  ms
//     NFTA_SET_GC_INTERVAL  be32  ms
//     NFTA_SET_USERDATA     udata TLVs (see udata.ts): key byte order, map data byte order,
//                           data interval, concat marker, comment
//     NFTA_SET_HANDLE       be64  (dumps)
//
// Order and contents follow nft 1.0.6 (strace). NFT_SET_CONCAT and the
// DESC_CONCAT field lengths are sent for concatenated interval sets, as nft does.
import type { NlMessage } from '../../netlink/reader.js';
import { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import { NLMSG_HDRLEN, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST } from '../../netlink/constants.js';
import {
  NFGENMSG_LEN,
  NFTA_LIST_ELEM,
  NFTA_SET_DATA_LEN,
  NFTA_SET_DATA_TYPE,
  NFTA_SET_DESC,
  NFTA_SET_DESC_CONCAT,
  NFTA_SET_DESC_SIZE,
  NFTA_SET_FIELD_LEN,
  NFTA_SET_FLAGS,
  NFTA_SET_GC_INTERVAL,
  NFTA_SET_HANDLE,
  NFTA_SET_ID,
  NFTA_SET_KEY_LEN,
  NFTA_SET_KEY_TYPE,
  NFTA_SET_NAME,
  NFTA_SET_POLICY,
  NFTA_SET_TABLE,
  NFTA_SET_TIMEOUT,
  NFTA_SET_USERDATA,
  NFT_DATA_VERDICT,
  NFT_MSG_DELSET,
  NFT_MSG_NEWSET,
  NFT_SET_ANONYMOUS,
  NFT_SET_CONCAT,
  NFT_SET_CONSTANT,
  NFT_SET_EVAL,
  NFT_SET_INTERVAL,
  NFT_SET_MAP,
  NFT_SET_POL_MEMORY,
  NFT_SET_TIMEOUT,
} from './constants.js';
import { concatTypeId, dataType, dataTypeById, padded, splitConcatTypeId, BYTEORDER_INVALID, type DataType } from '../datatypes.js';
import { beginNft } from './ops.js';
import { FAMILY_NUM, familyName } from '../names.js';
import type { DataTypeName, NftSet, SetFlag } from '../types.js';
import {
  NFTNL_UDATA_SET_COMMENT,
  NFTNL_UDATA_SET_DATABYTEORDER,
  NFTNL_UDATA_SET_DATA_INTERVAL,
  NFTNL_UDATA_SET_KEYBYTEORDER,
  NFTNL_UDATA_SET_KEY_TYPEOF,
  UdataWriter,
  parseUdata,
  udataString,
} from './udata.js';

export const SET_ATTRS = [
  'NFTA_SET_UNSPEC',
  'NFTA_SET_TABLE',
  'NFTA_SET_NAME',
  'NFTA_SET_FLAGS',
  'NFTA_SET_KEY_TYPE',
  'NFTA_SET_KEY_LEN',
  'NFTA_SET_DATA_TYPE',
  'NFTA_SET_DATA_LEN',
  'NFTA_SET_POLICY',
  'NFTA_SET_DESC',
  'NFTA_SET_ID',
  'NFTA_SET_TIMEOUT',
  'NFTA_SET_GC_INTERVAL',
  'NFTA_SET_USERDATA',
];

export type SetVerb = 'add' | 'create' | 'delete';

const FLAG_BITS: Record<SetFlag, number> = {
  anonymous: NFT_SET_ANONYMOUS,
  constant: NFT_SET_CONSTANT,
  interval: NFT_SET_INTERVAL,
  timeout: NFT_SET_TIMEOUT,
  dynamic: NFT_SET_EVAL,
};

/** The key's component types (one for a plain set). */
export function keyTypes(s: NftSet): readonly DataTypeName[] {
  return typeof s.key === 'string' ? [s.key] : s.key;
}
export function isConcat(s: NftSet): boolean {
  return Array.isArray(s.key) && s.key.length > 1;
}
export function hasFlag(s: NftSet, f: SetFlag): boolean {
  return s.flags?.includes(f) ?? false;
}
/** Wire length of one key component. */
export function componentLen(t: DataTypeName, s: NftSet): number {
  return dataType(t).len || s.keyLen || 4;
}
export function keyLen(s: NftSet): number {
  const types = keyTypes(s);
  if (types.length === 1) return componentLen(types[0], s);
  return types.reduce((n, t) => n + padded(componentLen(t, s)), 0);
}
/**
 * The key and data lengths every element of the set has on the wire, as far
 * as the set's types say (0: not known, as for integer components whose
 * length the set does not carry).
 */
export function elementLens(s: NftSet): { key: number; data: number } {
  const types = keyTypes(s);
  const known = !types.includes('integer') || (types.length === 1 && s.keyLen !== undefined);
  const data = s.data === undefined || s.data === 'verdict' || (s.data === 'integer' && s.dataLen === undefined) ? 0 : dataLen(s);
  return { key: known ? keyLen(s) : 0, data };
}
export function dataLen(s: NftSet): number {
  if (s.data === undefined || s.data === 'verdict') return 0;
  return dataType(s.data).len || s.dataLen || 4;
}

// nft's marker for concatenated keys, written verbatim (taken with strace):
// KEY_TYPEOF { 0: u32 13, 1: empty }.
const CONCAT_TYPEOF = Buffer.from('00040d0000000100', 'hex');

function setUserdata(s: NftSet): Buffer {
  const u = new UdataWriter();
  const types = keyTypes(s);
  u.u32(NFTNL_UDATA_SET_KEYBYTEORDER, types.length > 1 ? BYTEORDER_INVALID : dataType(types[0]).byteorder);
  if (s.data !== undefined) {
    u.u32(NFTNL_UDATA_SET_DATABYTEORDER, s.data === 'verdict' ? BYTEORDER_INVALID : dataType(s.data).byteorder);
  }
  if (types.length > 1) u.raw(NFTNL_UDATA_SET_KEY_TYPEOF, CONCAT_TYPEOF);
  if (s.data !== undefined) u.u32(NFTNL_UDATA_SET_DATA_INTERVAL, 0);
  if (s.comment !== undefined) u.str(NFTNL_UDATA_SET_COMMENT, s.comment);
  return u.bytes();
}

export function setFlagBits(s: NftSet): number {
  let n = 0;
  for (const f of s.flags ?? []) n |= FLAG_BITS[f];
  if (s.data !== undefined) n |= NFT_SET_MAP;
  if (s.timeout !== undefined) n |= NFT_SET_TIMEOUT;
  if (isConcat(s) && n & NFT_SET_INTERVAL) n |= NFT_SET_CONCAT;
  return n;
}

export function encodeSet(w: NlWriter, seq: number, flags: number, verb: SetVerb, s: NftSet, id: number): void {
  if (verb === 'delete') {
    beginNft(w, NFT_MSG_DELSET, NLM_F_REQUEST | flags, seq, FAMILY_NUM[s.family]);
    w.str(NFTA_SET_TABLE, s.table);
    w.str(NFTA_SET_NAME, s.name);
    w.endMessage();
    return;
  }
  const f = NLM_F_REQUEST | NLM_F_CREATE | flags | (verb === 'create' ? NLM_F_EXCL : 0);
  beginNft(w, NFT_MSG_NEWSET, f, seq, FAMILY_NUM[s.family]);
  w.str(NFTA_SET_TABLE, s.table);
  w.str(NFTA_SET_NAME, s.name);
  const bits = setFlagBits(s);
  w.u32be(NFTA_SET_FLAGS, bits);
  w.u32be(NFTA_SET_KEY_TYPE, concatTypeId(keyTypes(s).map((t) => dataType(t).id)));
  w.u32be(NFTA_SET_KEY_LEN, keyLen(s));
  if (s.data !== undefined) {
    w.u32be(NFTA_SET_DATA_TYPE, s.data === 'verdict' ? NFT_DATA_VERDICT : dataType(s.data).id);
    w.u32be(NFTA_SET_DATA_LEN, dataLen(s));
  }
  w.u32be(NFTA_SET_ID, id);
  if (s.policy === 'memory') w.u32be(NFTA_SET_POLICY, NFT_SET_POL_MEMORY);
  if (s.size !== undefined || bits & NFT_SET_CONCAT) encodeDesc(w, s, bits);
  if (s.timeout !== undefined) w.u64be(NFTA_SET_TIMEOUT, BigInt(s.timeout));
  if (s.gcInterval !== undefined) w.u32be(NFTA_SET_GC_INTERVAL, s.gcInterval);
  w.binary(NFTA_SET_USERDATA, setUserdata(s));
  w.endMessage();
}

function encodeDesc(w: NlWriter, s: NftSet, bits: number): void {
  const d = w.nestStart(NFTA_SET_DESC, true);
  if (s.size !== undefined) w.u32be(NFTA_SET_DESC_SIZE, s.size);
  if (bits & NFT_SET_CONCAT) {
    const c = w.nestStart(NFTA_SET_DESC_CONCAT, true);
    for (const t of keyTypes(s)) {
      const e = w.nestStart(NFTA_LIST_ELEM, true);
      w.u32be(NFTA_SET_FIELD_LEN, componentLen(t, s));
      w.nestEnd(e);
    }
    w.nestEnd(c);
  }
  w.nestEnd(d);
}

function typeName(id: number): DataTypeName {
  return dataTypeById(id)?.name ?? 'integer';
}

/** Component types of a key type number, using the key length to count components. */
function decodeKey(id: number, len: number, fieldLens: number[]): NftSet['key'] {
  if (fieldLens.length > 1) return splitConcatTypeId(id, fieldLens.length).map(typeName);
  const single = dataTypeById(id);
  if (single && (single.len === len || single.len === 0)) return single.name;
  // A concatenation without DESC_CONCAT: peel 6-bit components until the lengths add up.
  for (let n = 2; n <= 5; n++) {
    const ids = splitConcatTypeId(id, n);
    const parts = ids.map((t) => dataTypeById(t)).filter((p): p is DataType => p !== undefined && p.len > 0);
    if (parts.length === ids.length && parts.reduce((s, p) => s + padded(p.len), 0) === len) {
      return parts.map((p) => p.name);
    }
  }
  return typeName(id);
}

export function decodeSet(m: NlMessage): NftSet {
  const a = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWSET');
  const klen = a.u32be(NFTA_SET_KEY_LEN) ?? 0;
  const desc = a.nested(NFTA_SET_DESC);
  const fieldLens =
    desc
      ?.nested(NFTA_SET_DESC_CONCAT)
      ?.list()
      .map((e) => e.u32be(NFTA_SET_FIELD_LEN) ?? 0) ?? [];
  const s: NftSet = {
    family: familyName(m.buf[m.offset + NLMSG_HDRLEN], m.offset + NLMSG_HDRLEN),
    table: a.str(NFTA_SET_TABLE) ?? '',
    name: a.str(NFTA_SET_NAME) ?? '',
    key: decodeKey(a.u32be(NFTA_SET_KEY_TYPE) ?? 0, klen, fieldLens),
  };
  if (s.key === 'integer') s.keyLen = klen;
  const bits = a.u32be(NFTA_SET_FLAGS) ?? 0;
  const dtype = a.u32be(NFTA_SET_DATA_TYPE);
  if (bits & NFT_SET_MAP && dtype !== undefined) {
    s.data = dtype === NFT_DATA_VERDICT ? 'verdict' : typeName(dtype);
    if (s.data === 'integer') s.dataLen = a.u32be(NFTA_SET_DATA_LEN) ?? 0;
  }
  const flags = (Object.keys(FLAG_BITS) as SetFlag[]).filter((f) => bits & FLAG_BITS[f]);
  if (flags.length) s.flags = flags.sort(flagOrder);
  const timeout = a.u64be(NFTA_SET_TIMEOUT);
  if (timeout !== undefined) s.timeout = Number(timeout);
  const gc = a.u32be(NFTA_SET_GC_INTERVAL);
  if (gc !== undefined) s.gcInterval = gc;
  const size = desc?.u32be(NFTA_SET_DESC_SIZE);
  if (size !== undefined) s.size = size;
  if (a.u32be(NFTA_SET_POLICY) === NFT_SET_POL_MEMORY) s.policy = 'memory';
  const comment = udataString(parseUdata(a.bytes(NFTA_SET_USERDATA)).get(NFTNL_UDATA_SET_COMMENT));
  if (comment !== undefined) s.comment = comment;
  const h = a.u64be(NFTA_SET_HANDLE);
  if (h !== undefined) s.handle = h;
  return s;
}

const FLAG_ORDER: SetFlag[] = ['anonymous', 'constant', 'interval', 'timeout', 'dynamic'];
/** Canonical order of set flags (so sets compare equal whatever order they were written in). */
export function flagOrder(a: SetFlag, b: SetFlag): number {
  return FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b);
}
