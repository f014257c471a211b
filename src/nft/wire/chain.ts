// Chains.
//
//   NFT_MSG_NEWCHAIN / NFT_MSG_DELCHAIN, nfgenmsg.nfgen_family = the table's family
//     NFTA_CHAIN_TABLE   string
//     NFTA_CHAIN_NAME    string
//     NFTA_CHAIN_TYPE    string  "filter" | "nat" | "route"           (base chains)
//     NFTA_CHAIN_POLICY  be32    NF_ACCEPT (1) / NF_DROP (0)          (base chains, optional)
//     NFTA_CHAIN_HOOK    nested {                                     (base chains)
//       NFTA_HOOK_HOOKNUM   be32  NF_INET_* / NF_NETDEV_*
//       NFTA_HOOK_PRIORITY  be32  signed
//       NFTA_HOOK_DEV       string (netdev family, inet ingress)
//     }
//     NFTA_CHAIN_HANDLE  be64    (dumps)
//     NFTA_CHAIN_FLAGS   be32    (dumps: NFT_CHAIN_BASE, ...)
//     NFTA_CHAIN_USE     be32    (dumps: rules and jumps using it)
//
// The attribute order is nft's: TABLE, NAME, TYPE, POLICY, HOOK. "add" sends
// NLM_F_CREATE, "create" NLM_F_CREATE | NLM_F_EXCL. Flush is NFT_MSG_DELRULE
// naming only the table and chain (see rule.ts).
import type { NlMessage } from '../../netlink/reader.js';
import { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import { NLMSG_HDRLEN, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST } from '../../netlink/constants.js';
import {
  NFGENMSG_LEN,
  NFTA_CHAIN_HANDLE,
  NFTA_CHAIN_HOOK,
  NFTA_CHAIN_NAME,
  NFTA_CHAIN_POLICY,
  NFTA_CHAIN_TABLE,
  NFTA_CHAIN_TYPE,
  NFTA_HOOK_DEV,
  NFTA_HOOK_HOOKNUM,
  NFTA_HOOK_PRIORITY,
  NFT_MSG_DELCHAIN,
  NFT_MSG_NEWCHAIN,
  NF_ACCEPT,
  NF_DROP,
} from './constants.js';
import { beginNft } from './ops.js';
import { FAMILY_NUM, familyName, hookName, hookNum } from '../names.js';
import type { Chain, ChainType } from '../types.js';
import { must } from '../../util/must.js';

export const CHAIN_ATTRS = [
  'NFTA_CHAIN_UNSPEC',
  'NFTA_CHAIN_TABLE',
  'NFTA_CHAIN_HANDLE',
  'NFTA_CHAIN_NAME',
  'NFTA_CHAIN_HOOK',
  'NFTA_CHAIN_POLICY',
  'NFTA_CHAIN_USE',
  'NFTA_CHAIN_TYPE',
  'NFTA_CHAIN_COUNTERS',
  'NFTA_CHAIN_PAD',
  'NFTA_CHAIN_FLAGS',
  'NFTA_CHAIN_ID',
  'NFTA_CHAIN_USERDATA',
];
export const HOOK_ATTRS = ['NFTA_HOOK_UNSPEC', 'NFTA_HOOK_HOOKNUM', 'NFTA_HOOK_PRIORITY', 'NFTA_HOOK_DEV'];

export type ChainVerb = 'add' | 'create' | 'delete';

export function encodeChain(w: NlWriter, seq: number, flags: number, verb: ChainVerb, c: Chain): void {
  if (verb === 'delete') {
    beginNft(w, NFT_MSG_DELCHAIN, NLM_F_REQUEST | flags, seq, FAMILY_NUM[c.family]);
    w.str(NFTA_CHAIN_TABLE, c.table);
    w.str(NFTA_CHAIN_NAME, c.name);
    w.endMessage();
    return;
  }
  const f = NLM_F_REQUEST | NLM_F_CREATE | flags | (verb === 'create' ? NLM_F_EXCL : 0);
  beginNft(w, NFT_MSG_NEWCHAIN, f, seq, FAMILY_NUM[c.family]);
  w.str(NFTA_CHAIN_TABLE, c.table);
  w.str(NFTA_CHAIN_NAME, c.name);
  if (c.type !== undefined) w.str(NFTA_CHAIN_TYPE, c.type);
  if (c.policy !== undefined) w.u32be(NFTA_CHAIN_POLICY, c.policy === 'drop' ? NF_DROP : NF_ACCEPT);
  if (c.hook !== undefined) {
    const h = w.nestStart(NFTA_CHAIN_HOOK, true);
    w.u32be(NFTA_HOOK_HOOKNUM, must(hookNum(c.family, c.hook), `hook ${c.hook} of family ${c.family}`));
    w.u32be(NFTA_HOOK_PRIORITY, c.priority ?? 0);
    if (c.device !== undefined) w.str(NFTA_HOOK_DEV, c.device);
    w.nestEnd(h);
  }
  w.endMessage();
}

export function decodeChain(m: NlMessage): Chain {
  const a = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWCHAIN');
  const family = familyName(m.buf[m.offset + NLMSG_HDRLEN], m.offset + NLMSG_HDRLEN);
  const c: Chain = { family, table: a.str(NFTA_CHAIN_TABLE) ?? '', name: a.str(NFTA_CHAIN_NAME) ?? '' };
  const hook = a.nested(NFTA_CHAIN_HOOK);
  if (hook) {
    const type = a.str(NFTA_CHAIN_TYPE);
    if (type !== undefined) c.type = type as ChainType;
    c.hook = hookName(family, hook.u32be(NFTA_HOOK_HOOKNUM) ?? 0, hook.start);
    c.priority = (hook.u32be(NFTA_HOOK_PRIORITY) ?? 0) | 0;
    const policy = a.u32be(NFTA_CHAIN_POLICY);
    if (policy !== undefined) c.policy = policy === NF_DROP ? 'drop' : 'accept';
    const dev = hook.str(NFTA_HOOK_DEV);
    if (dev !== undefined) c.device = dev;
  }
  const h = a.u64be(NFTA_CHAIN_HANDLE);
  if (h !== undefined) c.handle = h;
  return c;
}
