// Tables.
//
//   NFT_MSG_NEWTABLE / NFT_MSG_DELTABLE, nfgenmsg.nfgen_family = the table's family
//     NFTA_TABLE_NAME    string
//     NFTA_TABLE_FLAGS   be32  NFT_TABLE_F_DORMANT (1), NFT_TABLE_F_OWNER (2); nft always sends it
//     NFTA_TABLE_HANDLE  be64  (dumps; delete by handle)
//     NFTA_TABLE_USE     be32  (dumps: chains in the table)
//
// Flags as nft sends them: "add" is a bare NLM_F_REQUEST (the kernel creates
// or keeps the table), "create" adds NLM_F_EXCL (EEXIST if it exists).
import type { NlMessage } from '../../netlink/reader.js';
import { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import { NLMSG_HDRLEN, NLM_F_EXCL, NLM_F_REQUEST } from '../../netlink/constants.js';
import {
  NFGENMSG_LEN,
  NFTA_TABLE_FLAGS,
  NFTA_TABLE_HANDLE,
  NFTA_TABLE_NAME,
  NFT_MSG_DELTABLE,
  NFT_MSG_NEWTABLE,
  NFT_TABLE_F_DORMANT,
  NFT_TABLE_F_OWNER,
} from './constants.js';
import { beginNft } from './ops.js';
import { FAMILY_NUM, familyName } from '../names.js';
import type { Table } from '../types.js';

export const TABLE_ATTRS = ['NFTA_TABLE_UNSPEC', 'NFTA_TABLE_NAME', 'NFTA_TABLE_FLAGS', 'NFTA_TABLE_USE', 'NFTA_TABLE_HANDLE'];

export type TableVerb = 'add' | 'create' | 'delete' | 'flush';

function flagBits(t: Table): number {
  let n = 0;
  for (const f of t.flags ?? []) n |= f === 'dormant' ? NFT_TABLE_F_DORMANT : NFT_TABLE_F_OWNER;
  return n;
}

export function encodeTable(w: NlWriter, seq: number, flags: number, verb: TableVerb, t: Table): void {
  if (verb === 'add' || verb === 'create') {
    beginNft(w, NFT_MSG_NEWTABLE, NLM_F_REQUEST | flags | (verb === 'create' ? NLM_F_EXCL : 0), seq, FAMILY_NUM[t.family]);
    w.str(NFTA_TABLE_NAME, t.name);
    w.u32be(NFTA_TABLE_FLAGS, flagBits(t));
  } else {
    beginNft(w, NFT_MSG_DELTABLE, NLM_F_REQUEST | flags, seq, FAMILY_NUM[t.family]);
    w.str(NFTA_TABLE_NAME, t.name);
  }
  w.endMessage();
}

export function decodeTable(m: NlMessage): Table {
  const a = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWTABLE');
  const t: Table = { family: familyName(m.buf[m.offset + NLMSG_HDRLEN], m.offset + NLMSG_HDRLEN), name: a.str(NFTA_TABLE_NAME) ?? '' };
  const f = a.u32be(NFTA_TABLE_FLAGS) ?? 0;
  const flags: Array<'dormant' | 'owner'> = [];
  if (f & NFT_TABLE_F_DORMANT) flags.push('dormant');
  if (f & NFT_TABLE_F_OWNER) flags.push('owner');
  if (flags.length) t.flags = flags;
  const h = a.u64be(NFTA_TABLE_HANDLE);
  if (h !== undefined) t.handle = h;
  return t;
}
