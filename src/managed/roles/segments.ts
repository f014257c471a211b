// The per-group private network on one host, shared by both roles: a VLAN (or
// VXLAN) device on the private NIC, in a bridge `eucabrN`, both up; with VXLAN,
// the device floods over a multicast group or, by default, by unicast to the
// other hosts carrying the group (flood.ts).
import type { LinkSpec } from '../../rtnl/link.js';
import type { AddressSpec } from '../../rtnl/address.js';
import type { FdbSpec } from '../../rtnl/fdb.js';
import type { DesiredPort } from '../../tx/desired.js';
import type { AllocatedGroup, AllocatedState } from '../types.js';
import { floodEntries, vxlanFloodOf, type HostId } from './flood.js';
import { VXLAN_GROUP, VXLAN_PORT, bridgeOf, segmentOf } from './names.js';
import { must } from '../../util/must.js';

export interface HostNet {
  links: LinkSpec[];
  ports: DesiredPort[];
  addresses: AddressSpec[];
  fdb: FdbSpec[];
}

/**
 * Bridges and segment devices for `groups` on host `self`, whose private NIC
 * is `priv` (with `underlay` address/prefix for VXLAN), and its VXLAN flood
 * lists. Without segmentation the private NIC itself is the one bridge's port.
 */
export function hostSegments(state: AllocatedState, groups: AllocatedGroup[], self: HostId, priv: string, underlay?: string): HostNet {
  const out: HostNet = { links: [], ports: [], addresses: [], fdb: floodEntries(state, groups, self, priv) };
  const multicast = vxlanFloodOf(state) === 'multicast';
  const bridges = new Set<string>();
  for (const g of groups) {
    const br = bridgeOf(state, g);
    if (!bridges.has(br)) {
      bridges.add(br);
      out.links.push({
        kind: 'bridge',
        name: br,
        stp: false,
        forwardDelay: 0,
        // Multicast floods to the group's ports as on Eucalyptus' plain bridges
        // (no IGMP/MLD snooping): nothing an instance can tell, and each port
        // with carrier costs about a third less to add (README, "Bridge defaults").
        multicastSnooping: false,
        up: true,
        alias: `eucanet:${state.segmentation === 'none' ? 'all groups' : `${g.owner}/${g.name}`}`,
      });
    }
    const seg = segmentOf(state, g, priv);
    if (state.segmentation === 'vlan') {
      out.links.push({ kind: 'vlan', name: must(seg, 'the VLAN device name'), parent: priv, id: g.vlan, master: br, up: true });
    } else if (state.segmentation === 'vxlan') {
      const local = must(underlay, `the underlay of a VXLAN host (${priv})`).split('/')[0];
      out.links.push({
        kind: 'vxlan',
        name: must(seg, 'the VXLAN device name'),
        vni: g.vlan,
        local,
        ...(multicast ? { multicastGroup: VXLAN_GROUP } : {}),
        device: priv,
        port: VXLAN_PORT,
        master: br,
        up: true,
      });
    }
  }
  if (state.segmentation === 'none' && groups.length) out.ports.push({ name: priv, master: 'eucabr0', up: true });
  if (state.segmentation === 'vxlan' && underlay && groups.length) {
    out.ports.push({ name: priv, up: true });
    out.addresses.push({ dev: priv, address: underlay });
  }
  return out;
}
