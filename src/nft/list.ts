// Reading state back: NFT_MSG_GET* dumps decoded into the same typed objects
// the batch writes, and the ruleset generation.
//
//   NFT_MSG_GETTABLE / GETCHAIN / GETSET   NLM_F_DUMP, nfgen_family = family or NFPROTO_UNSPEC
//   NFT_MSG_GETRULE                        NLM_F_DUMP, [NFTA_RULE_TABLE, NFTA_RULE_CHAIN] to filter
//   NFT_MSG_GETSETELEM                     NLM_F_DUMP, NFTA_SET_ELEM_LIST_TABLE + NFTA_SET_ELEM_LIST_SET
//   NFT_MSG_GETGEN                         -> NFT_MSG_NEWGEN { NFTA_GEN_ID be32 }
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../netlink/constants.js';
import { DecodeError } from '../errors.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
import type { NetlinkConnection, Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { decodeChain } from './wire/chain.js';
import {
  NFGENMSG_LEN,
  NFPROTO_UNSPEC,
  NFTA_GEN_ID,
  NFTA_RULE_CHAIN,
  NFTA_RULE_TABLE,
  NFTA_SET_ELEM_LIST_SET,
  NFTA_SET_ELEM_LIST_TABLE,
  NFT_MSG_GETCHAIN,
  NFT_MSG_GETGEN,
  NFT_MSG_GETRULE,
  NFT_MSG_GETSET,
  NFT_MSG_GETSETELEM,
  NFT_MSG_GETTABLE,
  NFT_MSG_NEWGEN,
} from './wire/constants.js';
import { nftType, beginNft } from './wire/ops.js';
import { FAMILY_NUM } from './names.js';
import { setKey, type Ruleset } from './render/ruleset.js';
import { decodeRule } from './wire/rule.js';
import { decodeSet } from './wire/set.js';
import { decodeElements } from './wire/setelem.js';
import { decodeTable } from './wire/table.js';
import type { Chain, Family, NftSet, Rule, SetElement, Table } from './types.js';

function dumpRequest(msg: number, family: Family | undefined, what: string, attrs?: (w: NlWriter) => void): Request {
  return {
    describe: () => `nft list ${what}`,
    encode(w, seq) {
      beginNft(w, msg, NLM_F_REQUEST | NLM_F_DUMP, seq, family ? FAMILY_NUM[family] : NFPROTO_UNSPEC);
      attrs?.(w);
      w.endMessage();
    },
  };
}

export async function listTables(conn: NetlinkConnection, family?: Family): Promise<Table[]> {
  const msgs = await conn.dump(dumpRequest(NFT_MSG_GETTABLE, family, 'tables'));
  return msgs.map(decodeTable);
}

export async function listChains(conn: NetlinkConnection, family?: Family, table?: string): Promise<Chain[]> {
  const msgs = await conn.dump(dumpRequest(NFT_MSG_GETCHAIN, family, 'chains'));
  return msgs.map(decodeChain).filter((c) => table === undefined || c.table === table);
}

export async function listRules(conn: NetlinkConnection, family?: Family, table?: string, chain?: string): Promise<Rule[]> {
  const filter = family !== undefined && table !== undefined;
  const req = dumpRequest(NFT_MSG_GETRULE, family, 'rules', (w) => {
    if (!filter) return;
    w.str(NFTA_RULE_TABLE, table);
    if (chain !== undefined) w.str(NFTA_RULE_CHAIN, chain);
  });
  const rules = (await conn.dump(req)).map(decodeRule);
  return rules.filter((r) => (table === undefined || r.table === table) && (chain === undefined || r.chain === chain));
}

export async function listSets(conn: NetlinkConnection, family?: Family, table?: string): Promise<NftSet[]> {
  const msgs = await conn.dump(dumpRequest(NFT_MSG_GETSET, family, 'sets'));
  return msgs.map(decodeSet).filter((s) => table === undefined || s.table === table);
}

/** The set's elements, intervals merged back into ranges, sorted by key. */
export async function listElements(conn: NetlinkConnection, set: NftSet): Promise<SetElement[]> {
  return decodeElements(await conn.dump(elementsRequest(set)), set);
}

function elementsRequest(set: NftSet): Request {
  return dumpRequest(NFT_MSG_GETSETELEM, set.family, `elements of ${set.name}`, (w) => {
    w.str(NFTA_SET_ELEM_LIST_TABLE, set.table);
    w.str(NFTA_SET_ELEM_LIST_SET, set.name);
  });
}

/** The parts of the tables `tables` (of any owner), as one exchange of dumps: chains, rules and sets. */
export async function listTablesContent(conn: NetlinkConnection, tables: readonly Table[]): Promise<{ chains: Chain[]; rules: Rule[]; sets: NftSet[] }> {
  const families = [...new Set(tables.map((t) => t.family))];
  const names = new Set(tables.map((t) => `${t.family} ${t.name}`));
  const mine = (o: { family: Family; table: string }) => names.has(`${o.family} ${o.table}`);
  const reqs: Request[] = [];
  for (const f of families) reqs.push(dumpRequest(NFT_MSG_GETCHAIN, f, 'chains'), dumpRequest(NFT_MSG_GETSET, f, 'sets'));
  for (const t of tables) reqs.push(dumpRequest(NFT_MSG_GETRULE, t.family, 'rules', (w) => w.str(NFTA_RULE_TABLE, t.name)));
  const got = await conn.dumps(reqs);
  const out = { chains: [] as Chain[], rules: [] as Rule[], sets: [] as NftSet[] };
  families.forEach((_, k) => {
    out.chains.push(...got[2 * k].map(decodeChain).filter(mine));
    out.sets.push(...got[2 * k + 1].map(decodeSet).filter(mine));
  });
  tables.forEach((t, k) => out.rules.push(...got[2 * families.length + k].map(decodeRule).filter((r) => r.family === t.family && r.table === t.name)));
  return out;
}

/** The elements of each of `sets`, as one exchange of dumps (see listElements). */
export async function listElementsOf(conn: NetlinkConnection, sets: readonly NftSet[]): Promise<SetElement[][]> {
  const got = await elementDumps(conn, sets);
  return sets.map((s, k) => decodeElements(got[k], s));
}

/** The element dumps of each of `sets`, undecoded, as one exchange (for decoders that read only part: wire/setelem-pairs.ts). */
export function elementDumps(conn: NetlinkConnection, sets: readonly NftSet[]): Promise<NlMessage[][]> {
  return conn.dumps(sets.map(elementsRequest));
}

/** The ruleset generation and the tables, in one exchange (the generation read first). */
export async function generationAndTables(conn: NetlinkConnection): Promise<{ genid: number; tables: Table[] }> {
  const [gen, tables] = await conn.dumps([generationRequest(), dumpRequest(NFT_MSG_GETTABLE, undefined, 'tables')]);
  const m = gen.find((x) => x.type === nftType(NFT_MSG_NEWGEN));
  if (!m) throw new DecodeError('NFT_MSG_NEWGEN', 0, 'the reply to NFT_MSG_GETGEN has no NFT_MSG_NEWGEN');
  return { genid: decodeGeneration(m), tables: tables.map(decodeTable) };
}

/** Everything, in kernel order (tables, chains and rules by handle), with every set's elements. */
export async function listRuleset(conn: NetlinkConnection, family?: Family): Promise<Ruleset> {
  const [tables, chains, sets, rules] = [
    await listTables(conn, family),
    await listChains(conn, family),
    await listSets(conn, family),
    await listRules(conn, family),
  ];
  const elements = new Map<string, SetElement[]>();
  for (const s of sets) elements.set(setKey(s), await listElements(conn, s));
  return { tables, chains, sets, rules, elements };
}

/** The ruleset generation id (NFT_MSG_GETGEN), for CommitOptions.genid. */
function generationRequest(): Request {
  return {
    describe: () => 'nft get generation',
    encode(w, seq) {
      beginNft(w, NFT_MSG_GETGEN, NLM_F_REQUEST | NLM_F_ACK, seq, NFPROTO_UNSPEC);
      w.endMessage();
    },
  };
}

export async function getGeneration(conn: NetlinkConnection): Promise<number> {
  const [reply] = await conn.runAll([generationRequest()]);
  const m = reply.messages.find((x) => x.type === nftType(NFT_MSG_NEWGEN));
  if (!m) throw new DecodeError('NFT_MSG_NEWGEN', 0, 'the reply to NFT_MSG_GETGEN has no NFT_MSG_NEWGEN');
  return decodeGeneration(m);
}

/** The generation id of an NFT_MSG_NEWGEN message. */
export function decodeGeneration(m: NlMessage): number {
  const id = Attrs.ofMessage(m, NFGENMSG_LEN, 'NFT_MSG_NEWGEN').u32be(NFTA_GEN_ID);
  if (id === undefined) throw new DecodeError('NFT_MSG_NEWGEN', m.offset, 'no NFTA_GEN_ID');
  return id;
}
