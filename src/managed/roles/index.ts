// The two roles as pure functions: an allocated MANAGED state and a role in,
// the desired kernel state of that host out (applied by tx/reconcile.ts).
import { ValidationError } from '../../errors.js';
import type { DesiredPort, DesiredState } from '../../tx/desired.js';
import { allNodes, clusterOfNode, gatewayOf, pickCluster } from '../clusters.js';
import { groupNet, parseBlock } from '../net.js';
import { groupKey, type AllocatedInstance, type AllocatedState } from '../types.js';
import { ncNft } from './antispoof.js';
import { ccNft } from './firewall.js';
import { bridgeOf } from './names.js';
import { hostSegments } from './segments.js';
import { clusterTunnels } from './tunnels.js';
import { must } from '../../util/must.js';

export * from './names.js';
export { floodEntries, groupPeers, vxlanFloodOf, type HostId } from './flood.js';
export { ncSets } from './antispoof.js';
export { ingressRule } from './firewall.js';
export { clusterTunnels, tunnelOf, TUNNEL_PORT } from './tunnels.js';

/** A host's role; a CC of a cloud of several clusters names its cluster. */
export type Role = { role: 'cc'; cluster?: string } | { role: 'nc'; node: string };

/** Host-wide settings a role turns on (to 1), which `down` puts back as they were. */
export const ROLE_SYSCTLS = { cc: ['net.ipv4.ip_forward'], nc: [] as string[] } as const;

/**
 * The cluster controller: every group's segment and bridge on the private NIC,
 * with the gateway address; public IPs as /32s on the public NIC; forwarding
 * on; the nat and filter tables.
 */
export function planCc(state: AllocatedState, cluster?: string): DesiredState {
  const c = pickCluster(state, cluster);
  const net = hostSegments(state, state.groups, { role: 'cc', cluster: c.name }, c.cc.privateInterface, c.cc.underlay);
  for (const g of state.groups) {
    const n = groupNet(g);
    net.addresses.push({ dev: bridgeOf(state, g), address: `${gatewayOf(parseBlock('subnet', g.subnet), c.index)}/${n.prefix}` });
  }
  const tunnels = clusterTunnels(state, c);
  net.links.push(...tunnels.links);
  // (net.fdb may be the last plan's frozen array: flood.ts.)
  if (tunnels.fdb.length) net.fdb = [...net.fdb, ...tunnels.fdb];
  // Each CC NATs only its own cluster's instances' public addresses.
  for (const i of state.instances) {
    if (i.publicIp !== undefined && clusterOfNode(state, i.node)?.name === c.name) {
      net.addresses.push({ dev: c.cc.publicInterface, address: `${i.publicIp}/32` });
    }
  }
  const sysctls: Record<string, number> = Object.fromEntries(ROLE_SYSCTLS.cc.map((k) => [k, 1]));
  // Without segmentation every group's gateway is on the one bridge: traffic
  // between groups comes in and goes out of it, and the CC must not answer with
  // ICMP redirects telling instances to go around its firewall.
  if (state.segmentation === 'none') sysctls['net/ipv4/conf/eucabr0/send_redirects'] = 0;
  return { ...net, sysctls, nft: ccNft(state) };
}

/**
 * A node controller: the segment and bridge of every group with an instance
 * here, each instance's port in its group's bridge (a persistent tap is made
 * if the port does not exist), and the anti-spoofing bridge filter.
 */
export function planNc(state: AllocatedState, node: string): DesiredState {
  const host = allNodes(state)[node];
  if (!host) throw new ValidationError('node', node, `unknown node; the state has ${Object.keys(allNodes(state)).join(', ') || 'none'}`);
  const here = instancesOn(state, node);
  const keys = new Set(here.map((i) => i.group));
  const groups = state.groups.filter((g) => keys.has(groupKey(g)));
  const net = hostSegments(state, groups, { role: 'nc', node }, host.privateInterface, host.underlay);
  const bridges = new Map(groups.map((g) => [groupKey(g), bridgeOf(state, g)]));
  for (const i of here) net.ports.push(instancePort(i, must(bridges.get(i.group), `group ${i.group}`)));
  return { ...net, nft: ncNft(state, here, host.privateInterface) };
}

/** The instances of node `node`, in the state's order (those planNc makes ports and set elements of). */
export function instancesOn(state: AllocatedState, node: string): AllocatedInstance[] {
  const out: AllocatedInstance[] = [];
  for (const i of state.instances) if (i.node === node) out.push(i);
  return out;
}

/**
 * An instance's port, kept per instance object (allocation hands an
 * unchanged instance over as the same object): the same frozen port a
 * version later, which the delta between the two compares by identity.
 */
const ports = new WeakMap<AllocatedInstance, DesiredPort>();
export function instancePort(i: AllocatedInstance, master: string): DesiredPort {
  const had = ports.get(i);
  if (had?.master === master) return had;
  const tap = Object.freeze({ alias: `eucanet:port ${i.id} group ${i.group}` });
  const port: DesiredPort = Object.freeze({ name: i.port, master, up: true, tap });
  ports.set(i, port);
  return port;
}

export function planRole(state: AllocatedState, role: Role): DesiredState {
  if (state.segmentation === 'auto') {
    throw new ValidationError('segmentation', 'auto', 'is decided per host: resolve it first (managed/preflight.ts resolveSegmentation, which apply does)');
  }
  return role.role === 'cc' ? planCc(state, role.cluster) : planNc(state, role.node);
}
