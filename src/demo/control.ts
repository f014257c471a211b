// The demo's cloud controller: how the checks change the cloud. By default
// (agents) an operation is written to the store (the state file in the run
// directory, through store.update, as `eucanet revoke` etc. do) and one
// `eucanet agent` process per host (the CC and each NC, each on its host's
// namespace: agent-process.ts) applies what it finds there; the operation returns when the write does,
// and enforcement is then observed with packets. With --direct the library's
// ManagedCloud applies each operation to every host itself and returns once
// applied (the comparison).
import { applyRole, type ApplyResult } from '../managed/apply.js';
import { ManagedCloud } from '../managed/cloud.js';
import { associateAddress, authorize, disassociateAddress, revoke, type OpResult } from '../managed/ops/index.js';
import type { AllocatedState, Rule, State } from '../managed/types.js';
import { EtcdStore } from '../store/etcd.js';
import { StatusWatch } from '../store/etcd-status-watch.js';
import { FileStore, update, type Store } from '../store/index.js';
import { DEMO_ETCD_CLOUD, DEMO_STATE_FILE } from './rundir.js';
import { agentArgs, AgentProcess, type HostAgent } from './agent-process.js';
import type { Role } from '../managed/roles/index.js';
import { demoClusters, ncNetns } from './topology.js';

export type DemoMode = 'agents' | 'direct';

/** A host of the demo: its name in logs ("cc", "cc2", "nc1"...), its role and its namespace. */
export interface DemoHost {
  name: string;
  role: Role;
  netns: string;
}

/**
 * The demo's hosts: each cluster's CC (`--cluster` named only when there are
 * several), then every node. One cluster: "cc" (euca-cc); two: "cc" and "cc2".
 */
export function demoHosts(state: AllocatedState): DemoHost[] {
  const clusters = demoClusters(state);
  const many = clusters.length > 1;
  return [
    ...clusters.map((c): DemoHost => ({
      name: c.ccNetns.slice('euca-'.length),
      role: many ? { role: 'cc', cluster: c.name } : { role: 'cc' },
      netns: c.ccNetns,
    })),
    ...clusters.flatMap((c) => Object.keys(c.view.nodes).map((node): DemoHost => ({ name: node, role: { role: 'nc', node }, netns: ncNetns(node) }))),
  ];
}

export interface Controller {
  readonly mode: DemoMode;
  /** Each returns once written (agents) or applied (direct), with the time it took in ms. */
  authorize(key: string, rule: Rule): Promise<number>;
  revoke(key: string, rule: Rule): Promise<number>;
  associate(ip: string, id: string): Promise<number>;
  disassociate(ip: string, id: string): Promise<number>;
  /** Waits until every host applied the last change (agents); the ms waited. */
  settled(timeoutMs?: number): Promise<number>;
  /** The agent of a host (agents mode): 'cc' or a node's name. */
  agent(host: string): HostAgent | undefined;
  /** On etcd: ms from the last operation returning to `host`'s status showing its revision applied. */
  propagation?(host: string): Promise<number>;
  stop(): Promise<void>;
}

const timed = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

/** The library's cloud over the demo's hosts, each operation applied before it returns. */
export class DirectController implements Controller {
  readonly mode = 'direct';
  private readonly cloud: ManagedCloud;

  constructor(private readonly state: AllocatedState) {
    this.cloud = new ManagedCloud(
      state,
      demoHosts(state).map((h) => ({ role: h.role, netns: h.netns })),
    );
  }

  /**
   * The cloud, through applyRole as `eucanet apply` runs it: the CC and each
   * NC in its own host namespace, side by side, as the real hosts would.
   * Returns the time it took.
   */
  async start(log: (l: string) => void): Promise<number> {
    const t0 = performance.now();
    const run = async (what: string, fn: () => Promise<ApplyResult>) => {
      const t = performance.now();
      const r = await fn();
      return { what, r, ms: performance.now() - t };
    };
    const done = await Promise.all(
      demoHosts(this.state).map((h) => run(h.role.role === 'cc' ? h.name.toUpperCase() : h.name, () => applyRole(this.state, h.role, { netns: h.netns }))),
    );
    const ms = performance.now() - t0;
    const parts = done.map(({ what, r, ms: all }) => {
      const commit = r.stats.reduce((n, x) => n + x.ms, 0);
      return `${what} ${r.ops} ops (committed in ${commit.toFixed(0)} ms${r.dhcp ? `, dnsmasq ${r.dhcp.action}` : ''}; ${all.toFixed(0)} ms in all)`;
    });
    log(`cloud applied by applyRole (--direct) in ${ms.toFixed(0)} ms: ${parts.join('; ')}`);
    return ms;
  }

  authorize = (key: string, rule: Rule) => timed(() => this.cloud.authorize(key, rule));
  revoke = (key: string, rule: Rule) => timed(() => this.cloud.revoke(key, rule));
  associate = (ip: string, id: string) => timed(() => this.cloud.associateAddress(ip, id));
  disassociate = (_ip: string, id: string) => timed(() => this.cloud.disassociateAddress(id));
  settled = () => Promise.resolve(0);
  agent = () => undefined;
  stop = () => Promise.resolve();
}

/**
 * One agent process per host over the store (the state file, or the demo's
 * etcd with --store etcd); the operations go through the store.
 */
export class AgentController implements Controller {
  readonly mode = 'agents';
  readonly store: Store;
  readonly agents = new Map<string, AgentProcess>();
  private version?: string;
  /** When the last operation's write returned (performance.now()). */
  private wroteAt = 0;
  private statusWatch?: StatusWatch;

  /** `spawned` is told each agent's pid as soon as it runs (the demo records it for `demo down`). */
  constructor(
    private readonly spawned: (pid: number) => void,
    readonly path = DEMO_STATE_FILE,
    /** How long each agent may take to start and finish its first sync (AgentProcess's default when undefined). */
    private readonly startMs?: number,
    private readonly etcd?: { url: string },
  ) {
    this.store = etcd ? new EtcdStore({ urls: [etcd.url], cloud: DEMO_ETCD_CLOUD }) : new FileStore(path);
    if (etcd) this.propagation = (host) => this.statusLag(host);
  }

  private where(): string | { etcd: string; cloud: string } {
    return this.etcd ? { etcd: this.etcd.url, cloud: DEMO_ETCD_CLOUD } : this.path;
  }

  /** Writes the initial state (replacing any), starts the agents and waits for each one's first sync. */
  async start(doc: State, demo: DemoHost[], log: (l: string) => void): Promise<number> {
    const t0 = performance.now();
    // On etcd: the state imported with the store (as `eucanet cloud put` does), and the agents' status watched.
    this.version = await this.store.write(doc);
    if (this.store instanceof EtcdStore) this.statusWatch = await StatusWatch.open(this.store, DEMO_ETCD_CLOUD);
    const hosts = demo.map((h): [string, AgentProcess] => [h.name, new AgentProcess(h.name, agentArgs(h.role, h.netns, this.where(), h.name), this.startMs)]);
    for (const [host, a] of hosts) this.agents.set(host, a);
    const syncs = await Promise.all(hosts.map(async ([host, a]) => [host, await a.start(this.spawned)] as const));
    const bad = syncs.filter(([, s]) => s.result !== 'ok');
    if (bad.length)
      throw new Error(`agents failed their first sync: ${bad.map(([h, s]) => `${h}: ${s.result} ${s.error ?? s.invalid?.message ?? ''}`).join('; ')}`);
    const ms = performance.now() - t0;
    log(
      `${hosts.length} eucanet agent processes (pids ${hosts.map(([, a]) => a.pid).join(' ')}) on ${this.store.name} applied version ${this.version} in ${ms.toFixed(0)} ms: ` +
        syncs.map(([h, s]) => `${h} ${s.ops} ops in ${s.ms.toFixed(0)} ms${s.dhcp ? ` (dnsmasq ${s.dhcp})` : ''}`).join('; '),
    );
    await this.settled();
    return ms;
  }

  private op(fn: (s: State) => OpResult): Promise<number> {
    return timed(async () => {
      this.version = (await update(this.store, fn)).version;
      this.wroteAt = performance.now();
    });
  }

  /** On etcd only (the agents publish their status there); undefined on the file store. */
  readonly propagation?: (host: string) => Promise<number>;

  private async statusLag(host: string): Promise<number> {
    if (!this.statusWatch || this.version === undefined) throw new Error('no status watch yet');
    return (await this.statusWatch.reached(host, Number(this.version), 10_000)) - this.wroteAt;
  }

  authorize = (key: string, rule: Rule) => this.op((s) => authorize(s, key, rule));
  revoke = (key: string, rule: Rule) => this.op((s) => revoke(s, key, rule));
  associate = (ip: string, id: string) => this.op((s) => associateAddress(s, ip, id));
  disassociate = (ip: string) => this.op((s) => disassociateAddress(s, ip));

  agent(host: string): HostAgent | undefined {
    return this.agents.get(host);
  }

  async settled(timeoutMs = 60_000): Promise<number> {
    const t0 = performance.now();
    const want = this.version;
    const lagging = () => [...this.agents].filter(([, a]) => a.current?.version !== want).map(([h]) => h);
    while (lagging().length) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`agents ${lagging().join(', ')} did not apply version ${want} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return performance.now() - t0;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    await this.statusWatch?.close();
    await this.store.close();
  }
}
