// Message framing shared by every nftables object.
//
//   nlmsghdr  u32 len | u16 type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_* | u16 flags | u32 seq | u32 port
//   nfgenmsg  u8 nfgen_family | u8 version (NFNETLINK_V0) | be16 res_id (0 for ops)
//   attributes
import type { NlWriter } from '../netlink/writer.js';
import { NFNETLINK_V0, NFNL_SUBSYS_NFTABLES } from './constants.js';

export function nftType(msg: number): number {
  return (NFNL_SUBSYS_NFTABLES << 8) | msg;
}

/** Begins an nftables message: nlmsghdr + nfgenmsg. Close it with w.endMessage(). */
export function beginNft(w: NlWriter, msg: number, flags: number, seq: number, family: number, resId = 0): void {
  w.beginMessage(nftType(msg), flags, seq, 0);
  w.rawU8(family);
  w.rawU8(NFNETLINK_V0);
  w.rawU16BE(resId);
}
