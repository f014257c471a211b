// `eucanet demo`: the seed's whole cloud in namespaces, run by one eucanet
// agent per host (the CC and each NC, each on its host's namespace) over a
// state file that the demo's cloud controller changes with the operations
// (control.ts); proved with packets, torn down (unless kept). --direct: the
// library's ManagedCloud applies every host itself instead (the comparison).
// --clusters 2: a second cluster (its CC, switch and node: state.ts,
// topology.ts) joins the seed's, with one agent per host and checks 12-15.
//
// Order: choose the segmentation; make the namespaces and wires (topology.ts);
// write the state and start the agents (they converge), and the responders,
// side by side; DHCP in every instance; run the checks; remove everything. SIGINT and SIGTERM at any point
// remove everything too; so does a failed check. What was made is recorded in
// /run/eucanet/demo first, so that even a SIGKILLed demo can be removed by
// `eucanet demo down` (or by the next demo).
export { DemoInterrupted } from './session.js';
import { allocate } from '../managed/allocate.js';
import type { AllocatedInstance, AllocatedState, State } from '../managed/types.js';
import { AgentController, demoHosts, DirectController, type DemoMode } from './control.js';
import { startDemoEtcd } from './etcd.js';
import { dhcpServerFor } from '../managed/apply.js';
import { findProgram } from '../dhcp/proc.js';
import { Responder } from './responders.js';
import { CC_UDP_PORT, MOVE_UDP_PORT, PEER_PORT, PUB_UDP_PORT, runChecks, type CheckRow } from './checks.js';
import { runDhcpClient, type DhcpLease } from './dhcp-client.js';
import { chooseSegmentation, type SegmentationChoice } from './probe.js';
import { alive, readRecord, removeDemo, writeRecord, type RunRecord } from './rundir.js';
import { DemoInterrupted, Session } from './session.js';
import { demoDoc, SEED_INSTANCES } from './state.js';
import {
  buildScaffolding,
  clcAddress,
  clusterOfInstance,
  createNamespaces,
  demoClusters,
  demoNamespaces,
  Hosts,
  instanceNetns,
  NS_CLC,
  NS_PUB,
} from './topology.js';
import { must } from '../util/must.js';

/**
 * Test-only breaks (hidden from the usage text): each makes one check fail on
 * purpose. ingress: the default group without its rule (check 1); tunnels
 * (--clusters 2): the second cluster's tunnelAddress an address that no CC
 * holds (TUNNEL_NOWHERE), so the tunnels join nothing (check 12).
 */
export type DemoBreak = 'ingress' | 'tunnels';

export interface DemoOptions {
  segmentation?: SegmentationChoice;
  /** Scale mode: this many instances (the seed's eight get namespaces, the rest taps). */
  instances?: number;
  /** 1 (the seed's cloud, the default) or 2: a second cluster with its own CC and NC joins it (checks 12-15). */
  clusters?: number;
  keep?: boolean;
  /** The library's ManagedCloud applies every host (no agents, no store): the comparison. */
  direct?: boolean;
  /** Where the agents' state is: the state file (default), or an etcd the demo starts and removes. */
  store?: 'file' | 'etcd';
  break?: DemoBreak;
  /**
   * How long each helper process may take to start: each agent to start and
   * finish its first sync (default 120 s), each responder to answer (default
   * 20 s). The VLAN lane's emulated VM on a busy host needs more.
   */
  startMs?: number;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
  /** Once the cloud is up, before the checks. */
  onUp?: (up: {
    segmentation: string;
    why: string;
    mode: DemoMode;
    bringUpMs: number;
    applyMs: number;
    instances: number;
    sampled: number;
    clusters: number;
  }) => void;
  /** Each check's row as soon as it is known. */
  onRow?: (row: CheckRow) => void;
}

export interface DemoReport {
  segmentation: string;
  /** The one line saying how the segmentation was chosen. */
  segmentationWhy: string;
  /** agents (the default): the operations go through the store, one agent per host applies them; direct: ManagedCloud. */
  mode: DemoMode;
  /** The store the agents watched (agents mode). */
  store: 'file' | 'etcd';
  checks: CheckRow[];
  /** From the first namespace to every instance holding its DHCP lease. */
  bringUpMs: number;
  /** From writing the state to every agent's first sync done (direct: the roles applied side by side), dnsmasq's start included. */
  applyMs: number;
  instances: number;
  /** Instances brought up per second (instances / bringUpMs). */
  instancesPerSecond: number;
  /** Instances with a namespace, on which the checks ran. */
  sampled: number;
  /** Clusters in the cloud (--clusters). */
  clusters: number;
  totalMs: number;
  kept: boolean;
  passed: number;
  failed: number;
  break?: DemoBreak;
}

/** Refuses to start over a running or kept demo; clears one left by a crash. */
async function clearStale(log: (l: string) => void): Promise<void> {
  const r = readRecord();
  if (!r) return;
  if (r.pid !== process.pid && alive(r.pid) && !r.kept) throw new Error(`a demo is already running (pid ${r.pid})`);
  if (r.kept) throw new Error(`a kept demo is up (${r.segmentation}, started ${r.startedAt}): remove it first with eucanet demo down`);
  log(`removing what a demo (pid ${r.pid}) left behind when it died`);
  await removeDemo(r);
}

/** What the demo needs from the system, checked before anything is made. */
function preflight(): void {
  if (process.getuid?.() !== 0) throw new Error('the demo needs root: it makes network namespaces (run it as root, e.g. with sudo)');
  const need: Array<[string, string]> = [
    ['nsenter', 'util-linux'],
    ['busybox', 'busybox-static'], // udhcpc, the DHCP client; ping
    ['dnsmasq', 'dnsmasq-base'],
  ];
  const missing = need.filter(([bin]) => !findProgram(bin));
  if (missing.length) {
    throw new Error(`the demo needs ${missing.map(([b]) => b).join(', ')}: apt-get install ${missing.map(([, p]) => p).join(' ')}`);
  }
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const log = opts.log ?? (() => undefined);
  const tStart = performance.now();
  preflight();
  await clearStale(log);
  const { segmentation, why } = await chooseSegmentation(opts.segmentation ?? 'auto');
  log(why);
  const doc = await demoDoc(segmentation, opts.instances ?? SEED_INSTANCES, opts.clusters ?? 1);
  const state = allocate(doc);
  const clusters = demoClusters(state);
  // The seed's eight, and every instance of the other clusters (they come last).
  const sample = state.instances.filter((i, k) => k < SEED_INSTANCES || clusterOfInstance(state, i).index > 0);
  const namespaces = demoNamespaces(state, sample);
  // --break (tests only): the hosts get a broken state (run.ts's DemoBreak).
  const appliedDoc = broken(doc, opts.break, sample[0].group);
  const mode: DemoMode = opts.direct ? 'direct' : 'agents';

  const record: RunRecord = { pid: process.pid, kept: false, startedAt: new Date().toISOString(), segmentation, namespaces: [], responders: [], agents: [] };
  const hosts = new Hosts();
  const responders = new Map<string, Responder>();
  const onAgent = (pid: number) => {
    record.agents.push(pid);
    writeRecord(record);
  };
  // --store etcd: the demo's own etcd (loopback, a free port, data in the run dir), stopped and removed at the end.
  const store = opts.direct ? 'file' : (opts.store ?? 'file');
  const etcd =
    store === 'etcd'
      ? await startDemoEtcd((pid) => {
          record.etcd = pid;
          writeRecord(record);
        })
      : undefined;
  if (etcd) log(`etcd on ${etcd.url} (pid ${etcd.pid}), data in the demo's run directory`);
  const ctl = opts.direct ? new DirectController(allocate(appliedDoc)) : new AgentController(onAgent, undefined, opts.startMs, etcd);
  const session = new Session(log);
  let keep = false;
  try {
    writeRecord(record);
    const t0 = performance.now();
    log(`creating ${namespaces.length} namespaces: ${namespaces.join(' ')}`);
    createNamespaces(namespaces, (ns) => {
      record.namespaces.push(ns);
      writeRecord(record);
    });
    await session.stage(buildScaffolding(hosts, state, sample));
    const converge = ctl instanceof AgentController ? ctl.start(appliedDoc, demoHosts(state), log) : ctl.start(log);
    const [applyMs] = await session.stage(Promise.all([converge, startResponders(state, sample, responders, record, () => session.closing, opts.startMs)]));
    const leases = await session.stage(dhcpAll(sample, session.signal));
    const bringUpMs = performance.now() - t0;
    opts.onUp?.({
      segmentation,
      why,
      mode,
      bringUpMs: Math.round(bringUpMs),
      applyMs: Math.round(applyMs),
      instances: state.instances.length,
      sampled: sample.length,
      clusters: clusters.length,
    });

    const leaseFiles = new Map(clusters.map((c) => [c.name, dhcpServerFor(c.ccNetns).paths.leases]));
    const checks = await session.stage(
      runChecks({ state, sample: new Map(sample.map((i) => [i.id, i])), clusters, responders, leases, hosts, ctl, leaseFiles }, opts.onRow),
    );
    const passed = checks.filter((c) => c.pass).length;
    keep = !!opts.keep;
    return {
      segmentation,
      segmentationWhy: why,
      mode,
      store,
      checks,
      bringUpMs: Math.round(bringUpMs),
      applyMs: Math.round(applyMs),
      instances: state.instances.length,
      instancesPerSecond: Math.round((state.instances.length / bringUpMs) * 1000 * 10) / 10,
      sampled: sample.length,
      clusters: clusters.length,
      totalMs: Math.round(performance.now() - tStart),
      kept: keep,
      passed,
      failed: checks.length - passed,
      ...(opts.break ? { break: opts.break } : {}),
    };
  } finally {
    await session.settle();
    // The agents stop and leave the network as it is (a kept demo stays up without them).
    await ctl.stop().catch((err: Error) => log(`stopping the agents: ${err.message}`));
    await etcd?.stop().catch((err: Error) => log(`stopping etcd: ${err.message}`));
    hosts.close();
    if (keep && !session.interrupted) {
      await Promise.all([...responders.values()].map((a) => a.detach()));
      record.kept = true;
      writeRecord(record);
    } else {
      await Promise.all([...responders.values()].map((a) => a.stop()));
      const gone = await removeDemo(record);
      log(
        `removed ${gone.namespaces.length} namespaces, ${responders.size} responders${gone.agents ? `, ${gone.agents} agents still running` : ''}${gone.dnsmasq.length ? `, dnsmasq (pid ${gone.dnsmasq.join(', ')})` : ''}`,
      );
    }
    session.end();
    // eslint-disable-next-line no-unsafe-finally
    if (session.interrupted) throw new DemoInterrupted(session.interrupted);
  }
}

/** On the public network, held by no host. */
const TUNNEL_NOWHERE = '192.168.32.99';

function broken(doc: State, how: DemoBreak | undefined, group: string): State {
  if (how === undefined) return doc;
  const s = structuredClone(doc);
  if (how === 'ingress') for (const g of s.groups ?? []) if (`${g.owner}/${g.name}` === group) g.rules = [];
  if (how === 'tunnels') {
    if (!s.clusters) throw new Error('the tunnels break needs --clusters 2');
    s.clusters.c2.cc.tunnelAddress = TUNNEL_NOWHERE;
  }
  return s;
}

/** One responder per host that serves or asks something in the checks. */
async function startResponders(
  state: AllocatedState,
  sample: AllocatedInstance[],
  responders: Map<string, Responder>,
  record: RunRecord,
  closing: () => boolean,
  startMs?: number,
): Promise<void> {
  const clc = clcAddress(state);
  const jobs: Array<[string, Parameters<typeof Responder.start>[1]]> = [
    [NS_PUB, { name: NS_PUB, peer: PEER_PORT, udp: [PUB_UDP_PORT] }],
    [NS_CLC, { name: NS_CLC, metadata: clc.port }],
    ...demoClusters(state).map((c): [string, Parameters<typeof Responder.start>[1]] => [c.ccNetns, { name: c.ccNetns, udp: [CC_UDP_PORT] }]),
    ...sample.map((i): [string, Parameters<typeof Responder.start>[1]] => [
      instanceNetns(i.id),
      { name: instanceNetns(i.id), id: i.id, banner: [22, 23], http: [80], udpEcho: [MOVE_UDP_PORT] },
    ]),
  ];
  const started = await Promise.allSettled(
    jobs.map(async ([ns, cfg]) => {
      const a = await Responder.start(ns, cfg, startMs);
      if (closing()) {
        await a.stop();
        throw new Error(`responder in ${ns} started after the demo began to close`);
      }
      responders.set(ns, a);
      record.responders.push(a.pid);
      writeRecord(record);
    }),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  await must(responders.get(NS_CLC), 'the CLC responder').metadata(Object.fromEntries(state.instances.map((i) => [i.privateIp, i.id])));
}

/** A DHCP client in every sampled instance, all at once; the leases by instance id. */
async function dhcpAll(sample: AllocatedInstance[], signal: AbortSignal): Promise<Map<string, DhcpLease>> {
  const leases = await Promise.all(sample.map((i) => runDhcpClient(instanceNetns(i.id), 'eth0', { attempts: 10, signal })));
  return new Map(sample.map((i, k) => [i.id, leases[k]]));
}
