// A throw-away MANAGED cloud in namespaces for integration tests: the demo's
// shape (src/demo/topology.ts) with unique namespace names, so tests never
// meet a running demo (euca-*) or each other.
//
//   <base>-pub: pub0 bridge 192.168.32.1/24 (the public network and a client)
//     ├── pub-clc ═ eth0 <base>-clc 192.168.32.10 (metadata :8773)
//     └── pub-cc  ═ eth0 <base>-cc  192.168.32.20 (+ the public /32s the CC role adds)
//   <base>-sw: sw0 bridge (a plain switch that drops IPv4 multicast between its
//              ports, as most data-centre fabrics do: dropMulticast of the demo's
//              topology; broadcast passes, so ARP and DHCP work)
//     sw-cc ═ <base>-cc eth1     sw-nc1 ═ <base>-nc1 eth0     sw-nc2 ═ <base>-nc2 eth0
//   <base>-ncN: <port> ═ eth0 <base>-<id> (the instance's MAC)
//
// Everything is made through the library; teardown stops the responders and the
// CC's dnsmasq, then deletes the namespaces (which takes every link, address
// and nftables table in them along) and dnsmasq's state directory.
import { rmSync } from 'node:fs';
import { allNodes, pickCluster } from '../../src/managed/clusters.js';
import { dhcpServerFor } from '../../src/managed/apply.js';
import type { AllocatedInstance, AllocatedState } from '../../src/managed/types.js';
import { dropMulticast, Hosts, prepareHosts } from '../../src/demo/topology.js';
import { createNetns, deleteNetns, netnsExists } from '../../src/sys/netns.js';
import { dropSysctlRecordsOf } from '../../src/managed/sysctl-record.js';
import { Responder as Agent, type ResponderConfig as AgentConfig } from './responders.js';
import { freshName } from './netns.js';

export const PUB_IP = '192.168.32.1';
export const CC_PUBLIC_IP = '192.168.32.20';

export interface TopologyOptions {
  /** The public side: a pub namespace with a bridge, the CLC, the CC's public NIC. Default true. */
  public?: boolean;
}

export class CloudTopology {
  readonly base: string;
  readonly hosts = new Hosts();
  readonly agents = new Map<string, Agent>();
  /** Namespaces made, in order (teardown deletes exactly these). */
  readonly made: string[] = [];

  constructor(prefix = 'eumc') {
    this.base = freshName(prefix);
  }

  get pub(): string {
    return `${this.base}-pub`;
  }
  get clc(): string {
    return `${this.base}-clc`;
  }
  get cc(): string {
    return `${this.base}-cc`;
  }
  get sw(): string {
    return `${this.base}-sw`;
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

  /** The hosts and wires for `state`, with a namespace for each of `instances`. */
  async build(state: AllocatedState, instances: AllocatedInstance[], opts: TopologyOptions = {}): Promise<void> {
    const pub = opts.public ?? true;
    const nodes = Object.keys(allNodes(state));
    await this.makeNs([...(pub ? [this.pub, this.clc] : []), this.cc, this.sw, ...nodes.map((n) => this.nc(n))]);

    const near: Array<Promise<void>> = [];
    if (pub) {
      const tx = this.hosts.get(this.pub).transaction();
      tx.addLink({ kind: 'bridge', name: 'pub0', stp: false, forwardDelay: 0, up: true });
      tx.addAddress({ dev: 'pub0', address: `${PUB_IP}/24` });
      tx.addLink({ kind: 'veth', name: 'pub-clc', peer: 'eth0', peerNetns: this.clc, master: 'pub0', up: true });
      tx.addLink({ kind: 'veth', name: 'pub-cc', peer: pickCluster(state).cc.publicInterface, peerNetns: this.cc, master: 'pub0', up: true });
      near.push(tx.commit().then(() => undefined));
    }
    const sw = this.hosts.get(this.sw).transaction();
    sw.addLink({ kind: 'bridge', name: 'sw0', stp: false, forwardDelay: 0, up: true });
    sw.addLink({ kind: 'veth', name: 'sw-cc', peer: pickCluster(state).cc.privateInterface, peerNetns: this.cc, master: 'sw0', up: true });
    for (const [node, host] of Object.entries(allNodes(state))) {
      sw.addLink({ kind: 'veth', name: `sw-${node}`, peer: host.privateInterface, peerNetns: this.nc(node), master: 'sw0', up: true });
    }
    near.push(sw.commit().then(() => dropMulticast(this.hosts.get(this.sw))));
    await Promise.all(near);

    const far: Array<Promise<unknown>> = [];
    if (pub) {
      far.push(
        this.hosts
          .get(this.clc)
          .transaction()
          .setLink('eth0', { up: true })
          .addAddress({ dev: 'eth0', address: `${(state.metadata ?? '192.168.32.10:8773').split(':')[0]}/24` })
          // The CC does not SNAT metadata requests: the CLC routes the private network back via the CC.
          .addRoute({ dst: state.subnet, gateway: CC_PUBLIC_IP })
          .commit(),
      );
    }
    const cc = this.hosts.get(this.cc).transaction().setLink(pickCluster(state).cc.privateInterface, { up: true });
    if (pub) {
      cc.setLink(pickCluster(state).cc.publicInterface, { up: true })
        .addAddress({ dev: pickCluster(state).cc.publicInterface, address: `${CC_PUBLIC_IP}/24` })
        .addRoute({ dst: 'default', gateway: PUB_IP });
    }
    far.push(cc.commit());
    for (const [node, host] of Object.entries(allNodes(state)))
      far.push(this.hosts.get(this.nc(node)).transaction().setLink(host.privateInterface, { up: true }).commit());
    await Promise.all(far);
    await Promise.all(instances.map((i) => this.addInstance(i)));
  }

  /** An instance's namespace, joined to its NC by a veth: NC end = its port, instance end eth0 with its MAC. */
  async addInstance(i: Pick<AllocatedInstance, 'id' | 'node' | 'port' | 'mac'>): Promise<string> {
    const ns = this.inst(i.id);
    await this.makeNs([ns]);
    await this.hosts.get(this.nc(i.node)).links.add({ kind: 'veth', name: i.port, peer: 'eth0', peerNetns: ns, peerAddress: i.mac, up: true });
    await this.hosts.get(ns).links.set('eth0', { up: true });
    return ns;
  }

  /** The instance's namespace goes, and with it both ends of its veth (the VM is gone). */
  async removeInstance(i: Pick<AllocatedInstance, 'id' | 'node' | 'port'>): Promise<void> {
    const ns = this.inst(i.id);
    await this.agents.get(ns)?.stop();
    // The veth goes at once (a namespace's devices go later, when the kernel cleans it up).
    const nc = this.hosts.get(this.nc(i.node));
    if (await nc.links.get(i.port)) await nc.links.delete(i.port);
    this.agents.delete(ns);
    this.hosts.handles.get(ns)?.close();
    this.hosts.handles.delete(ns);
    if (netnsExists(ns)) deleteNetns(ns);
    this.made.splice(this.made.indexOf(ns), 1);
  }

  async startAgent(ns: string, cfg: Omit<AgentConfig, 'name'>): Promise<Agent> {
    const a = await Agent.start(ns, { name: ns, ...cfg }, 10_000);
    this.agents.set(ns, a);
    return a;
  }

  agent(ns: string): Agent {
    const a = this.agents.get(ns);
    if (!a) throw new Error(`no agent in ${ns}`);
    return a;
  }

  /** Where the CC's dnsmasq keeps its files (applyRole's DhcpServer for this namespace). */
  get dhcpPaths() {
    return dhcpServerFor(this.cc).paths;
  }

  /**
   * Removes everything: agents, the CC's dnsmasq, the namespaces, dnsmasq's
   * state directory. Every step runs even if an earlier one failed; the first
   * error is thrown at the end.
   */
  async teardown(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    await Promise.all([...this.agents.values()].map((a) => step(() => a.stop(500))));
    this.agents.clear();
    if (this.made.includes(this.cc)) await step(() => dhcpServerFor(this.cc).stop());
    this.hosts.close();
    for (const ns of [...this.made].reverse()) await step(() => netnsExists(ns) && deleteNetns(ns));
    for (const ns of this.made) dropSysctlRecordsOf(ns);
    this.made.length = 0;
    await step(() => rmSync(`/run/eucanet/${this.cc}`, { recursive: true, force: true }));
    if (errors.length) throw errors[0];
  }
}
