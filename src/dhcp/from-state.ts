// The cluster controller's DHCP networks for an allocated MANAGED state: one
// network per group on its bridge, one static lease per instance.
import { groupNet } from '../managed/net.js';
import { groupKey, type AllocatedGroup, type AllocatedState } from '../managed/types.js';
import type { DhcpNetwork } from './types.js';

const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

export interface DhcpFromStateOptions {
  /** The bridge a group's instances are on at the CC. Default `eucabr<vlan>`. */
  bridge?: (g: AllocatedGroup) => string;
  leaseTime?: number | 'infinite';
}

/**
 * Every group gets a network on its bridge (gateway = block + 1, DNS = the
 * state's dns), with its instances as hosts; an instance's id becomes its
 * hostname when it is a valid DNS label.
 */
export function dhcpNetworksOf(state: AllocatedState, opts: DhcpFromStateOptions = {}): DhcpNetwork[] {
  const bridge = opts.bridge ?? ((g: AllocatedGroup) => `eucabr${g.vlan}`);
  return state.groups.map((g) => {
    const net = groupNet(g);
    const key = groupKey(g);
    const n: DhcpNetwork = {
      interface: bridge(g),
      subnet: net.cidr,
      gateway: net.gateway,
      dns: state.dns !== undefined ? [state.dns] : [],
      hosts: state.instances
        .filter((i) => i.group === key)
        .map((i) => (LABEL_RE.test(i.id) ? { mac: i.mac, ip: i.privateIp, hostname: i.id } : { mac: i.mac, ip: i.privateIp })),
    };
    if (opts.leaseTime !== undefined) n.leaseTime = opts.leaseTime;
    return n;
  });
}
