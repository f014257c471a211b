// Multi-cluster: each CC joins each group's local segment to the same group's
// segment on every other CC. Per group (per bridge), a VXLAN device
// `eucatunN` (VNI = the group's VLAN, 1 without segmentation where one bridge
// carries every group) on the CC's public NIC from its tunnelAddress, in the
// group's bridge, flooding by head-end replication: one all-zeros FDB entry
// per other CC's tunnelAddress (no multicast between clusters).
//
// The tunnels listen on UDP port 8472 (Linux's original VXLAN port), not on
// 4789 which a CC using vxlan segmentation inside its cluster already holds
// for the same VNIs: the kernel keys a VXLAN socket by port and a device by
// (port, VNI), so two devices with one VNI on one port cannot coexist, and
// inside-cluster and between-cluster frames must reach different bridges'
// ports anyway. Distinct names (eucavxN vs eucatunN), distinct ports.
//
// MTU: the tunnel device is set to 1500 so that the bridge (whose MTU is its
// smallest port's) still carries full-size instance frames; the kernel then
// needs the public NIC's MTU to be at least 1550 (VXLAN over IPv4 adds 50
// bytes). On a 1500-byte public NIC the device comes out at 1450 (seen on
// kernel 6.18) and the bridge with it, and full-size frames between clusters
// are dropped: a deployment whose CCs meet over a 1500-byte network must give
// its public NICs (and the path between CCs) jumbo or 1550-byte frames, or
// the instances a 1450-byte MTU.
import type { FdbSpec } from '../../rtnl/fdb.js';
import type { LinkSpec } from '../../rtnl/link.js';
import type { ClusterView } from '../clusters.js';
import { clustersOf } from '../clusters.js';
import type { AllocatedGroup, AllocatedState } from '../types.js';
import { bridgeOf } from './names.js';

export const TUNNEL_PORT = 8472;
export const TUNNEL_MTU = 1500;
const ZERO_MAC = '00:00:00:00:00:00';

/** The inter-cluster tunnel device of a group: `eucatun<vlan>` (`eucatun0` without segmentation). */
export function tunnelOf(state: AllocatedState, g: AllocatedGroup): string {
  return state.segmentation === 'none' ? 'eucatun0' : `eucatun${g.vlan}`;
}

/** The tunnel devices and flood entries of CC `self`; none in a cloud of one cluster. */
export function clusterTunnels(state: AllocatedState, self: ClusterView): { links: LinkSpec[]; fdb: FdbSpec[] } {
  const others = clustersOf(state).filter((c) => c.name !== self.name);
  const out = { links: [] as LinkSpec[], fdb: [] as FdbSpec[] };
  if (!others.length || self.cc.tunnelAddress === undefined) return out;
  const seen = new Set<string>();
  for (const g of state.groups) {
    const name = tunnelOf(state, g);
    if (seen.has(name)) continue;
    seen.add(name);
    out.links.push({
      kind: 'vxlan',
      name,
      vni: state.segmentation === 'none' ? 1 : g.vlan,
      local: self.cc.tunnelAddress,
      device: self.cc.publicInterface,
      port: TUNNEL_PORT,
      mtu: TUNNEL_MTU,
      master: bridgeOf(state, g),
      up: true,
    });
    for (const c of others) if (c.cc.tunnelAddress !== undefined) out.fdb.push({ dev: name, lladdr: ZERO_MAC, dst: c.cc.tunnelAddress });
  }
  return out;
}
