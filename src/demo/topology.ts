// The demo's hosts, as network namespaces, and the wires between them: the
// scaffolding that stands in for the machines and cables of the seed's
// figure 3-1. Everything is made through the library (namespaces, links,
// addresses, routes, sysctls); no `ip` is run.
//
//                        euca-pub: pub0 bridge 192.168.32.1/24 (the public network + a client)
//                         ├── pub-clc ═ eth0 euca-clc 192.168.32.10 (metadata :8773)
//                         └── pub-cc  ═ eth0 euca-cc  192.168.32.20 (+ public IPs .200 .201)
//                                                     eth1 (private NIC)
//                                                       ║
//   euca-switch: sw0 bridge (a plain switch: no VLAN filtering, tagged frames pass; MTU 1550)
//     sw-cc ═ euca-cc eth1     sw-nc1 ═ euca-nc1 eth0     sw-nc2 ═ euca-nc2 eth0
//     It drops IPv4 multicast between its ports, as most data-centre fabrics and
//     every public cloud do (table bridge switch, dropMulticast below); broadcast
//     (ARP, DHCP) passes. VXLAN segments cross it by unicast flooding (the
//     state's vxlanFlood "unicast", the default).
//
//   euca-nc1: vnet1 ═ eth0 euca-i-1   vnet2 ═ euca-i-2   vnet0 ═ euca-i-3   vnet3 ═ euca-i-4
//   euca-nc2: vnet1 ═ eth0 euca-i-5   vnet2 ═ euca-i-6   vnet0 ═ euca-i-7   vnet3 ═ euca-i-8
//
// Each instance's end of its veth is eth0 with the instance's MAC; the NC end
// is the instance's port (vnetX), which the NC role puts in its group's bridge.
//
// --clusters 2 adds a second cluster beside it (clusters c1 = the above, c2):
//
//   euca-pub: pub0 ... └── pub-cc2 ═ eth0 euca-cc2 192.168.32.21 (+ public IP .202)
//                                         eth1 ═ sw-cc  euca-switch2 (sw0, drops multicast)
//                                                sw-nc3 ═ eth0 euca-nc3
//   euca-nc3: vnet1 ═ eth0 euca-i-9 (admin/default)   vnet0 ═ euca-i-10 (admin/web)
//
// The CCs' tunnels between clusters (VXLAN, UDP 8472) run over the public
// network, so its wires then carry 1550-byte frames too (pub0, pub-ccN and
// the CCs' public NICs: UNDERLAY_MTU). The CLC routes the private network back
// through c1's CC, and each address of c2's instances through c2's CC (a
// group's subnet spans both clusters; the CC does not SNAT metadata requests).
import { clusterOfNode, clustersOf, type ClusterView } from '../managed/clusters.js';
import { open, type Handle } from '../handle.js';
import { rule } from '../nft/build/builder.js';
import type { AllocatedInstance, AllocatedState } from '../managed/types.js';
import { createNetns, netnsExists } from '../sys/netns.js';

export const NS_PUB = 'euca-pub';
export const NS_CLC = 'euca-clc';
export const NS_CC = 'euca-cc';
export const NS_SWITCH = 'euca-switch';
export const ncNetns = (node: string): string => `euca-${node}`;
/** Cluster k's (0-based) CC and private switch: euca-cc and euca-switch for the first, euca-cc2 and euca-switch2 for the second. */
export const ccNetns = (index: number): string => (index === 0 ? NS_CC : `${NS_CC}${index + 1}`);
export const switchNetns = (index: number): string => (index === 0 ? NS_SWITCH : `${NS_SWITCH}${index + 1}`);
export const instanceNetns = (id: string): string => `euca-${id}`;

/**
 * The private switch's wires carry 1550-byte frames: a VXLAN segment costs 50
 * bytes of headers, and the kernel gives a VXLAN device its underlay's MTU
 * less 50, so this keeps the group bridges (and the instances' 1500-byte
 * frames) whole across NCs. A real VXLAN fabric needs the same (or instances
 * at MTU 1450). VLAN and none do not need it, and do not mind it.
 */
export const UNDERLAY_MTU = 1550;

export const PUB_IP = '192.168.32.1';
export const CC_PUBLIC_IP = '192.168.32.20';
const PUB_PREFIX = 24;

/** Cluster k's CC on the public network: 192.168.32.20 + k (its tunnelAddress when there are several). */
export function ccPublicIp(c: ClusterView): string {
  return c.cc.tunnelAddress ?? (c.index === 0 ? CC_PUBLIC_IP : `192.168.32.${20 + c.index}`);
}

/** The demo's view of a cluster: its CC's namespace, switch and public address. */
export interface DemoCluster {
  name: string;
  index: number;
  ccNetns: string;
  switchNetns: string;
  publicIp: string;
  view: ClusterView;
}

export function demoClusters(state: AllocatedState): DemoCluster[] {
  return clustersOf(state).map((c) => ({
    name: c.name,
    index: c.index,
    ccNetns: ccNetns(c.index),
    switchNetns: switchNetns(c.index),
    publicIp: ccPublicIp(c),
    view: c,
  }));
}

/** The demo cluster an instance runs in (its node's). */
export function clusterOfInstance(state: AllocatedState, i: Pick<AllocatedInstance, 'node'>): DemoCluster {
  const c = clusterOfNode(state, i.node);
  const found = c && demoClusters(state).find((d) => d.name === c.name);
  if (!found) throw new Error(`instance on node ${i.node}: the node is in no cluster`);
  return found;
}

/** The CLC's address, from the state's metadata endpoint ("192.168.32.10:8773"). */
export function clcAddress(state: AllocatedState): { ip: string; port: number } {
  const [ip, port] = (state.metadata ?? '192.168.32.10:8773').split(':') as [string, string];
  return { ip, port: Number(port) };
}

/** Every namespace of the demo, in the order they are made. */
export function demoNamespaces(state: AllocatedState, sample: AllocatedInstance[]): string[] {
  const hosts = demoClusters(state).flatMap((c) => [c.ccNetns, c.switchNetns, ...Object.keys(c.view.nodes).map(ncNetns)]);
  return [NS_PUB, NS_CLC, ...hosts, ...sample.map((i) => instanceNetns(i.id))];
}

export class Hosts {
  readonly handles = new Map<string, Handle>();

  get(ns: string): Handle {
    let h = this.handles.get(ns);
    if (!h) {
      h = open({ netns: ns });
      this.handles.set(ns, h);
    }
    return h;
  }

  close(): void {
    for (const h of this.handles.values()) h.close();
    this.handles.clear();
  }
}

/** Creates the namespaces (refusing any that already exists: it is not ours). */
export function createNamespaces(names: string[], created: (ns: string) => void): void {
  const taken = names.filter(netnsExists);
  if (taken.length)
    throw new Error(
      `namespace${taken.length > 1 ? 's' : ''} ${taken.join(', ')} already exist${taken.length > 1 ? '' : 's'}: not made by this demo, so left alone (remove ${taken.length > 1 ? 'them' : 'it'} or run eucanet demo down)`,
    );
  for (const ns of names) {
    createNetns(ns);
    created(ns);
  }
}

/**
 * The wires and host addresses, in three rounds of one transaction per
 * namespace: loopback up and IPv6 off everywhere (the model is IPv4, and no
 * stray router solicitations crowd the captures); the bridges and veths; then
 * each far end up, with its addresses and routes.
 */
/** IPv4 only, as in the seed (no IPv6 chatter on the wires), and loopback up, in every namespace. */
export async function prepareHosts(hosts: Hosts, namespaces: string[]): Promise<void> {
  await Promise.all(
    namespaces.map((ns) =>
      hosts
        .get(ns)
        .transaction()
        .setSysctl('net.ipv6.conf.all.disable_ipv6', 1)
        .setSysctl('net.ipv6.conf.default.disable_ipv6', 1)
        .setLink('lo', { up: true })
        .commit(),
    ),
  );
}

/** The switch's filter: a bridge table in its namespace. */
export const SWITCH_TABLE = 'switch';

/**
 * Makes the switch in `h`'s namespace drop IPv4 multicast (224.0.0.0/4)
 * between its ports, counted; broadcast and unicast pass. Through the
 * library: one nftables batch.
 */
export async function dropMulticast(h: Handle): Promise<void> {
  const b = h.nft.batch();
  b.addTable({ family: 'bridge', name: SWITCH_TABLE });
  b.addChain({ family: 'bridge', table: SWITCH_TABLE, name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: 'accept' });
  b.addRule({
    family: 'bridge',
    table: SWITCH_TABLE,
    chain: 'forward',
    exprs: rule().ipDaddr('224.0.0.0/4').counter().drop(),
    comment: 'no multicast on this fabric',
  });
  await b.commit();
}

/**
 * A cluster's private switch in `h`'s namespace: bridge sw0, a veth to its
 * CC's private NIC (sw-cc) and one to each node's (sw-<node>), all at
 * UNDERLAY_MTU, then dropMulticast. `ccNs` and `ncNs` name the hosts'
 * namespaces. The demo and the tests' two clusters (test/helpers) both wire
 * their switches with it.
 */
export async function wireSwitch(h: Handle, c: ClusterView, ccNs: string, ncNs: (node: string) => string): Promise<void> {
  const sw = h.transaction();
  sw.addLink({ kind: 'bridge', name: 'sw0', stp: false, forwardDelay: 0, up: true });
  sw.addLink({ kind: 'veth', name: 'sw-cc', peer: c.cc.privateInterface, peerNetns: ccNs, master: 'sw0', up: true, mtu: UNDERLAY_MTU });
  for (const [node, host] of Object.entries(c.nodes)) {
    sw.addLink({ kind: 'veth', name: `sw-${node}`, peer: host.privateInterface, peerNetns: ncNs(node), master: 'sw0', up: true, mtu: UNDERLAY_MTU });
  }
  await sw.commit();
  await dropMulticast(h);
}

export async function buildScaffolding(hosts: Hosts, state: AllocatedState, sample: AllocatedInstance[]): Promise<void> {
  const all = demoNamespaces(state, sample);
  await prepareHosts(hosts, all);
  const clusters = demoClusters(state);
  // Tunnels between clusters run over the public network: its wires then carry their 50 bytes too.
  const pubMtu = clusters.length > 1 ? { mtu: UNDERLAY_MTU } : {};

  const clc = clcAddress(state);
  const pub = hosts.get(NS_PUB).transaction();
  pub.addLink({ kind: 'bridge', name: 'pub0', stp: false, forwardDelay: 0, up: true, ...pubMtu });
  pub.addAddress({ dev: 'pub0', address: `${PUB_IP}/${PUB_PREFIX}` });
  pub.addLink({ kind: 'veth', name: 'pub-clc', peer: 'eth0', peerNetns: NS_CLC, master: 'pub0', up: true });
  for (const c of clusters) {
    pub.addLink({
      kind: 'veth',
      name: `pub-${c.ccNetns.slice('euca-'.length)}`,
      peer: c.view.cc.publicInterface,
      peerNetns: c.ccNetns,
      master: 'pub0',
      up: true,
      ...pubMtu,
    });
  }

  const ncs = new Map<string, ReturnType<Handle['transaction']>>();
  for (const i of sample) {
    let tx = ncs.get(i.node);
    if (!tx) ncs.set(i.node, (tx = hosts.get(ncNetns(i.node)).transaction()));
    tx.addLink({ kind: 'veth', name: i.port, peer: 'eth0', peerNetns: instanceNetns(i.id), peerAddress: i.mac, up: true });
  }
  await Promise.all([
    pub.commit(),
    ...clusters.map((c) => wireSwitch(hosts.get(c.switchNetns), c.view, c.ccNetns, ncNetns)),
    ...[...ncs.values()].map((tx) => tx.commit()),
  ]);

  const far: Array<Promise<unknown>> = [];
  const clcTx = hosts
    .get(NS_CLC)
    .transaction()
    .setLink('eth0', { up: true })
    .addAddress({ dev: 'eth0', address: `${clc.ip}/${PUB_PREFIX}` })
    // The CC does not SNAT metadata requests (the CLC tells instances apart by
    // their private address), so the CLC routes the private network back via the CC.
    .addRoute({ dst: state.subnet, gateway: CC_PUBLIC_IP });
  // Other clusters' instances share the groups' subnets: each is routed back through its own cluster's CC.
  for (const i of state.instances) {
    const c = clusterOfInstance(state, i);
    if (c.index > 0) clcTx.addRoute({ dst: `${i.privateIp}/32`, gateway: c.publicIp });
  }
  far.push(clcTx.commit());
  for (const c of clusters) {
    far.push(
      hosts
        .get(c.ccNetns)
        .transaction()
        .setLink(c.view.cc.publicInterface, { up: true, ...pubMtu })
        .setLink(c.view.cc.privateInterface, { up: true, mtu: UNDERLAY_MTU })
        .addAddress({ dev: c.view.cc.publicInterface, address: `${c.publicIp}/${PUB_PREFIX}` })
        .addRoute({ dst: 'default', gateway: PUB_IP })
        .commit(),
    );
    for (const [node, host] of Object.entries(c.view.nodes))
      far.push(hosts.get(ncNetns(node)).links.set(host.privateInterface, { up: true, mtu: UNDERLAY_MTU }));
  }
  for (const i of sample) far.push(hosts.get(instanceNetns(i.id)).links.set('eth0', { up: true }));
  await Promise.all(far);
}
