// What eucanet calls things on the hosts: the seed's own names where it has them.
import type { AllocatedGroup, AllocatedState } from '../types.js';

/** The group's bridge, `eucabrN` (one `eucabr0` for all groups without segmentation). */
export function bridgeOf(state: AllocatedState, g: AllocatedGroup): string {
  return state.segmentation === 'none' ? 'eucabr0' : `eucabr${g.vlan}`;
}

/** The group's segment device on a host whose private NIC is `priv`: `eth0.10` (vlan) or `eucavx10` (vxlan). */
export function segmentOf(state: AllocatedState, g: AllocatedGroup, priv: string): string | undefined {
  if (state.segmentation === 'vlan') return `${priv}.${g.vlan}`;
  if (state.segmentation === 'vxlan') return `eucavx${g.vlan}`;
  return undefined;
}

/** Every VXLAN segment floods over this multicast group on the underlay; the VNI keeps them apart. */
export const VXLAN_GROUP = '239.1.1.1';
export const VXLAN_PORT = 4789;

/** The metadata service address instances ask. */
export const METADATA_IP = '169.254.169.254';

/** Each role's ownership marks (links, addresses, routes, tables): tx/owner.ts, the one place for them. */
export { CC_TABLE, NC_TABLE, ROLE_PROTO, ROLE_TABLES, roleOfProto, roleOfTable, roleScope } from '../../tx/owner.js';
