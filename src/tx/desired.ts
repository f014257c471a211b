// The desired state reconcile() converges to. What eucanet owns and how it
// marks it: owner.ts.
import type { TapSpec } from './ops.js';
import type { AddressSpec } from '../rtnl/address.js';
import type { FdbSpec } from '../rtnl/fdb.js';
import type { LinkAttributes, LinkSpec } from '../rtnl/link.js';
import type { RouteSpec } from '../rtnl/route.js';
import type { DesiredNft } from './nft-diff.js';

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
  /**
   * FDB entries on eucanet's vxlan links (a flood list: 00:00:00:00:00:00 with
   * one dst per remote host). Added as `self permanent` by default; leave port
   * and vni unset for the device's own. Owned entries not listed are deleted.
   */
  fdb?: FdbSpec[];
  sysctls?: Record<string, string | number>;
  /** The content of eucanet's own nftables tables (owned whole). */
  nft?: DesiredNft;
}

export type { DesiredNft };
