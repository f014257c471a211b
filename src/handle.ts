// The public entry point: open({ netns }) gives a Handle bound to one network
// namespace, with typed verbs for links, addresses, routes, taps and sysctl.
// A Handle is a Session (session.ts: the namespace and its connections) with
// verbs on top: every change goes through the one op executor (tx/execute.ts),
// the same that commits transactions; reads are tx/read.ts.
import { EventStream } from './events/stream.js';
import type { EventOptions } from './events/types.js';
import { deleteConntrack, flushConntrack, listConntrack, type CtEntry, type CtEntryRef, type CtFilter, type CtFlushResult } from './conntrack/index.js';
import { addon, nativeError, type TapOptions } from './native.js';
import type { Address, AddressSpec } from './rtnl/address.js';
import { validateLinkName, type LinkRef } from './rtnl/kinds/index.js';
import type { Link, LinkChanges, LinkFilter, LinkSpec } from './rtnl/link.js';
import type { FdbSpec } from './rtnl/fdb.js';
import type { Neighbor, NeighborSpec } from './rtnl/neigh.js';
import type { Route, RouteSpec } from './rtnl/route.js';
import { Session } from './session.js';
import { netnsTarget, type Netns } from './sys/netns-path.js';
import { readSysctl } from './sys/sysctl.js';
import { executeOne } from './tx/execute.js';
import { checked, type Op, type TapSpec } from './tx/ops.js';
import {
  getLink,
  listAddresses,
  listFdb,
  listLinks,
  listNeighbors,
  listRoutes,
  type AddressFilter,
  type FdbFilter,
  type NeighborFilter,
  type RouteFilter,
} from './tx/read.js';
import { Transaction } from './tx/transaction.js';

export interface OpenOptions {
  /** A namespace name (/run/netns/NAME), a path to a namespace file, or an open fd. Default: the caller's. */
  netns?: Netns;
}

export type { AddressFilter, FdbFilter, NeighborFilter, RouteFilter, TapSpec };

export class Handle extends Session {
  /**
   * A transaction of typed ops, committed together: pipelined rtnetlink
   * requests with an undo journal, and one atomic nftables batch.
   */
  transaction(): Transaction {
    return new Transaction(this);
  }

  /**
   * Kernel notifications of this namespace as an async iterator of typed
   * events (links, addresses, routes, nftables; all unless some are chosen):
   * `for await (const ev of h.events({ dump: true }))`. Close it with
   * close() (or break out of the loop); unref() lets the process exit while
   * it is open. See src/events/stream.ts for order, dumps, 'resync' and bounds.
   */
  events(opts: EventOptions = {}): EventStream {
    return new EventStream(this, opts);
  }

  private run(op: Op): Promise<void> {
    return executeOne(this, [op]);
  }

  readonly links = {
    /** Creates a link (and then sets its alias, which the kernel ignores at creation). Names it refers to are looked up first. */
    add: (spec: LinkSpec): Promise<void> => this.run({ op: 'link.add', spec }),
    /** Changes a link: up/down, master/nomaster, mtu, name, MAC, group, alias, namespace. */
    set: (ref: LinkRef, changes: LinkChanges): Promise<void> => this.run({ op: 'link.set', ref, changes }),
    delete: (ref: LinkRef): Promise<void> => this.run({ op: 'link.delete', ref }),
    /** Deletes every link in a device group with one request. */
    deleteGroup: (group: number): Promise<void> => this.run({ op: 'link.deleteGroup', group }),
    /** One link by name or ifindex, asked of the kernel directly; undefined if there is none. */
    get: (ref: LinkRef): Promise<Link | undefined> => getLink(this, ref),
    /** All links, sorted by ifindex; the filter is applied by the kernel. */
    list: (filter: LinkFilter = {}): Promise<Link[]> => listLinks(this, filter),
  };

  readonly addresses = {
    add: (spec: AddressSpec): Promise<void> => this.run({ op: 'address.add', spec }),
    delete: (spec: AddressSpec): Promise<void> => this.run({ op: 'address.delete', spec }),
    /** Addresses, optionally of one link and one family, sorted by link then address. */
    list: (filter: AddressFilter = {}): Promise<Address[]> => listAddresses(this, filter),
  };

  readonly routes = {
    add: (spec: RouteSpec): Promise<void> => this.run({ op: 'route.add', spec }),
    delete: (spec: RouteSpec): Promise<void> => this.run({ op: 'route.delete', spec }),
    /** Routes of one family, optionally of one table (default: main) and of one protocol (filtered by the kernel), sorted by destination. */
    list: (filter: RouteFilter = {}): Promise<Route[]> => listRoutes(this, filter),
  };

  readonly neighbors = {
    /** `ip neigh add`: refused (EEXIST) if the address has an entry on that link. State default: permanent. */
    add: (spec: NeighborSpec): Promise<void> => this.run({ op: 'neigh.add', spec }),
    /** `ip neigh replace`: creates or overwrites the entry. */
    replace: (spec: NeighborSpec): Promise<void> => this.run({ op: 'neigh.replace', spec }),
    delete: (spec: NeighborSpec): Promise<void> => this.run({ op: 'neigh.delete', spec }),
    /** ARP/NDP entries, optionally of one link and one family, sorted by link then address. */
    list: (filter: NeighborFilter = {}): Promise<Neighbor[]> => listNeighbors(this, filter),
  };

  readonly fdb = {
    /** `bridge fdb add`: refused (EEXIST) if the MAC has an entry there. */
    add: (spec: FdbSpec): Promise<void> => this.run({ op: 'fdb.add', spec }),
    /** `bridge fdb append`: one more destination for the MAC (a vxlan flood list entry on 00:00:00:00:00:00). */
    append: (spec: FdbSpec): Promise<void> => this.run({ op: 'fdb.append', spec }),
    /** `bridge fdb replace`: creates the entry or changes its destination. */
    replace: (spec: FdbSpec): Promise<void> => this.run({ op: 'fdb.replace', spec }),
    /** `bridge fdb del`: with a dst on a vxlan device, that destination only. */
    delete: (spec: FdbSpec): Promise<void> => this.run({ op: 'fdb.delete', spec }),
    /** Bridge and vxlan FDB entries (family 'bridge'), optionally of one device, sorted by device, MAC, destination. */
    list: (filter: FdbFilter = {}): Promise<Neighbor[]> => listFdb(this, filter),
  };

  readonly taps = {
    /**
     * Creates persistent tap (or tun) devices through /dev/net/tun, all or none,
     * then applies any link attributes (master, up, mtu, group...) in one pipelined send.
     */
    create: async (names: string | string[], spec: TapSpec = {}): Promise<void> => {
      const list = typeof names === 'string' ? [names] : names;
      const what = `tap create ${list.join(' ')}`;
      checked(what, () => list.forEach((n, i) => validateLinkName(`taps[${i}]`, n)));
      await executeOne(
        this,
        list.map((name) => ({ op: 'tap.add', name, spec })),
        what,
      );
    },
    delete: async (names: string | string[], opts: TapOptions = {}): Promise<void> => {
      const list = typeof names === 'string' ? [names] : names;
      checked(`tap delete ${list.join(' ')}`, () => list.forEach((n, i) => validateLinkName(`taps[${i}]`, n)));
      const site = new Error();
      try {
        await addon.tapDelete(netnsTarget(this.netns), list, opts, false);
      } catch (err) {
        throw nativeError(err, 'tap delete', site);
      }
    },
  };

  /** Connection tracking (ctnetlink): the namespace's table of tracked connections. */
  readonly conntrack = {
    /** Entries matching the filter: family, mark, zone and status filtered by the kernel, the rest here. */
    list: (filter: CtFilter = {}): Promise<CtEntry[]> => listConntrack(this.ct, filter),
    /** Deletes one entry by its original tuple (and id and zone when given, as list() returns them). */
    delete: (entry: CtEntryRef): Promise<void> => deleteConntrack(this.ct, entry),
    /** Deletes every entry the filter selects (all of them without one); returns the counts. */
    flush: (filter: CtFilter = {}): Promise<CtFlushResult> => flushConntrack(this.ct, filter),
  };

  readonly sysctl = {
    get: async (key: string): Promise<string> => readSysctl(this.netns, key),
    set: (key: string, value: string | number): Promise<void> => this.run({ op: 'sysctl', key, value: String(value) }),
  };
}

/** Opens a handle bound to one network namespace (default: the caller's). */
export function open(opts: OpenOptions = {}): Handle {
  return new Handle(opts.netns);
}
