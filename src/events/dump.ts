// The state at subscription time, as events: what h.events({ dump: true })
// yields before 'synced'. Every dump goes through NetlinkConnection.dump(),
// which retries one the kernel marks NLM_F_DUMP_INTR (changed while dumped)
// up to MAX_DUMP_RETRIES times, so a dump is never half of two states.
import type { Session } from '../session.js';
import type { NftSet } from '../nft/types.js';
import { AddressDumpRequest, decodeAddress, isInetAddress } from '../rtnl/address.js';
import { decodeLink } from '../rtnl/link-decode.js';
import { LinkDumpRequest } from '../rtnl/link.js';
import { decodeNeighbor, isNeighborMessage, NeighborDumpRequest } from '../rtnl/neigh.js';
import { decodeRoute, RouteDumpRequest } from '../rtnl/route.js';
import { setCacheKey, type SetCache } from './decode.js';
import type { NetEvent } from './types.js';

export interface DumpKinds {
  links: boolean;
  addresses: boolean;
  routes: boolean;
  neighbors: boolean;
  nft: boolean;
}

/** rtnetlink objects now, as 'new' events marked `existing`: links, addresses, routes, then neighbours and FDB entries. */
export async function dumpRtnl(s: Session, k: DumpKinds): Promise<NetEvent[]> {
  const out: NetEvent[] = [];
  const base = { action: 'new', port: 0, existing: true } as const;
  if (k.links) for (const m of await s.rtnl.dump(new LinkDumpRequest())) out.push({ type: 'link', ...base, link: decodeLink(m) });
  if (k.addresses) {
    for (const m of await s.rtnl.dump(new AddressDumpRequest(0, 0))) {
      if (isInetAddress(m)) out.push({ type: 'address', ...base, address: decodeAddress(m) });
    }
  }
  if (k.routes) {
    for (const family of [4, 6] as const) {
      for (const m of await s.rtnl.dump(new RouteDumpRequest(family))) out.push({ type: 'route', ...base, route: decodeRoute(m) });
    }
  }
  if (k.neighbors) {
    for (const family of [4, 6, 'bridge'] as const) {
      for (const m of await s.rtnl.dump(new NeighborDumpRequest(family))) {
        if (isNeighborMessage(m)) out.push({ type: 'neighbor', ...base, neighbor: decodeNeighbor(m) });
      }
    }
  }
  return out;
}

/** The nftables ruleset now, as events: tables, chains, sets (learnt into `sets`), elements, rules. */
export async function dumpNft(s: Session, sets: SetCache): Promise<NetEvent[]> {
  const nft = s.nft;
  const base = { action: 'new', port: 0, existing: true } as const;
  const out: NetEvent[] = [];
  for (const table of await nft.listTables()) out.push({ type: 'table', ...base, table });
  for (const chain of await nft.listChains()) out.push({ type: 'chain', ...base, chain });
  const all: NftSet[] = await nft.listSets();
  sets.clear();
  for (const set of all) {
    sets.set(setCacheKey(set.family, set.table, set.name), set);
    out.push({ type: 'set', ...base, set });
  }
  for (const set of all) {
    const elements = await nft.listElements(set);
    if (elements.length === 0) continue;
    const ref = { family: set.family, table: set.table, name: set.name };
    out.push({ type: 'element', ...base, set: ref, elements, count: elements.length });
  }
  for (const rule of await nft.listRules()) out.push({ type: 'rule', ...base, rule });
  return out;
}
