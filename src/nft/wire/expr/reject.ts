// reject: drop the packet and answer with an ICMP error or a TCP reset.
//
//   NFTA_EXPR_NAME "reject"
//   NFTA_EXPR_DATA {
//     NFTA_REJECT_TYPE       be32  enum nft_reject_types: 0 icmp(v6) unreach, 1 tcp reset, 2 icmpx unreach
//     NFTA_REJECT_ICMP_CODE  u8    the code (icmpx: enum nft_reject_inet_code)
//   }
// Example, plain "reject" in an ip table: TYPE 0, CODE 3 (port-unreachable).
// nft also sends CODE 0 with "tcp reset"; the kernel does not report it back.
import { NFTA_REJECT_ICMP_CODE, NFTA_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_TCP_RST } from './constants.js';
import type { RejectExpr } from '../../types.js';
import { req, type ExprCodec } from './codec.js';

export const reject: ExprCodec<RejectExpr> = {
  name: 'reject',
  attrs: ['NFTA_REJECT_UNSPEC', 'NFTA_REJECT_TYPE', 'NFTA_REJECT_ICMP_CODE'],
  encode(w, e) {
    const t = e.type === 'tcp-reset' ? NFT_REJECT_TCP_RST : e.type === 'icmpx' ? NFT_REJECT_ICMPX_UNREACH : 0;
    w.u32be(NFTA_REJECT_TYPE, t);
    w.u8(NFTA_REJECT_ICMP_CODE, e.code ?? 0);
  },
  decode(a) {
    const t = req(a.u32be(NFTA_REJECT_TYPE), 'reject type');
    if (t === NFT_REJECT_TCP_RST) return { kind: 'reject', type: 'tcp-reset' };
    return { kind: 'reject', type: t === NFT_REJECT_ICMPX_UNREACH ? 'icmpx' : 'icmp', code: a.u8(NFTA_REJECT_ICMP_CODE) ?? 0 };
  },
};
