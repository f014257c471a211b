// Reading the kernel's links, addresses and routes, sorted so that output is
// deterministic: what the handle's list/get verbs return, and what reconcile
// and the settling of lost answers read.
import type { NlMessage } from '../netlink/reader.js';
import type { Session } from '../session.js';
import { AddressDumpRequest, decodeAddress, isInetAddress, type Address } from '../rtnl/address.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import { checkRef, decodeLink, LinkDumpRequest, LinkGetRequest, type Link, type LinkFilter } from '../rtnl/link.js';
import { decodeNeighbor, isNeighborMessage, NeighborDumpRequest, type Neighbor } from '../rtnl/neigh.js';
import { decodeRoute, RouteDumpRequest, type Route } from '../rtnl/route.js';
import { byteString } from '../util/bytes.js';
import { ipv4Number, ipv4ToBytes, ipv6ToBytes } from '../util/ip.js';
import { CommitContext } from './context.js';
import { checked } from './ops.js';

/** Code-point order: stable across locales, and far cheaper than localeCompare on big dumps. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface AddressFilter {
  dev?: LinkRef;
  family?: 4 | 6;
}

export interface RouteFilter {
  family?: 4 | 6;
  /** A routing table (default: main, 254), or every table. */
  table?: number | 'all';
  /** rtm_protocol, filtered by the kernel. */
  protocol?: number;
}

export interface NeighborFilter {
  dev?: LinkRef;
  /** Default: both. */
  family?: 4 | 6;
}

export interface FdbFilter {
  dev?: LinkRef;
}

async function devIndex(s: Session, dev: LinkRef | undefined, what: string): Promise<number> {
  if (dev === undefined) return 0;
  // An ifindex is taken as it is (a dump of a device that is gone is empty): no lookup.
  if (typeof dev === 'number') {
    checked(what, () => checkRef('dev', dev));
    return dev;
  }
  const ctx = new CommitContext(s.rtnl);
  await ctx.learn([dev], what);
  return ctx.indexOf(dev, 'dev');
}

/** An address as bytes in a string, for numeric order. */
const ipKey = (ip: string | undefined): string =>
  ip === undefined ? '' : ip.includes(':') ? `6${byteString(ipv6ToBytes(ip))}` : `4${byteString(ipv4ToBytes(ip))}`;

/** Neighbours (ARP/NDP entries), optionally of one link and one family, sorted by link, family and address. */
export async function listNeighbors(s: Session, filter: NeighborFilter = {}): Promise<Neighbor[]> {
  const index = await devIndex(s, filter.dev, 'neigh list');
  const out: Neighbor[] = [];
  for (const f of filter.family ? [filter.family] : ([4, 6] as const)) {
    const msgs = await s.rtnl.dump(new NeighborDumpRequest(f, index));
    out.push(...msgs.filter(isNeighborMessage).map(decodeNeighbor));
  }
  return out
    .filter((n) => index === 0 || n.index === index)
    .map((n) => ({ n, k: ipKey(n.dst) }))
    .sort((x, y) => x.n.index - y.n.index || byText(x.k, y.k))
    .map((x) => x.n);
}

/** Bridge and vxlan FDB entries, optionally of one device, sorted by device, MAC and destination. */
export async function listFdb(s: Session, filter: FdbFilter = {}): Promise<Neighbor[]> {
  const index = await devIndex(s, filter.dev, 'fdb list');
  const msgs = await s.rtnl.dump(new NeighborDumpRequest('bridge', index));
  return msgs
    .filter(isNeighborMessage)
    .map(decodeNeighbor)
    .filter((n) => index === 0 || n.index === index)
    .map((n) => ({ n, k: `${n.lladdr ?? ''} ${ipKey(n.dst)}` }))
    .sort((x, y) => x.n.index - y.n.index || byText(x.k, y.k))
    .map((x) => x.n);
}

/** One link by name or ifindex, asked of the kernel directly; undefined if there is none. */
export async function getLink(s: Session, ref: LinkRef): Promise<Link | undefined> {
  checked(`link get ${ref}`, () => checkRef('link', ref));
  const [rep] = await s.rtnl.run([new LinkGetRequest(ref)]);
  if (rep.error) {
    if (rep.error.code === 'ENODEV') return undefined;
    throw rep.error;
  }
  return decodeLink(rep.messages[0]);
}

/** All links, sorted by ifindex; the filter is applied by the kernel. */
export async function listLinks(s: Session, filter: LinkFilter = {}): Promise<Link[]> {
  return linksOf(await s.rtnl.dump(new LinkDumpRequest(filter)));
}

/** A link dump's messages, decoded and sorted by ifindex. */
export function linksOf(msgs: NlMessage[]): Link[] {
  const links = new Array<Link>(msgs.length);
  let sorted = true;
  for (let i = 0; i < msgs.length; i++) {
    links[i] = decodeLink(msgs[i]);
    if (i > 0 && links[i].index < links[i - 1].index) sorted = false;
  }
  // The kernel dumps links in ifindex order: sorted only if it did not.
  return sorted ? links : links.sort((a, b) => a.index - b.index);
}

/** Addresses, optionally of one link and one family, sorted by link then address. */
export async function listAddresses(s: Session, filter: AddressFilter = {}): Promise<Address[]> {
  let index = 0;
  if (filter.dev !== undefined) {
    const ctx = new CommitContext(s.rtnl);
    await ctx.learn([filter.dev], 'address list');
    index = ctx.indexOf(filter.dev, 'dev');
  }
  return addressesOf(await s.rtnl.dump(new AddressDumpRequest(filter.family ?? 0, index)), index);
}

/** An address dump's messages, decoded (of link `index` only, unless 0) and sorted by link, family and then numerically. */
export function addressesOf(msgs: NlMessage[], index = 0): Address[] {
  // Each sort key computed once: IPv4 as its number, IPv6 as its bytes in a string.
  const keyed: { a: Address; v4: number; v6: string }[] = [];
  for (const m of msgs) {
    if (!isInetAddress(m)) continue;
    const a = decodeAddress(m);
    if (index !== 0 && a.index !== index) continue;
    keyed.push(a.family === 4 ? { a, v4: ipv4Number(a.address), v6: '' } : { a, v4: -1, v6: byteString(ipv6ToBytes(a.address)) });
  }
  // IPv4 (v6 = '') before IPv6 within a link.
  return keyed.sort((x, y) => x.a.index - y.a.index || x.a.family - y.a.family || x.v4 - y.v4 || byText(x.v6, y.v6)).map((x) => x.a);
}

/** Routes of one family, optionally of one table (default: main) and of one protocol, sorted by destination. */
export async function listRoutes(s: Session, filter: RouteFilter = {}): Promise<Route[]> {
  return routesOf(await s.rtnl.dump(routeDump(filter)), filter);
}

/** The dump request listRoutes() sends for `filter`. */
export const routeDump = (filter: RouteFilter = {}) => new RouteDumpRequest(filter.family ?? 4, filter.protocol ?? 0);

/** A route dump's messages, decoded, kept if in the filter's table, and sorted by destination. */
export function routesOf(msgs: NlMessage[], filter: RouteFilter = {}): Route[] {
  const table = filter.table ?? 254;
  return msgs
    .map(decodeRoute)
    .filter((r) => table === 'all' || r.table === table)
    .sort((a, b) => byText(a.dst, b.dst) || (a.metric ?? 0) - (b.metric ?? 0));
}
