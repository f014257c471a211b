// Two clusters in throw-away namespaces (issue 18), unique names:
//
//   <base>-pub: pub0 bridge 192.168.32.1/24, MTU 1550 (the CCs' tunnels run over it)
//     ├── pub-cc1 ═ eth0 <base>-cc1 192.168.32.20 (c1's tunnelAddress)
//     └── pub-cc2 ═ eth0 <base>-cc2 192.168.32.21 (c2's tunnelAddress)
//   <base>-sw1, <base>-sw2: each cluster's private switch (drops IPv4 multicast, MTU 1550)
//     sw-cc ═ <base>-ccN eth1     sw-<node> ═ <base>-<node> eth0
//   <base>-<node>: <port> ═ eth0 <base>-<id> (the instance's MAC)
import { clustersOf } from '../../src/managed/clusters.js';
import type { AllocatedInstance, AllocatedState } from '../../src/managed/types.js';
import { Hosts, prepareHosts, UNDERLAY_MTU, wireSwitch } from '../../src/demo/topology.js';
import { createNetns, deleteNetns, netnsExists } from '../../src/sys/netns.js';
import { dropSysctlRecordsOf } from '../../src/managed/sysctl-record.js';
import { freshName } from './netns.js';

/** The demo's: 1500-byte frames plus a VXLAN header (the tunnels between the CCs, and vxlan segments). */
export const WIRE_MTU = UNDERLAY_MTU;

export class TwoClusters {
  readonly base = freshName('eu2c');
  readonly hosts = new Hosts();
  readonly made: string[] = [];

  get pub(): string {
    return `${this.base}-pub`;
  }
  cc(cluster: string): string {
    return `${this.base}-${cluster}`;
  }
  sw(cluster: string): string {
    return `${this.base}-sw${cluster}`;
  }
  nc(node: string): string {
    return `${this.base}-${node}`;
  }
  inst(id: string): string {
    return `${this.base}-${id}`;
  }

  private async makeNs(names: string[]): Promise<void> {
    for (const ns of names) {
      if (netnsExists(ns)) throw new Error(`namespace ${ns} exists already: not ours`);
      createNetns(ns);
      this.made.push(ns);
    }
    await prepareHosts(this.hosts, names);
  }

  async build(state: AllocatedState): Promise<void> {
    const clusters = clustersOf(state);
    const names = [this.pub, ...clusters.flatMap((c) => [this.cc(c.name), this.sw(c.name), ...Object.keys(c.nodes).map((n) => this.nc(n))])];
    await this.makeNs(names);
    const pub = this.hosts.get(this.pub).transaction();
    pub.addLink({ kind: 'bridge', name: 'pub0', stp: false, forwardDelay: 0, up: true, mtu: WIRE_MTU });
    pub.addAddress({ dev: 'pub0', address: '192.168.32.1/24' });
    for (const c of clusters) {
      pub.addLink({ kind: 'veth', name: `pub-${c.name}`, peer: c.cc.publicInterface, peerNetns: this.cc(c.name), master: 'pub0', up: true, mtu: WIRE_MTU });
    }
    await pub.commit();
    for (const c of clusters) {
      await wireSwitch(this.hosts.get(this.sw(c.name)), c, this.cc(c.name), (node) => this.nc(node));
      await this.hosts
        .get(this.cc(c.name))
        .transaction()
        .setLink(c.cc.privateInterface, { up: true, mtu: WIRE_MTU })
        .setLink(c.cc.publicInterface, { up: true, mtu: WIRE_MTU })
        .addAddress({ dev: c.cc.publicInterface, address: `${c.cc.tunnelAddress}/24` })
        .addRoute({ dst: 'default', gateway: '192.168.32.1' })
        .commit();
      for (const [node, h] of Object.entries(c.nodes))
        await this.hosts.get(this.nc(node)).transaction().setLink(h.privateInterface, { up: true, mtu: WIRE_MTU }).commit();
    }
  }

  /** An instance's namespace on its node, with its address and default route set statically. */
  async addInstance(i: AllocatedInstance, prefix: number, gateway: string): Promise<string> {
    const ns = this.inst(i.id);
    await this.makeNs([ns]);
    await this.hosts.get(this.nc(i.node)).links.add({ kind: 'veth', name: i.port, peer: 'eth0', peerNetns: ns, peerAddress: i.mac, up: true });
    await this.hosts
      .get(ns)
      .transaction()
      .setLink('eth0', { up: true })
      .addAddress({ dev: 'eth0', address: `${i.privateIp}/${prefix}` })
      .addRoute({ dst: 'default', gateway })
      .commit();
    return ns;
  }

  /** Deletes every namespace made (and so everything in them). */
  async teardown(): Promise<void> {
    this.hosts.close();
    for (const ns of [...this.made].reverse()) if (netnsExists(ns)) deleteNetns(ns);
    for (const ns of this.made) dropSysctlRecordsOf(ns);
    this.made.length = 0;
  }
}
