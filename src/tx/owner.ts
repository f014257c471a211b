// Who made an object: ownership marks that name an owner (a role), so that one
// owner's reconcile never plans to remove another's objects.
//
//   links      alias "eucanet/<owner>" or "eucanet/<owner>:<detail>"
//   addresses  IFA_PROTO = the owner's protocol number (EUCANET_PROTO + 1 ..)
//   routes     rtm_protocol, the same number
//   nftables   the tables the owner names (owned whole)
//
// Marks without an owner ("eucanet", "eucanet:<detail>", protocol
// EUCANET_PROTO) are an older eucanet's, or a caller's that reconciles without
// a scope. A scoped reconcile adopts such an object when it wants it (a link
// gets the owner's alias), and otherwise leaves it and reports it; `force`
// makes it act on every eucanet object, whoever made it (the behaviour of a
// reconcile without a scope).
import type { Address } from '../rtnl/address.js';
import type { Link } from '../rtnl/link.js';
import type { Route } from '../rtnl/route.js';
import { EUCANET_PROTO, OWNER_ALIAS, isUnscopedAlias } from './desired.js';

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
  if (aliasOwner(alias) === undefined) return undefined;
  const i = alias!.indexOf(':');
  return i < 0 ? undefined : alias!.slice(i + 1);
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
    if (w === 'other' || (w === 'unscoped' && !wanted.links.has(l.name))) out.push({ what: `link ${l.name}`, owner: aliasOwner(l.alias)! });
  }
  for (const a of k.addresses) {
    const w = whoseProto(a.proto, scope);
    const adopted = w === 'unscoped' && wanted.addresses.has(`${a.address}/${a.prefix} on ${names.get(a.index)}`);
    if (w === 'other' || (w === 'unscoped' && !adopted)) out.push({ what: `address ${a.address}/${a.prefix} on ${names.get(a.index) ?? a.index}`, owner: ownerOfProto(a.proto!, tagOf) });
  }
  for (const r of k.routes) {
    const w = whoseProto(r.protocol, scope);
    if (w === 'other' || w === 'unscoped') out.push({ what: `route ${r.dst} table ${r.table}`, owner: ownerOfProto(r.protocol!, tagOf) });
  }
  return out;
}
