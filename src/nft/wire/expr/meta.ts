// meta: load packet metadata into a register, or set it from one.
//
//   NFTA_EXPR_NAME "meta"
//   NFTA_EXPR_DATA {
//     NFTA_META_KEY   be32  enum nft_meta_keys
//     NFTA_META_DREG  be32  destination register        (load)
//   | NFTA_META_SREG  be32  source register             (set: "meta mark set ...")
//   }
// nft writes KEY before DREG/SREG; so does this file.
import { NFTA_META_DREG, NFTA_META_KEY, NFTA_META_SREG } from './constants.js';
import type { MetaExpr, MetaKey } from '../../types.js';
import { indexOf, nameOf, type ExprCodec } from './codec.js';

/** enum nft_meta_keys, in order (/usr/include/linux/netfilter/nf_tables.h). */
export const META_KEYS: readonly MetaKey[] = [
  'len',
  'protocol',
  'priority',
  'mark',
  'iif',
  'oif',
  'iifname',
  'oifname',
  'iiftype',
  'oiftype',
  'skuid',
  'skgid',
  'nftrace',
  'rtclassid',
  'secmark',
  'nfproto',
  'l4proto',
  'ibrname',
  'obrname',
  'pkttype',
  'cpu',
  'iifgroup',
  'oifgroup',
  'cgroup',
  'random',
  'secpath',
  'iifkind',
  'oifkind',
  'ibrpvid',
  'ibrvproto',
  'time',
  'day',
  'hour',
  'sdif',
  'sdifname',
];

export const meta: ExprCodec<MetaExpr> = {
  name: 'meta',
  attrs: ['NFTA_META_UNSPEC', 'NFTA_META_DREG', 'NFTA_META_KEY', 'NFTA_META_SREG'],
  encode(w, e) {
    w.u32be(NFTA_META_KEY, indexOf(META_KEYS, e.key, 'meta key'));
    if (e.dreg !== undefined) w.u32be(NFTA_META_DREG, e.dreg);
    if (e.sreg !== undefined) w.u32be(NFTA_META_SREG, e.sreg);
  },
  decode(a) {
    const e: MetaExpr = { kind: 'meta', key: nameOf(META_KEYS, a.u32be(NFTA_META_KEY), 'meta key') };
    const dreg = a.u32be(NFTA_META_DREG);
    const sreg = a.u32be(NFTA_META_SREG);
    if (dreg !== undefined) e.dreg = dreg;
    if (sreg !== undefined) e.sreg = sreg;
    return e;
  },
};
