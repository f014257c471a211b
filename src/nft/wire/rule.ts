// Rules.
//
//   NFT_MSG_NEWRULE / NFT_MSG_DELRULE, nfgenmsg.nfgen_family = the table's family
//     NFTA_RULE_TABLE        string
//     NFTA_RULE_CHAIN        string
//     NFTA_RULE_HANDLE       be64    replace / delete by handle; in dumps
//     NFTA_RULE_EXPRESSIONS  nested  list of NFTA_LIST_ELEM (see expr/index.ts)
//     NFTA_RULE_POSITION     be64    insert before / add after this handle
//     NFTA_RULE_USERDATA     binary  udata TLVs; NFTNL_UDATA_RULE_COMMENT (see udata.ts)
//
// Verbs and flags, as nft sends them:
//   append   NEWRULE  NLM_F_CREATE | NLM_F_APPEND            (+ POSITION: add after that rule)
//   insert   NEWRULE  NLM_F_CREATE                           (+ POSITION: insert before it)
//   replace  NEWRULE  NLM_F_REPLACE, HANDLE
//   delete   DELRULE  HANDLE
//   flush    DELRULE  TABLE [CHAIN] only: every rule of the chain (or table)
import type { NlMessage } from '../../netlink/reader.js';
import { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import { NLMSG_HDRLEN, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST } from '../../netlink/constants.js';
import {
  NFGENMSG_LEN,
  NFTA_RULE_CHAIN,
  NFTA_RULE_EXPRESSIONS,
  NFTA_RULE_HANDLE,
  NFTA_RULE_POSITION,
  NFTA_RULE_TABLE,
  NFTA_RULE_USERDATA,
  NFT_MSG_DELRULE,
  NFT_MSG_NEWRULE,
} from './constants.js';
import { decodeExprs, encodeExprs, type EncodeContext } from './expr/index.js';
import { beginNft } from './ops.js';
import { FAMILY_NUM, familyName } from '../names.js';
import type { Family, Rule } from '../types.js';
import { NFTNL_UDATA_RULE_COMMENT, parseUdata, ruleComment, udataString } from './udata.js';
import { must } from '../../util/must.js';

export const RULE_ATTRS = [
  'NFTA_RULE_UNSPEC',
  'NFTA_RULE_TABLE',
  'NFTA_RULE_CHAIN',
  'NFTA_RULE_HANDLE',
  'NFTA_RULE_EXPRESSIONS',
  'NFTA_RULE_COMPAT',
  'NFTA_RULE_POSITION',
  'NFTA_RULE_USERDATA',
];

export type RuleVerb = 'append' | 'insert' | 'replace' | 'delete';

/** A rule op's target when no expressions are involved (delete, flush). */
export interface RuleRef {
  family: Family;
  table: string;
  chain?: string;
  handle?: bigint;
}

export function encodeRule(w: NlWriter, seq: number, flags: number, verb: RuleVerb, r: Rule, position: bigint | undefined, ctx: EncodeContext): void {
  let f = NLM_F_REQUEST | flags;
  if (verb === 'append') f |= NLM_F_CREATE | NLM_F_APPEND;
  else if (verb === 'insert') f |= NLM_F_CREATE;
  else if (verb === 'replace') f |= NLM_F_REPLACE;
  beginNft(w, NFT_MSG_NEWRULE, f, seq, FAMILY_NUM[r.family]);
  w.str(NFTA_RULE_TABLE, r.table);
  w.str(NFTA_RULE_CHAIN, r.chain);
  if (verb === 'replace') w.u64be(NFTA_RULE_HANDLE, must(r.handle, 'the handle of a replaced rule'));
  encodeExprs(w, NFTA_RULE_EXPRESSIONS, r.exprs, ctx);
  if (position !== undefined) w.u64be(NFTA_RULE_POSITION, position);
  if (r.comment !== undefined) w.binary(NFTA_RULE_USERDATA, ruleComment(r.comment));
  w.endMessage();
}

/** DELRULE: one rule by handle, or (no handle) every rule of a chain or table. */
export function encodeRuleDelete(w: NlWriter, seq: number, flags: number, r: RuleRef): void {
  beginNft(w, NFT_MSG_DELRULE, NLM_F_REQUEST | flags, seq, FAMILY_NUM[r.family]);
  w.str(NFTA_RULE_TABLE, r.table);
  if (r.chain !== undefined) w.str(NFTA_RULE_CHAIN, r.chain);
  if (r.handle !== undefined) w.u64be(NFTA_RULE_HANDLE, r.handle);
  w.endMessage();
}

export function decodeRule(m: NlMessage): Rule {
  const a = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWRULE');
  const r: Rule = {
    family: familyName(m.buf[m.offset + NLMSG_HDRLEN], m.offset + NLMSG_HDRLEN),
    table: a.str(NFTA_RULE_TABLE) ?? '',
    chain: a.str(NFTA_RULE_CHAIN) ?? '',
    exprs: decodeExprs(a.nested(NFTA_RULE_EXPRESSIONS)),
  };
  const comment = udataString(parseUdata(a.bytes(NFTA_RULE_USERDATA)).get(NFTNL_UDATA_RULE_COMMENT));
  if (comment !== undefined) r.comment = comment;
  const h = a.u64be(NFTA_RULE_HANDLE);
  if (h !== undefined) r.handle = h;
  return r;
}
