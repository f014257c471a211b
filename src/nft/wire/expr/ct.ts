// ct: load conntrack state into a register, or set it ("ct mark set ...").
//
//   NFTA_EXPR_NAME "ct"
//   NFTA_EXPR_DATA {
//     NFTA_CT_KEY        be32  enum nft_ct_keys: 0 state, 1 direction, 2 status, 3 mark, ...
//     NFTA_CT_DREG       be32  (load)
//     NFTA_CT_DIRECTION  u8    0 original, 1 reply (directional keys such as saddr)
//   | NFTA_CT_SREG       be32  (set)
//   }
// "ct state established,related" is ct load state + bitwise mask 0x6 + cmp neq 0.
import { NFTA_CT_DIRECTION, NFTA_CT_DREG, NFTA_CT_KEY, NFTA_CT_SREG } from './constants.js';
import type { CtExpr, CtKey } from '../../types.js';
import { indexOf, nameOf, type ExprCodec } from './codec.js';

/** enum nft_ct_keys, in order (/usr/include/linux/netfilter/nf_tables.h). */
export const CT_KEYS: readonly CtKey[] = [
  'state',
  'direction',
  'status',
  'mark',
  'secmark',
  'expiration',
  'helper',
  'l3proto',
  'saddr',
  'daddr',
  'protocol',
  'proto-src',
  'proto-dst',
  'label',
  'packets',
  'bytes',
  'avgpkt',
  'zone',
  'event',
  'ip saddr',
  'ip daddr',
  'ip6 saddr',
  'ip6 daddr',
  'id',
];

export const ct: ExprCodec<CtExpr> = {
  name: 'ct',
  attrs: ['NFTA_CT_UNSPEC', 'NFTA_CT_DREG', 'NFTA_CT_KEY', 'NFTA_CT_DIRECTION', 'NFTA_CT_SREG'],
  encode(w, e) {
    w.u32be(NFTA_CT_KEY, indexOf(CT_KEYS, e.key, 'ct key'));
    if (e.dreg !== undefined) w.u32be(NFTA_CT_DREG, e.dreg);
    if (e.direction !== undefined) w.u8(NFTA_CT_DIRECTION, e.direction === 'reply' ? 1 : 0);
    if (e.sreg !== undefined) w.u32be(NFTA_CT_SREG, e.sreg);
  },
  decode(a) {
    const e: CtExpr = { kind: 'ct', key: nameOf(CT_KEYS, a.u32be(NFTA_CT_KEY), 'ct key') };
    const dreg = a.u32be(NFTA_CT_DREG);
    const sreg = a.u32be(NFTA_CT_SREG);
    const dir = a.u8(NFTA_CT_DIRECTION);
    if (dreg !== undefined) e.dreg = dreg;
    if (dir !== undefined) e.direction = dir === 1 ? 'reply' : 'original';
    if (sreg !== undefined) e.sreg = sreg;
    return e;
  },
};
