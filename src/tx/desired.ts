// The desired state reconcile() converges to, and how eucanet marks what it owns.
//
// Ownership marks (objects without them are never touched):
//   links      IFLA_IFALIAS "eucanet" or "eucanet:<detail>"; with an owner (a
//              role) "eucanet/<owner>[:<detail>]" (owner.ts)
//   taps       the same alias, plus device group PORT_GROUP for bulk teardown
//   addresses  IFA_PROTO = EUCANET_PROTO (or an owner's number, owner.ts)
//   routes     rtm_protocol = EUCANET_PROTO (likewise)
//   nftables   whole tables named "eucanet" or "eucanet-*" (nft-diff.ts)
import type { TapSpec } from '../handle.js';
import type { AddressSpec } from '../rtnl/address.js';
import type { LinkAttributes, LinkSpec } from '../rtnl/link.js';
import type { RouteSpec } from '../rtnl/route.js';
import type { DesiredNft } from './nft-diff.js';

export const OWNER_ALIAS = 'eucanet';
/** Device group of the instance ports (taps) eucanet creates: `ip link delete group 4200` removes them all. */
export const PORT_GROUP = 4200;
/** IFA_PROTO / rtm_protocol value marking eucanet's addresses and routes. */
export const EUCANET_PROTO = 240;

/** An alias without an owner: "eucanet" or "eucanet:<detail>". */
export function isUnscopedAlias(alias: string | undefined): boolean {
  return alias === OWNER_ALIAS || (alias !== undefined && alias.startsWith(`${OWNER_ALIAS}:`));
}

/** Any eucanet mark: "eucanet", "eucanet:<detail>", "eucanet/<owner>", "eucanet/<owner>:<detail>". */
export function isOwnedAlias(alias: string | undefined): boolean {
  return isUnscopedAlias(alias) || (alias !== undefined && /^eucanet\/[A-Za-z0-9]+(?::|$)/.test(alias));
}

/** An alias carrying the ownership mark: "eucanet" or "eucanet:<detail>". */
export function ownedAlias(detail?: string): string {
  if (detail === undefined || detail === '') return OWNER_ALIAS;
  return isOwnedAlias(detail) ? detail : `${OWNER_ALIAS}:${detail}`;
}

/**
 * A port: a link that may already exist (a hypervisor's tap, a veth), which
 * eucanet attaches and brings up. If it does not exist and `tap` is set, a
 * persistent tap of that name is created, owned, and put in PORT_GROUP.
 */
export interface DesiredPort extends LinkAttributes {
  name: string;
  tap?: boolean | TapSpec;
}

export interface DesiredState {
  /** Links eucanet creates and owns (bridges, VLAN and VXLAN devices...). */
  links?: LinkSpec[];
  ports?: DesiredPort[];
  /** Addresses eucanet owns; on any link. */
  addresses?: AddressSpec[];
  routes?: RouteSpec[];
  sysctls?: Record<string, string | number>;
  /** The content of eucanet's own nftables tables (owned whole). */
  nft?: DesiredNft;
}

export type { DesiredNft };
