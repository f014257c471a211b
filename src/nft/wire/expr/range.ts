// range: match a register against an inclusive range [from, to].
//
//   NFTA_EXPR_NAME "range"
//   NFTA_EXPR_DATA {
//     NFTA_RANGE_SREG       be32
//     NFTA_RANGE_OP         be32  enum nft_range_ops: 0 eq, 1 neq
//     NFTA_RANGE_FROM_DATA  nested { NFTA_DATA_VALUE bytes }
//     NFTA_RANGE_TO_DATA    nested { NFTA_DATA_VALUE bytes }
//   }
// nft writes "tcp dport 1000-2000" as cmp gte + cmp lte and only uses range
// for "!= 1000-2000"; the rule builder does the same.
import { NFTA_RANGE_FROM_DATA, NFTA_RANGE_OP, NFTA_RANGE_SREG, NFTA_RANGE_TO_DATA, NFT_RANGE_NEQ } from './constants.js';
import type { RangeExpr } from '../../types.js';
import { getValue, putValue } from '../data.js';
import { req, type ExprCodec } from './codec.js';

export const range: ExprCodec<RangeExpr> = {
  name: 'range',
  attrs: ['NFTA_RANGE_UNSPEC', 'NFTA_RANGE_SREG', 'NFTA_RANGE_OP', 'NFTA_RANGE_FROM_DATA', 'NFTA_RANGE_TO_DATA'],
  encode(w, e) {
    w.u32be(NFTA_RANGE_SREG, e.sreg);
    w.u32be(NFTA_RANGE_OP, e.op === 'neq' ? NFT_RANGE_NEQ : 0);
    putValue(w, NFTA_RANGE_FROM_DATA, e.from);
    putValue(w, NFTA_RANGE_TO_DATA, e.to);
  },
  decode(a) {
    return {
      kind: 'range',
      sreg: req(a.u32be(NFTA_RANGE_SREG), 'range sreg'),
      op: a.u32be(NFTA_RANGE_OP) === NFT_RANGE_NEQ ? 'neq' : 'eq',
      from: req(getValue(a, NFTA_RANGE_FROM_DATA), 'range from'),
      to: req(getValue(a, NFTA_RANGE_TO_DATA), 'range to'),
    };
  },
};
