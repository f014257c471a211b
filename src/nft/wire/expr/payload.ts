// payload: load bytes of a packet header into a register (or write them back).
//
//   NFTA_EXPR_NAME "payload"
//   NFTA_EXPR_DATA {
//     NFTA_PAYLOAD_DREG         be32  destination register          (load)
//     NFTA_PAYLOAD_BASE         be32  enum nft_payload_bases: 0 link, 1 network, 2 transport, 3 inner
//     NFTA_PAYLOAD_OFFSET       be32  byte offset from the base
//     NFTA_PAYLOAD_LEN          be32  bytes
//     NFTA_PAYLOAD_SREG         be32  source register               (write)
//     NFTA_PAYLOAD_CSUM_TYPE    be32  (write) checksum to fix
//     NFTA_PAYLOAD_CSUM_OFFSET  be32
//     NFTA_PAYLOAD_CSUM_FLAGS   be32
//   }
// Example, "ip daddr": DREG 1, BASE 1, OFFSET 16, LEN 4.
import {
  NFTA_PAYLOAD_BASE,
  NFTA_PAYLOAD_CSUM_FLAGS,
  NFTA_PAYLOAD_CSUM_OFFSET,
  NFTA_PAYLOAD_CSUM_TYPE,
  NFTA_PAYLOAD_DREG,
  NFTA_PAYLOAD_LEN,
  NFTA_PAYLOAD_OFFSET,
  NFTA_PAYLOAD_SREG,
} from './constants.js';
import type { PayloadBase, PayloadExpr } from '../../types.js';
import { indexOf, nameOf, req, type ExprCodec } from './codec.js';

export const PAYLOAD_BASES: readonly PayloadBase[] = ['ll', 'network', 'transport', 'inner'];

export const payload: ExprCodec<PayloadExpr> = {
  name: 'payload',
  attrs: [
    'NFTA_PAYLOAD_UNSPEC',
    'NFTA_PAYLOAD_DREG',
    'NFTA_PAYLOAD_BASE',
    'NFTA_PAYLOAD_OFFSET',
    'NFTA_PAYLOAD_LEN',
    'NFTA_PAYLOAD_SREG',
    'NFTA_PAYLOAD_CSUM_TYPE',
    'NFTA_PAYLOAD_CSUM_OFFSET',
    'NFTA_PAYLOAD_CSUM_FLAGS',
  ],
  encode(w, e) {
    if (e.dreg !== undefined) w.u32be(NFTA_PAYLOAD_DREG, e.dreg);
    w.u32be(NFTA_PAYLOAD_BASE, indexOf(PAYLOAD_BASES, e.base, 'payload base'));
    w.u32be(NFTA_PAYLOAD_OFFSET, e.offset);
    w.u32be(NFTA_PAYLOAD_LEN, e.len);
    if (e.sreg !== undefined) w.u32be(NFTA_PAYLOAD_SREG, e.sreg);
    if (e.csumType !== undefined) w.u32be(NFTA_PAYLOAD_CSUM_TYPE, e.csumType);
    if (e.csumOffset !== undefined) w.u32be(NFTA_PAYLOAD_CSUM_OFFSET, e.csumOffset);
    if (e.csumFlags !== undefined) w.u32be(NFTA_PAYLOAD_CSUM_FLAGS, e.csumFlags);
  },
  decode(a) {
    const e: PayloadExpr = {
      kind: 'payload',
      base: nameOf(PAYLOAD_BASES, a.u32be(NFTA_PAYLOAD_BASE), 'payload base'),
      offset: req(a.u32be(NFTA_PAYLOAD_OFFSET), 'payload offset'),
      len: req(a.u32be(NFTA_PAYLOAD_LEN), 'payload len'),
    };
    const dreg = a.u32be(NFTA_PAYLOAD_DREG);
    if (dreg !== undefined) e.dreg = dreg;
    const sreg = a.u32be(NFTA_PAYLOAD_SREG);
    if (sreg !== undefined) {
      e.sreg = sreg;
      // The kernel reports the checksum fields of a write even when zero.
      const t = a.u32be(NFTA_PAYLOAD_CSUM_TYPE);
      const o = a.u32be(NFTA_PAYLOAD_CSUM_OFFSET);
      const f = a.u32be(NFTA_PAYLOAD_CSUM_FLAGS);
      if (t) e.csumType = t;
      if (o) e.csumOffset = o;
      if (f) e.csumFlags = f;
    }
    return e;
  },
};
