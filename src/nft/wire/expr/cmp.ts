// cmp: compare a register with a constant; the rule stops here if false.
//
//   NFTA_EXPR_NAME "cmp"
//   NFTA_EXPR_DATA {
//     NFTA_CMP_SREG  be32  register
//     NFTA_CMP_OP    be32  enum nft_cmp_ops: 0 eq, 1 neq, 2 lt, 3 lte, 4 gt, 5 gte
//     NFTA_CMP_DATA  nested { NFTA_DATA_VALUE bytes }   exactly the compared length
//   }
// Example, "ip daddr 192.168.32.200" after its payload load: SREG 1, OP 0, DATA c0a820c8.
import { NFTA_CMP_DATA, NFTA_CMP_OP, NFTA_CMP_SREG } from './constants.js';
import type { CmpExpr, CmpOp } from '../../types.js';
import { getValue, putValue } from '../data.js';
import { indexOf, nameOf, req, type ExprCodec } from './codec.js';

export const CMP_OPS: readonly CmpOp[] = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte'];

export const cmp: ExprCodec<CmpExpr> = {
  name: 'cmp',
  attrs: ['NFTA_CMP_UNSPEC', 'NFTA_CMP_SREG', 'NFTA_CMP_OP', 'NFTA_CMP_DATA'],
  encode(w, e) {
    w.u32be(NFTA_CMP_SREG, e.sreg);
    w.u32be(NFTA_CMP_OP, indexOf(CMP_OPS, e.op, 'cmp op'));
    putValue(w, NFTA_CMP_DATA, e.data);
  },
  decode(a) {
    return {
      kind: 'cmp',
      sreg: req(a.u32be(NFTA_CMP_SREG), 'cmp sreg'),
      op: nameOf(CMP_OPS, a.u32be(NFTA_CMP_OP), 'cmp op'),
      data: req(getValue(a, NFTA_CMP_DATA), 'cmp data'),
    };
  },
};
