// Notifications -> typed events. Every decoder is the one the list verbs use
// (src/rtnl/, src/nft/wire/): an event's object is what a dump would say.
//
//   rtnetlink (NETLINK_ROUTE)  RTM_NEWLINK/DELLINK, RTM_NEWADDR/DELADDR, RTM_NEWROUTE/DELROUTE,
//                              RTM_NEWNEIGH/DELNEIGH (neighbours and the bridge FDB)
//   nftables (NETLINK_NETFILTER, type = NFNL_SUBSYS_NFTABLES << 8 | msg)
//     NFT_MSG_NEW/DEL TABLE, CHAIN, RULE, SET, SETELEM; NFT_MSG_NEWGEN
import { DecodeError } from '../errors.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
import { NLMSG_HDRLEN } from '../netlink/constants.js';
import { familyName } from '../nft/names.js';
import { decodeChain } from '../nft/wire/chain.js';
import * as C from '../nft/wire/constants.js';
import { decodeRule } from '../nft/wire/rule.js';
import { decodeSet } from '../nft/wire/set.js';
import { decodeElements } from '../nft/wire/setelem.js';
import { decodeTable } from '../nft/wire/table.js';
import type { NftSet } from '../nft/types.js';
import { decodeAddress, isInetAddress } from '../rtnl/address.js';
import { AF_BRIDGE, RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE } from '../rtnl/constants.js';
import { decodeNeighbor, isNeighborMessage } from '../rtnl/neigh.js';
import { decodeLink } from '../rtnl/link-decode.js';
import { decodeRoute } from '../rtnl/route.js';
import type { ElementEvent, GenerationEvent, NetEvent } from './types.js';

/** Sets by "family/table/name", learnt from set events and dumps: element events are decoded with them. */
export type SetCache = Map<string, NftSet>;

export const setCacheKey = (family: string, table: string, name: string): string => `${family}/${table}/${name}`;

/** The event of one rtnetlink notification; undefined for messages not subscribed to (non-inet addresses or neighbours). */
export function decodeRtnlEvent(m: NlMessage): NetEvent | undefined {
  const port = m.port;
  switch (m.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return {
        type: 'link',
        action: m.type === RTM_NEWLINK ? 'new' : 'del',
        link: decodeLink(m),
        port,
        // ifi_family AF_BRIDGE: the bridge's notification about one of its ports.
        ...(m.buf[m.offset + NLMSG_HDRLEN] === AF_BRIDGE ? { bridge: true as const } : {}),
      };
    case RTM_NEWADDR:
    case RTM_DELADDR:
      if (!isInetAddress(m)) return undefined;
      return { type: 'address', action: m.type === RTM_NEWADDR ? 'new' : 'del', address: decodeAddress(m), port };
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      return { type: 'route', action: m.type === RTM_NEWROUTE ? 'new' : 'del', route: decodeRoute(m), port };
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH:
      if (!isNeighborMessage(m)) return undefined;
      return { type: 'neighbor', action: m.type === RTM_NEWNEIGH ? 'new' : 'del', neighbor: decodeNeighbor(m), port };
    default:
      return undefined;
  }
}

/** NFT_MSG_NEWGEN: { NFTA_GEN_ID be32, NFTA_GEN_PROC_PID be32, NFTA_GEN_PROC_NAME string }. */
export function decodeGenerationEvent(m: NlMessage): GenerationEvent {
  const a = Attrs.ofMessage(m, C.NFGENMSG_LEN, 'NFT_MSG_NEWGEN');
  const id = a.u32be(C.NFTA_GEN_ID);
  if (id === undefined) throw new DecodeError('NFT_MSG_NEWGEN', m.offset, 'no NFTA_GEN_ID');
  const ev: GenerationEvent = { type: 'generation', action: 'new', id, port: m.port };
  const pid = a.u32be(C.NFTA_GEN_PROC_PID);
  if (pid !== undefined) ev.pid = pid;
  const name = a.str(C.NFTA_GEN_PROC_NAME);
  if (name !== undefined) ev.process = name;
  return ev;
}

/** NFT_MSG_NEWSETELEM / DELSETELEM: the set named, its elements decoded if the set is known. */
function decodeElementEvent(m: NlMessage, sets: SetCache): ElementEvent {
  const a = Attrs.ofMessage(m, C.NFGENMSG_LEN, 'NFT_MSG_NEWSETELEM');
  const family = familyName(m.buf[m.offset + NLMSG_HDRLEN], m.offset + NLMSG_HDRLEN);
  const table = a.str(C.NFTA_SET_ELEM_LIST_TABLE) ?? '';
  const name = a.str(C.NFTA_SET_ELEM_LIST_SET) ?? '';
  const count = a.nested(C.NFTA_SET_ELEM_LIST_ELEMENTS)?.list().length ?? 0;
  const msg = m.type & 0xff;
  const ev: ElementEvent = { type: 'element', action: msg === C.NFT_MSG_NEWSETELEM ? 'new' : 'del', set: { family, table, name }, count, port: m.port };
  const set = sets.get(setCacheKey(family, table, name));
  if (set) ev.elements = decodeElements([m], set);
  return ev;
}

/** The event of one nftables notification; `sets` is kept up to date with set events. */
export function decodeNftEvent(m: NlMessage, sets: SetCache): NetEvent | undefined {
  if (m.type >> 8 !== C.NFNL_SUBSYS_NFTABLES) return undefined;
  const msg = m.type & 0xff;
  const port = m.port;
  switch (msg) {
    case C.NFT_MSG_NEWTABLE:
    case C.NFT_MSG_DELTABLE:
      return { type: 'table', action: msg === C.NFT_MSG_NEWTABLE ? 'new' : 'del', table: decodeTable(m), port };
    case C.NFT_MSG_NEWCHAIN:
    case C.NFT_MSG_DELCHAIN:
      return { type: 'chain', action: msg === C.NFT_MSG_NEWCHAIN ? 'new' : 'del', chain: decodeChain(m), port };
    case C.NFT_MSG_NEWRULE:
    case C.NFT_MSG_DELRULE:
      return { type: 'rule', action: msg === C.NFT_MSG_NEWRULE ? 'new' : 'del', rule: decodeRule(m), port };
    case C.NFT_MSG_NEWSET:
    case C.NFT_MSG_DELSET: {
      const set = decodeSet(m);
      const key = setCacheKey(set.family, set.table, set.name);
      if (msg === C.NFT_MSG_NEWSET) sets.set(key, set);
      else sets.delete(key);
      return { type: 'set', action: msg === C.NFT_MSG_NEWSET ? 'new' : 'del', set, port };
    }
    case C.NFT_MSG_NEWSETELEM:
    case C.NFT_MSG_DELSETELEM:
      return decodeElementEvent(m, sets);
    case C.NFT_MSG_NEWGEN:
      return decodeGenerationEvent(m);
    default:
      return undefined;
  }
}
