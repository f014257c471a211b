// limit: token bucket rate limit.
//
//   NFTA_EXPR_NAME "limit"
//   NFTA_EXPR_DATA {
//     NFTA_LIMIT_RATE   be64  packets (or bytes) per unit
//     NFTA_LIMIT_UNIT   be64  seconds: 1, 60, 3600, 86400, 604800
//     NFTA_LIMIT_BURST  be32  packets (or bytes); nft's default for packets is 5
//     NFTA_LIMIT_TYPE   be32  enum nft_limit_type: 0 packets, 1 bytes
//     NFTA_LIMIT_FLAGS  be32  NFT_LIMIT_F_INV: "limit rate over"
//   }
// Example, "limit rate 10/second": RATE 10, UNIT 1, BURST 5, TYPE 0, FLAGS 0.
import { NFTA_LIMIT_BURST, NFTA_LIMIT_FLAGS, NFTA_LIMIT_RATE, NFTA_LIMIT_TYPE, NFTA_LIMIT_UNIT, NFT_LIMIT_F_INV, NFT_LIMIT_PKT_BYTES } from './constants.js';
import type { LimitExpr } from '../../types.js';
import { req, type ExprCodec } from './codec.js';

export const limit: ExprCodec<LimitExpr> = {
  name: 'limit',
  attrs: ['NFTA_LIMIT_UNSPEC', 'NFTA_LIMIT_RATE', 'NFTA_LIMIT_UNIT', 'NFTA_LIMIT_BURST', 'NFTA_LIMIT_TYPE', 'NFTA_LIMIT_FLAGS'],
  encode(w, e) {
    w.u64be(NFTA_LIMIT_RATE, BigInt(e.rate));
    w.u64be(NFTA_LIMIT_UNIT, BigInt(e.unit));
    w.u32be(NFTA_LIMIT_BURST, e.burst);
    w.u32be(NFTA_LIMIT_TYPE, e.type === 'bytes' ? NFT_LIMIT_PKT_BYTES : 0);
    w.u32be(NFTA_LIMIT_FLAGS, e.over ? NFT_LIMIT_F_INV : 0);
  },
  decode(a) {
    const e: LimitExpr = {
      kind: 'limit',
      rate: Number(req(a.u64be(NFTA_LIMIT_RATE), 'limit rate')),
      unit: Number(req(a.u64be(NFTA_LIMIT_UNIT), 'limit unit')),
      burst: a.u32be(NFTA_LIMIT_BURST) ?? 0,
      type: a.u32be(NFTA_LIMIT_TYPE) === NFT_LIMIT_PKT_BYTES ? 'bytes' : 'packets',
    };
    if ((a.u32be(NFTA_LIMIT_FLAGS) ?? 0) & NFT_LIMIT_F_INV) e.over = true;
    return e;
  },
};
