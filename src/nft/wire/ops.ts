// The operations a batch carries, and how each becomes netlink messages:
// the framing every nftables message shares, then one encoder per op kind.
//
//   nlmsghdr  u32 len | u16 type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_* | u16 flags | u32 seq | u32 port
//   nfgenmsg  u8 nfgen_family | u8 version (NFNETLINK_V0) | be16 res_id (0 for ops)
//   attributes
import type { NlWriter } from '../../netlink/writer.js';
import { NFNETLINK_V0, NFNL_SUBSYS_NFTABLES } from './constants.js';
import type { EncodeContext } from './expr/index.js';
import { encodeChain, type ChainVerb } from './chain.js';
import { encodeRule, encodeRuleDelete, type RuleRef, type RuleVerb } from './rule.js';
import { encodeSet, type SetVerb } from './set.js';
import { encodeElements, encodeSetFlush, type ElemVerb, type WireElement } from './setelem.js';
import { encodeTable, type TableVerb } from './table.js';
import type { Chain, NftSet, Rule, SetElement, Table } from '../types.js';

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

export type Op =
  | { kind: 'table'; verb: TableVerb; table: Table }
  | { kind: 'chain'; verb: ChainVerb; chain: Chain }
  | { kind: 'rule'; verb: Exclude<RuleVerb, 'delete'>; rule: Rule; position?: bigint }
  | { kind: 'rule-delete'; verb: 'delete' | 'flush'; ref: RuleRef }
  | { kind: 'set'; verb: SetVerb; set: NftSet; id: number }
  | { kind: 'set-flush'; set: NftSet }
  | { kind: 'elements'; verb: ElemVerb; set: NftSet; elements: SetElement[]; chunks: WireElement[][] };

/** Messages an op takes: one, except element lists too long for one message. */
export function messageCount(op: Op): number {
  return op.kind === 'elements' ? op.chunks.length : 1;
}

/** Looks up NFTA_SET_ID values of sets created in the same batch. */
export interface BatchContext {
  setId(family: string, table: string, name: string): number | undefined;
}

/** Encodes message `chunk` of `op` (always 0 but for long element lists). */
export function encodeOp(w: NlWriter, op: Op, seq: number, flags: number, ctx: BatchContext, chunk = 0): void {
  switch (op.kind) {
    case 'table':
      return encodeTable(w, seq, flags, op.verb, op.table);
    case 'chain':
      return encodeChain(w, seq, flags, op.verb, op.chain);
    case 'rule': {
      const r = op.rule;
      const ectx: EncodeContext = { setId: (name) => ctx.setId(r.family, r.table, name) };
      return encodeRule(w, seq, flags, op.verb, r, op.position, ectx);
    }
    case 'rule-delete':
      return encodeRuleDelete(w, seq, flags, op.ref);
    case 'set':
      return encodeSet(w, seq, flags, op.verb, op.set, op.id);
    case 'set-flush':
      return encodeSetFlush(w, seq, flags, op.set);
    case 'elements': {
      const s = op.set;
      return encodeElements(w, seq, flags, op.verb, s, op.chunks[chunk], ctx.setId(s.family, s.table, s.name));
    }
  }
}
