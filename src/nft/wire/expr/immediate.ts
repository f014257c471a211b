// immediate: load a constant into a register, or set the verdict.
//
//   NFTA_EXPR_NAME "immediate"
//   NFTA_EXPR_DATA {
//     NFTA_IMMEDIATE_DREG  be32   0 (NFT_REG_VERDICT) for verdicts, else a data register
//     NFTA_IMMEDIATE_DATA  nested {
//       NFTA_DATA_VALUE    bytes                                  (data)
//     | NFTA_DATA_VERDICT  nested { NFTA_VERDICT_CODE be32,        (verdict: accept 1, drop 0,
//                                   NFTA_VERDICT_CHAIN string }    continue -1, return -5, jump -3, goto -4)
//     }
//   }
// Example, "jump admin-default": DREG 0, DATA { VERDICT { CODE 0xfffffffd, CHAIN "admin-default" } }.
import { NFTA_IMMEDIATE_DATA, NFTA_IMMEDIATE_DREG } from './constants.js';
import type { ImmediateExpr } from '../../types.js';
import { getValue, getVerdict, putValue, putVerdict } from '../data.js';
import { req, type ExprCodec } from './codec.js';

export const immediate: ExprCodec<ImmediateExpr> = {
  name: 'immediate',
  attrs: ['NFTA_IMMEDIATE_UNSPEC', 'NFTA_IMMEDIATE_DREG', 'NFTA_IMMEDIATE_DATA'],
  encode(w, e) {
    w.u32be(NFTA_IMMEDIATE_DREG, e.dreg);
    if (e.verdict) putVerdict(w, NFTA_IMMEDIATE_DATA, e.verdict);
    else putValue(w, NFTA_IMMEDIATE_DATA, req(e.data, 'immediate data'));
  },
  decode(a) {
    const e: ImmediateExpr = { kind: 'immediate', dreg: req(a.u32be(NFTA_IMMEDIATE_DREG), 'immediate dreg') };
    const verdict = getVerdict(a, NFTA_IMMEDIATE_DATA, true);
    if (verdict) e.verdict = verdict;
    else e.data = req(getValue(a, NFTA_IMMEDIATE_DATA), 'immediate data');
    return e;
  },
};
