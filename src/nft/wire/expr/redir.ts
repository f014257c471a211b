// redir: destination NAT to the local machine ("redirect to :8080").
//
//   NFTA_EXPR_NAME "redir"
//   NFTA_EXPR_DATA {
//     NFTA_REDIR_REG_PROTO_MIN  be32  register with the port, be16
//     NFTA_REDIR_REG_PROTO_MAX  be32  last port of a range
//     NFTA_REDIR_FLAGS          be32  NF_NAT_RANGE_* (PROTO_SPECIFIED when a port is given)
//   }
// Order as nft writes it: PROTO_MIN, PROTO_MAX, FLAGS.
import { NFTA_REDIR_FLAGS, NFTA_REDIR_REG_PROTO_MAX, NFTA_REDIR_REG_PROTO_MIN, NF_NAT_RANGE_PROTO_SPECIFIED } from './constants.js';
import type { RedirExpr } from '../../types.js';
import type { ExprCodec } from './codec.js';
import { natFlagBits, natFlagNames } from './nat.js';

export const redir: ExprCodec<RedirExpr> = {
  name: 'redir',
  attrs: ['NFTA_REDIR_UNSPEC', 'NFTA_REDIR_REG_PROTO_MIN', 'NFTA_REDIR_REG_PROTO_MAX', 'NFTA_REDIR_FLAGS'],
  encode(w, e) {
    if (e.regProtoMin !== undefined) w.u32be(NFTA_REDIR_REG_PROTO_MIN, e.regProtoMin);
    if (e.regProtoMax !== undefined) w.u32be(NFTA_REDIR_REG_PROTO_MAX, e.regProtoMax);
    const flags = natFlagBits(e.flags) | (e.regProtoMin !== undefined ? NF_NAT_RANGE_PROTO_SPECIFIED : 0);
    if (flags) w.u32be(NFTA_REDIR_FLAGS, flags);
  },
  decode(a) {
    const e: RedirExpr = { kind: 'redir' };
    const pmin = a.u32be(NFTA_REDIR_REG_PROTO_MIN);
    const pmax = a.u32be(NFTA_REDIR_REG_PROTO_MAX);
    if (pmin !== undefined) e.regProtoMin = pmin;
    if (pmax !== undefined && pmax !== pmin) e.regProtoMax = pmax;
    const flags = natFlagNames((a.u32be(NFTA_REDIR_FLAGS) ?? 0) & ~NF_NAT_RANGE_PROTO_SPECIFIED);
    if (flags) e.flags = flags;
    return e;
  },
};
