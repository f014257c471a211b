// lookup: is the key in sreg in the set? For a map, also load the value into
// dreg (dreg 0, the verdict register, makes it a verdict map: "vmap").
//
//   NFTA_EXPR_NAME "lookup"
//   NFTA_EXPR_DATA {
//     NFTA_LOOKUP_SREG    be32
//     NFTA_LOOKUP_DREG    be32    (maps only)
//     NFTA_LOOKUP_SET     string  set name
//     NFTA_LOOKUP_SET_ID  be32    the set's NFTA_SET_ID when it is created in the same batch
//     NFTA_LOOKUP_FLAGS   be32    NFT_LOOKUP_F_INV (1): match when absent ("!= @set")
//   }
// Order as nft writes it: SREG, DREG, SET, SET_ID, FLAGS (FLAGS only when set).
import { NFTA_LOOKUP_DREG, NFTA_LOOKUP_FLAGS, NFTA_LOOKUP_SET, NFTA_LOOKUP_SET_ID, NFTA_LOOKUP_SREG, NFT_LOOKUP_F_INV } from './constants.js';
import type { LookupExpr } from '../../types.js';
import { req, type ExprCodec } from './codec.js';

export const lookup: ExprCodec<LookupExpr> = {
  name: 'lookup',
  attrs: ['NFTA_LOOKUP_UNSPEC', 'NFTA_LOOKUP_SET', 'NFTA_LOOKUP_SREG', 'NFTA_LOOKUP_DREG', 'NFTA_LOOKUP_SET_ID', 'NFTA_LOOKUP_FLAGS'],
  encode(w, e, ctx) {
    w.u32be(NFTA_LOOKUP_SREG, e.sreg);
    if (e.dreg !== undefined) w.u32be(NFTA_LOOKUP_DREG, e.dreg);
    w.str(NFTA_LOOKUP_SET, e.set);
    const id = ctx.setId(e.set);
    if (id !== undefined) w.u32be(NFTA_LOOKUP_SET_ID, id);
    if (e.invert) w.u32be(NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
  },
  decode(a) {
    const e: LookupExpr = {
      kind: 'lookup',
      set: req(a.str(NFTA_LOOKUP_SET), 'lookup set'),
      sreg: req(a.u32be(NFTA_LOOKUP_SREG), 'lookup sreg'),
    };
    const dreg = a.u32be(NFTA_LOOKUP_DREG);
    if (dreg !== undefined) e.dreg = dreg;
    if ((a.u32be(NFTA_LOOKUP_FLAGS) ?? 0) & NFT_LOOKUP_F_INV) e.invert = true;
    return e;
  },
};
