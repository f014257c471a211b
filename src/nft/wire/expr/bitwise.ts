// bitwise: dreg = (sreg & mask) ^ xor, or a shift. nft uses it for prefixes
// that are not byte aligned ("ip saddr 10.1.2.0/27") and for flag tests
// ("ct state established,related").
//
//   NFTA_EXPR_NAME "bitwise"
//   NFTA_EXPR_DATA {
//     NFTA_BITWISE_SREG  be32
//     NFTA_BITWISE_DREG  be32
//     NFTA_BITWISE_LEN   be32  bytes
//     NFTA_BITWISE_MASK  nested { NFTA_DATA_VALUE len bytes }   (mask/xor form)
//     NFTA_BITWISE_XOR   nested { NFTA_DATA_VALUE len bytes }
//     NFTA_BITWISE_OP    be32  enum nft_bitwise_ops: 0 mask/xor, 1 lshift, 2 rshift
//     NFTA_BITWISE_DATA  nested { NFTA_DATA_VALUE be32 bits }   (shift form)
//   }
// nft 1.0.6 leaves NFTA_BITWISE_OP out of the mask/xor form (0 is the default);
// the kernel always reports it. This file does the same as nft.
import {
  NFTA_BITWISE_DATA,
  NFTA_BITWISE_DREG,
  NFTA_BITWISE_LEN,
  NFTA_BITWISE_MASK,
  NFTA_BITWISE_OP,
  NFTA_BITWISE_SREG,
  NFTA_BITWISE_XOR,
  NFT_BITWISE_LSHIFT,
  NFT_BITWISE_MASK_XOR,
  NFT_BITWISE_RSHIFT,
} from './constants.js';
import { DecodeError } from '../../../errors.js';
import type { BitwiseExpr } from '../../types.js';
import { getValue, putValue } from '../data.js';
import { NoTypedForm, req, type ExprCodec } from './codec.js';

export const bitwise: ExprCodec<BitwiseExpr> = {
  name: 'bitwise',
  attrs: [
    'NFTA_BITWISE_UNSPEC',
    'NFTA_BITWISE_SREG',
    'NFTA_BITWISE_DREG',
    'NFTA_BITWISE_LEN',
    'NFTA_BITWISE_MASK',
    'NFTA_BITWISE_XOR',
    'NFTA_BITWISE_OP',
    'NFTA_BITWISE_DATA',
  ],
  encode(w, e) {
    w.u32be(NFTA_BITWISE_SREG, e.sreg);
    w.u32be(NFTA_BITWISE_DREG, e.dreg);
    w.u32be(NFTA_BITWISE_LEN, e.len);
    if (e.shift) {
      w.u32be(NFTA_BITWISE_OP, e.shift.op === 'lshift' ? NFT_BITWISE_LSHIFT : NFT_BITWISE_RSHIFT);
      const d = Buffer.alloc(4);
      d.writeUInt32BE(e.shift.bits);
      putValue(w, NFTA_BITWISE_DATA, d);
      return;
    }
    putValue(w, NFTA_BITWISE_MASK, req(e.mask, 'bitwise mask'));
    putValue(w, NFTA_BITWISE_XOR, req(e.xor, 'bitwise xor'));
  },
  decode(a) {
    const e: BitwiseExpr = {
      kind: 'bitwise',
      sreg: req(a.u32be(NFTA_BITWISE_SREG), 'bitwise sreg'),
      dreg: req(a.u32be(NFTA_BITWISE_DREG), 'bitwise dreg'),
      len: req(a.u32be(NFTA_BITWISE_LEN), 'bitwise len'),
    };
    const op = a.u32be(NFTA_BITWISE_OP) ?? NFT_BITWISE_MASK_XOR;
    if (op === NFT_BITWISE_MASK_XOR) {
      e.mask = req(getValue(a, NFTA_BITWISE_MASK), 'bitwise mask');
      e.xor = req(getValue(a, NFTA_BITWISE_XOR), 'bitwise xor');
    } else if (op === NFT_BITWISE_LSHIFT || op === NFT_BITWISE_RSHIFT) {
      const d = req(getValue(a, NFTA_BITWISE_DATA), 'bitwise data');
      if (d.length !== 4) throw new DecodeError('bitwise expression', a.start, `shift data of ${d.length} bytes, expected 4`);
      e.shift = { op: op === NFT_BITWISE_LSHIFT ? 'lshift' : 'rshift', bits: d.readUInt32BE(0) };
    } else {
      throw new NoTypedForm(`nft: bitwise op ${op} has no typed form`);
    }
    return e;
  },
};
