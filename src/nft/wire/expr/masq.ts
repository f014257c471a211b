// masq: source NAT to the address of the outgoing interface ("masquerade").
//
//   NFTA_EXPR_NAME "masq"
//   NFTA_EXPR_DATA {
//     NFTA_MASQ_FLAGS          be32  NF_NAT_RANGE_* (random, persistent, fully-random, PROTO_SPECIFIED)
//     NFTA_MASQ_REG_PROTO_MIN  be32  register with the first port ("masquerade to :1024-2000")
//     NFTA_MASQ_REG_PROTO_MAX  be32  register with the last port
//   }
// A plain "masquerade" is an empty NFTA_EXPR_DATA. nft sends PROTO_MAX only
// when it differs; the kernel reports it always, and decode folds it back.
import { NFTA_MASQ_FLAGS, NFTA_MASQ_REG_PROTO_MAX, NFTA_MASQ_REG_PROTO_MIN, NF_NAT_RANGE_PROTO_SPECIFIED } from './constants.js';
import type { MasqExpr } from '../../types.js';
import type { ExprCodec } from './codec.js';
import { natFlagBits, natFlagNames } from './nat.js';

export const masq: ExprCodec<MasqExpr> = {
  name: 'masq',
  attrs: ['NFTA_MASQ_UNSPEC', 'NFTA_MASQ_FLAGS', 'NFTA_MASQ_REG_PROTO_MIN', 'NFTA_MASQ_REG_PROTO_MAX'],
  encode(w, e) {
    const flags = natFlagBits(e.flags) | (e.regProtoMin !== undefined ? NF_NAT_RANGE_PROTO_SPECIFIED : 0);
    if (flags) w.u32be(NFTA_MASQ_FLAGS, flags);
    if (e.regProtoMin !== undefined) w.u32be(NFTA_MASQ_REG_PROTO_MIN, e.regProtoMin);
    if (e.regProtoMax !== undefined) w.u32be(NFTA_MASQ_REG_PROTO_MAX, e.regProtoMax);
  },
  decode(a) {
    const e: MasqExpr = { kind: 'masq' };
    const pmin = a.u32be(NFTA_MASQ_REG_PROTO_MIN);
    const pmax = a.u32be(NFTA_MASQ_REG_PROTO_MAX);
    if (pmin !== undefined) e.regProtoMin = pmin;
    if (pmax !== undefined && pmax !== pmin) e.regProtoMax = pmax;
    const flags = natFlagNames((a.u32be(NFTA_MASQ_FLAGS) ?? 0) & ~NF_NAT_RANGE_PROTO_SPECIFIED);
    if (flags) e.flags = flags;
    return e;
  },
};
