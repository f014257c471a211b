// The events a subscription yields (h.events()): kernel notifications decoded
// into the same typed objects the list verbs return, plus the stream's own
// markers. Every object event says new or del, carries the object, and the
// netlink port id of the socket whose request caused it (`port`), so that a
// program can tell its own changes (its Handle's `ports`) from anyone else's.
import type { DecodeError } from '../errors.js';
import type { Chain, NftSet, Rule, SetElement, Table, Family as NftFamily } from '../nft/types.js';
import type { Address } from '../rtnl/address.js';
import type { Link } from '../rtnl/link.js';
import type { Neighbor } from '../rtnl/neigh.js';
import type { Route } from '../rtnl/route.js';

/** RTM_NEW* / NFT_MSG_NEW* (a change also comes as 'new'), or RTM_DEL* / NFT_MSG_DEL*. */
export type EventAction = 'new' | 'del';

interface ObjectEventBase {
  action: EventAction;
  /**
   * The nlmsg_pid of the notification: the netlink port id of the socket
   * whose request made the change, or 0 when the kernel gives none. Kernel
   * 6.18 gives it for addresses, routes, neighbours and every nftables
   * change; link notifications (and routes or addresses the kernel derives on its own)
   * carry 0. Always 0 on dumped objects.
   */
  port: number;
  /** Set on objects that a dump reported (with `dump: true`), before 'synced'. */
  existing?: true;
}

export interface LinkEvent extends ObjectEventBase {
  type: 'link';
  link: Link;
  /**
   * An AF_BRIDGE notification: a bridge about one of its ports. Its 'del'
   * says the port left the bridge (it was detached, or is being deleted),
   * not that the link is gone.
   */
  bridge?: true;
}
export interface AddressEvent extends ObjectEventBase {
  type: 'address';
  address: Address;
}
export interface RouteEvent extends ObjectEventBase {
  type: 'route';
  route: Route;
}
/** A neighbour (ARP/ND, family 4 or 6) or a bridge/vxlan FDB entry (family 'bridge'). */
export interface NeighborEvent extends ObjectEventBase {
  type: 'neighbor';
  neighbor: Neighbor;
}
export interface TableEvent extends ObjectEventBase {
  type: 'table';
  table: Table;
}
export interface ChainEvent extends ObjectEventBase {
  type: 'chain';
  chain: Chain;
}
export interface RuleEvent extends ObjectEventBase {
  type: 'rule';
  rule: Rule;
}
export interface SetEvent extends ObjectEventBase {
  type: 'set';
  set: NftSet;
}
export interface ElementEvent extends ObjectEventBase {
  type: 'element';
  /** The set the elements belong to. */
  set: { family: NftFamily; table: string; name: string };
  /**
   * The elements, decoded with the set's definition when this stream has seen
   * it (a set event, or the dump); undefined otherwise. The kernel notifies
   * interval sets' elements one boundary at a time, as they are stored.
   */
  elements?: SetElement[];
  /** How many elements the notification carried. */
  count: number;
}
/** NFT_MSG_NEWGEN: a batch was committed; it ends the batch's notifications. */
export interface GenerationEvent {
  type: 'generation';
  action: 'new';
  /** The new ruleset generation id. */
  id: number;
  /**
   * Who committed (NFTA_GEN_PROC_PID, NFTA_GEN_PROC_NAME), when the kernel
   * says: the id and name of the committing thread (task_pid_nr(current)),
   * which for eucanet is a libuv worker thread, not the process id.
   */
  pid?: number;
  process?: string;
  port: number;
}

/** A dump (dump: true) is complete: the objects before this were the state; live events follow. */
export interface SyncedEvent {
  type: 'synced';
}
/**
 * The kernel dropped notifications (ENOBUFS: the receive buffer overflowed):
 * what is known may be stale. With dump: true a fresh dump and 'synced' follow.
 */
export interface ResyncEvent {
  type: 'resync';
  /** Which subscription lost notifications. */
  source: 'rtnetlink' | 'nftables';
}
/** A notification that did not decode; the stream goes on. */
export interface UndecodedEvent {
  type: 'undecoded';
  /** nlmsg_type of the message. */
  messageType: number;
  port: number;
  error: DecodeError | Error;
}

export type ObjectEvent = LinkEvent | AddressEvent | RouteEvent | NeighborEvent | TableEvent | ChainEvent | RuleEvent | SetEvent | ElementEvent;
export type NetEvent = ObjectEvent | GenerationEvent | SyncedEvent | ResyncEvent | UndecodedEvent;

/** What h.events() subscribes to: each kind named, or (none named) all of them. */
export interface EventOptions {
  links?: boolean;
  /** IPv4 and IPv6 addresses. */
  addresses?: boolean;
  /** IPv4 and IPv6 routes, of every table. */
  routes?: boolean;
  /** Neighbours (ARP/ND) and the bridge FDB (RTNLGRP_NEIGH). */
  neighbors?: boolean;
  /** nftables: tables, chains, rules, sets, elements, generations. */
  nft?: boolean;
  /** Subscribe, then dump the chosen kinds as `existing` events, then 'synced', then live events; again after a 'resync'. */
  dump?: boolean;
  /** SO_RCVBUF of each subscription socket in bytes (default 32 MiB). */
  rcvbuf?: number;
  /**
   * Live events queued before the subscription stops reading (default 10,000):
   * past it the kernel's receive buffer holds the rest, and its overflow is a 'resync'.
   */
  highWater?: number;
}
