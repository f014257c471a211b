// openNft(): one NETLINK_NETFILTER socket in a namespace, with batches,
// listings and the generation id.
import { NETLINK_NETFILTER } from '../netlink/constants.js';
import { NetlinkConnection, type Netns } from '../netlink/socket.js';
import { Batch } from './batch.js';
import { getGeneration, listChains, listElements, listRules, listRuleset, listSets, listTables } from './list.js';
import type { Ruleset } from './render/ruleset.js';
import type { Chain, Family, NftSet, Rule, SetElement, Table } from './types.js';

export interface NftOptions {
  /** A name under /run/netns, a path (/proc/PID/ns/net) or an open fd; default: the caller's namespace. */
  netns?: Netns;
}

export class Nft {
  /** @internal The NETLINK_NETFILTER connection (not part of the API). */
  readonly conn: NetlinkConnection;

  constructor(o: NftOptions = {}) {
    this.conn = new NetlinkConnection(NETLINK_NETFILTER, o.netns);
  }

  /** A new empty batch bound to this connection. */
  batch(): Batch {
    return new Batch(this.conn);
  }

  listTables(family?: Family): Promise<Table[]> {
    return listTables(this.conn, family);
  }
  listChains(family?: Family, table?: string): Promise<Chain[]> {
    return listChains(this.conn, family, table);
  }
  listRules(family?: Family, table?: string, chain?: string): Promise<Rule[]> {
    return listRules(this.conn, family, table, chain);
  }
  listSets(family?: Family, table?: string): Promise<NftSet[]> {
    return listSets(this.conn, family, table);
  }
  listElements(set: NftSet): Promise<SetElement[]> {
    return listElements(this.conn, set);
  }
  listRuleset(family?: Family): Promise<Ruleset> {
    return listRuleset(this.conn, family);
  }
  generation(): Promise<number> {
    return getGeneration(this.conn);
  }

  close(): void {
    this.conn.close();
  }
}

export function openNft(o: NftOptions = {}): Nft {
  return new Nft(o);
}
