// What eucanet calls things on the hosts: the seed's own names where it has them.
import type { OwnerScope } from '../../tx/owner.js';
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

/** The table names eucanet owns (see tx/nft-diff.ts). */
export const CC_TABLE = 'eucanet';
export const NC_TABLE = 'eucanet-nc';

/** The metadata service address instances ask. */
export const METADATA_IP = '169.254.169.254';

/**
 * Each role's ownership marks (tx/owner.ts): links aliased "eucanet/cc:..." or
 * "eucanet/nc:...", addresses and routes with protocol 241 (cc) or 242 (nc),
 * and the role's own table.
 */
export const ROLE_PROTO = { cc: 241, nc: 242 } as const;
export const ROLE_TABLES = { cc: [CC_TABLE], nc: [NC_TABLE] } as const;

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
