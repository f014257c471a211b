// struct nft_data on the wire (nf_tables.h, enum nft_data_attributes):
//
//   NFTA_DATA_VALUE    binary, 1..64 bytes                       (a constant)
//   NFTA_DATA_VERDICT  nest { NFTA_VERDICT_CODE be32, [NFTA_VERDICT_CHAIN string] }
//
// Used inside NFTA_CMP_DATA, NFTA_IMMEDIATE_DATA, NFTA_SET_ELEM_KEY/DATA, ...
import type { NlWriter } from '../../netlink/writer.js';
import type { Attrs } from '../../netlink/reader.js';
import { NFTA_DATA_VALUE, NFTA_DATA_VERDICT, NFTA_VERDICT_CHAIN, NFTA_VERDICT_CODE } from './constants.js';
import { NoTypedForm } from './expr/codec.js';
import { VERDICT_NUM, isVerdictCode, verdictName } from '../names.js';
import type { Verdict } from '../types.js';

/** Writes nest `type` { NFTA_DATA_VALUE value }. */
export function putValue(w: NlWriter, type: number, value: Uint8Array): void {
  const n = w.nestStart(type, true);
  w.binary(NFTA_DATA_VALUE, value);
  w.nestEnd(n);
}

/** Writes nest `type` { NFTA_DATA_VERDICT { code, chain } }. */
export function putVerdict(w: NlWriter, type: number, v: Verdict): void {
  const n = w.nestStart(type, true);
  const d = w.nestStart(NFTA_DATA_VERDICT, true);
  w.u32be(NFTA_VERDICT_CODE, VERDICT_NUM[v.code]);
  if (v.chain !== undefined) w.str(NFTA_VERDICT_CHAIN, v.chain);
  w.nestEnd(d);
  w.nestEnd(n);
}

/** Reads the value of nest `type`, copied out of the reply buffer. */
export function getValue(a: Attrs, type: number): Buffer | undefined {
  const v = a.nested(type)?.bytes(NFTA_DATA_VALUE);
  return v ? Buffer.from(v) : undefined;
}

/**
 * Reads the verdict of nest `type`. A code this library has no name for
 * (NF_QUEUE, NF_STOLEN) is a DecodeError, or, in an expression (`inExpr`),
 * NoTypedForm: the expression then stays raw.
 */
export function getVerdict(a: Attrs, type: number, inExpr = false): Verdict | undefined {
  const d = a.nested(type)?.nested(NFTA_DATA_VERDICT);
  if (!d) return undefined;
  const code = d.u32be(NFTA_VERDICT_CODE);
  if (code === undefined) return undefined;
  if (inExpr && !isVerdictCode(code | 0)) throw new NoTypedForm(`nft: verdict code ${code | 0} has no name`);
  const v: Verdict = { code: verdictName(code | 0, d.start) };
  const chain = d.str(NFTA_VERDICT_CHAIN);
  if (chain !== undefined) v.chain = chain;
  return v;
}
