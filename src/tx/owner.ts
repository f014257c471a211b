// What eucanet owns, and who (which role) made it: the one place for the
// ownership rules. Objects without a mark are never touched.
//
//   links      IFLA_IFALIAS "eucanet" or "eucanet:<detail>" (no owner), or
//              "eucanet/<owner>" / "eucanet/<owner>:<detail>" (a role's)
//   taps       the same alias, plus device group PORT_GROUP for bulk teardown
//   addresses  IFA_PROTO = EUCANET_PROTO (no owner), or the owner's number
//              (EUCANET_PROTO + 1 .. EUCANET_PROTO_LAST: cc 241, nc 242)
//   routes     rtm_protocol, the same numbers
//   nftables   whole tables named "eucanet" or "eucanet-*"; a role owns the
//              tables it names (cc: eucanet, nc: eucanet-nc)
//   FDB        entries on a vxlan link the scope owns that eucanet's shape has:
//              NTF_SELF, permanent, with a remote (NDA_DST); the link's mark is
//              theirs (FDB entries carry none). The kernel's own entries (a
//              device's MAC, multicast addresses, the all-zeros entry of the
//              device's own group or remote) and learned ones never are.
//
// Marks without an owner are an older eucanet's, or a caller's that
// reconciles without a scope. A scoped reconcile adopts such an object when it
// wants it (a link gets the owner's alias), and otherwise leaves it and
// reports it; `force` makes it act on every eucanet object, whoever made it
// (the behaviour of a reconcile without a scope).
import type { Address } from '../rtnl/address.js';
import type { Link } from '../rtnl/link.js';
import type { Neighbor } from '../rtnl/neigh.js';
import type { Route } from '../rtnl/route.js';
import { must } from '../util/must.js';

export const OWNER_ALIAS = 'eucanet';

/** Device group of the instance ports (taps) eucanet creates: `ip link delete group 4200` removes them all. */
export const PORT_GROUP = 4200;

/** IFA_PROTO / rtm_protocol value marking eucanet's addresses and routes (no owner). */
export const EUCANET_PROTO = 240;

/** An alias without an owner: "eucanet" or "eucanet:<detail>". */
export function isUnscopedAlias(alias: string | undefined): boolean {
  return alias === OWNER_ALIAS || (alias !== undefined && alias.startsWith(`${OWNER_ALIAS}:`));
}

/** Any eucanet mark: "eucanet", "eucanet:<detail>", "eucanet/<owner>", "eucanet/<owner>:<detail>". */
export function isOwnedAlias(alias: string | undefined): boolean {
  return aliasOwner(alias) !== undefined;
}

/** An alias carrying the ownership mark: "eucanet" or "eucanet:<detail>". */
export function ownedAlias(detail?: string): string {
  if (detail === undefined || detail === '') return OWNER_ALIAS;
  return isOwnedAlias(detail) ? detail : `${OWNER_ALIAS}:${detail}`;
}

/** Every eucanet table's name is this, or starts with it and a dash. */
export const OWNED_TABLE_PREFIX = 'eucanet';

/** A table eucanet owns whole: "eucanet" or "eucanet-*". */
export const isOwnedTable = (t: { name: string }): boolean => t.name === OWNED_TABLE_PREFIX || t.name.startsWith(`${OWNED_TABLE_PREFIX}-`);

/** The roles' tables. */
export const CC_TABLE = 'eucanet';
export const NC_TABLE = 'eucanet-nc';

/** Each role's protocol number for its addresses and routes, and its tables. */
export const ROLE_PROTO = { cc: 241, nc: 242 } as const;
export const ROLE_TABLES = { cc: [CC_TABLE], nc: [NC_TABLE] } as const;

/** Protocol numbers eucanet uses for addresses and routes: EUCANET_PROTO (no owner) and one per owner. */
export const EUCANET_PROTO_LAST = EUCANET_PROTO + 7;
export const isEucanetProto = (p: number | undefined): boolean => p !== undefined && p >= EUCANET_PROTO && p <= EUCANET_PROTO_LAST;

export interface OwnerScope {
  /** The owner's tag in link aliases ("cc"): letters and digits. */
  tag: string;
  /** Its addresses' and routes' protocol number, in EUCANET_PROTO + 1 .. EUCANET_PROTO_LAST. */
  proto: number;
  /** The nftables tables it owns, by name. */
  tables: readonly string[];
  /** Act on every eucanet object, of any owner or none, as an unscoped reconcile does. */
  force?: boolean;
}

/** Whose a marked object is, relative to a scope. */
export type Whose = 'mine' | 'unscoped' | 'other' | 'none';

/** The owner tag in an alias: "cc" for "eucanet/cc:x", '' for an unscoped mark, undefined when not eucanet's. */
export function aliasOwner(alias: string | undefined): string | undefined {
  if (alias === undefined) return undefined;
  if (isUnscopedAlias(alias)) return '';
  const m = /^eucanet\/([A-Za-z0-9]+)(?::|$)/.exec(alias);
  return m ? m[1] : undefined;
}

/** The detail of a mark: "port i-1" for "eucanet/nc:port i-1". */
export function aliasDetail(alias: string | undefined): string | undefined {
  if (alias === undefined || aliasOwner(alias) === undefined) return undefined;
  const i = alias.indexOf(':');
  return i < 0 ? undefined : alias.slice(i + 1);
}

/** An alias carrying an owner's mark. A detail that is already a mark keeps only its detail. */
export function scopedAlias(tag: string, detail?: string): string {
  const d = aliasOwner(detail) !== undefined ? aliasDetail(detail) : detail;
  return d === undefined || d === '' ? `${OWNER_ALIAS}/${tag}` : `${OWNER_ALIAS}/${tag}:${d}`;
}

export function whoseLink(l: Pick<Link, 'alias'>, scope?: OwnerScope): Whose {
  const owner = aliasOwner(l.alias);
  if (owner === undefined) return 'none';
  if (!scope) return 'mine';
  if (owner === scope.tag) return 'mine';
  return owner === '' ? 'unscoped' : 'other';
}

export function whoseProto(p: number | undefined, scope?: OwnerScope): Whose {
  if (!isEucanetProto(p)) return 'none';
  if (!scope) return p === EUCANET_PROTO ? 'mine' : 'other';
  if (p === scope.proto) return 'mine';
  return p === EUCANET_PROTO ? 'unscoped' : 'other';
}

/** The links whose FDB a reconcile in `scope` reads and manages: the vxlan links it may touch. */
export function fdbLinks(links: readonly Link[], scope?: OwnerScope): Link[] {
  return links.filter((l) => l.kind === 'vxlan' && mayTouch(whoseLink(l, scope), scope));
}

/**
 * An FDB entry eucanet manages, on `link` (one of fdbLinks): self, permanent,
 * with a remote, and not the device's own default remote (the all-zeros entry
 * the kernel keeps for a vxlan device's multicast group or remote).
 */
export function isOwnedFdbEntry(e: Neighbor, link: Pick<Link, 'vxlan'>): boolean {
  if (e.family !== 'bridge' || !e.flags.includes('self') || !e.state.includes('permanent') || e.dst === undefined) return false;
  const dflt = link.vxlan?.multicastGroup ?? link.vxlan?.remote;
  return !(dflt !== undefined && e.dst === dflt && e.lladdr === '00:00:00:00:00:00');
}

/** True when a reconcile in `scope` may remove or change an object that is `w`. */
export function mayTouch(w: Whose, scope?: OwnerScope): boolean {
  return w === 'mine' || (w !== 'none' && (!scope || !!scope.force));
}

/** An object the scope left alone, for reports: "link eucabr10", "address 10.1.2.1/27 on eucabr10". */
export interface Foreign {
  what: string;
  /** The owner's tag, or '' for an unscoped (older eucanet) mark. */
  owner: string;
}

export interface OwnedKernel {
  links: Link[];
  addresses: Address[];
  routes: Route[];
}

const ownerOfProto = (p: number, tagOf: (p: number) => string | undefined) => (p === EUCANET_PROTO ? '' : (tagOf(p) ?? `proto ${p}`));

/** Desired objects by name: an unscoped one among them is adopted, not foreign. */
export interface Wanted {
  links: Set<string>;
  /** "10.1.2.1/27 on eucabr10" */
  addresses: Set<string>;
}

/**
 * eucanet's objects in the kernel that the scope does not own: those the
 * reconcile leaves (or, with force, takes over). `tagOf` names an owner by its
 * protocol number.
 */
export function foreignObjects(k: OwnedKernel, scope: OwnerScope, tagOf: (p: number) => string | undefined, wanted: Wanted): Foreign[] {
  const out: Foreign[] = [];
  const names = new Map(k.links.map((l) => [l.index, l.name]));
  for (const l of k.links) {
    const w = whoseLink(l, scope);
    if (w === 'other' || (w === 'unscoped' && !wanted.links.has(l.name)))
      out.push({ what: `link ${l.name}`, owner: must(aliasOwner(l.alias), `the owner in the alias of ${l.name}`) });
  }
  for (const a of k.addresses) {
    const w = whoseProto(a.proto, scope);
    const adopted = w === 'unscoped' && wanted.addresses.has(`${a.address}/${a.prefix} on ${names.get(a.index)}`);
    if (w === 'other' || (w === 'unscoped' && !adopted))
      out.push({
        what: `address ${a.address}/${a.prefix} on ${names.get(a.index) ?? a.index}`,
        owner: ownerOfProto(must(a.proto, `the protocol of ${a.address}`), tagOf),
      });
  }
  for (const r of k.routes) {
    const w = whoseProto(r.protocol, scope);
    if (w === 'other' || w === 'unscoped') out.push({ what: `route ${r.dst} table ${r.table}`, owner: ownerOfProto(r.protocol, tagOf) });
  }
  return out;
}

/** A role's scope: its alias tag, protocol number and tables. */
export function roleScope(role: 'cc' | 'nc', force = false): OwnerScope {
  return { tag: role, proto: ROLE_PROTO[role], tables: ROLE_TABLES[role], ...(force ? { force } : {}) };
}

/** The role whose protocol number `p` is, if any. */
export function roleOfProto(p: number): 'cc' | 'nc' | undefined {
  return p === ROLE_PROTO.cc ? 'cc' : p === ROLE_PROTO.nc ? 'nc' : undefined;
}

/** The role whose table `name` is, if any (the names predate the role marks, so an older eucanet's tables are known too). */
export function roleOfTable(name: string): 'cc' | 'nc' | undefined {
  return name === CC_TABLE ? 'cc' : name === NC_TABLE ? 'nc' : undefined;
}
