// `eucanet demo`: the seed's whole cloud in namespaces, brought up through the
// same applyRole that `eucanet apply` runs on a real CC and NC, proved with
// packets, torn down (unless kept).
//
// Order: choose the segmentation; make the namespaces and wires (topology.ts);
// apply the CC and NC roles and start the agents, side by side; DHCP in every
// instance; run the checks; remove everything. SIGINT and SIGTERM at any point
// remove everything too; so does a failed check. What was made is recorded in
// /run/eucanet/demo first, so that even a SIGKILLed demo can be removed by
// `eucanet demo down` (or by the next demo).
import { applyRole, type ApplyResult } from '../managed/apply.js';
import { ManagedCloud } from '../managed/cloud.js';
import type { AllocatedInstance, AllocatedState, State } from '../managed/types.js';
import { dhcpServerFor } from '../managed/apply.js';
import { findProgram } from '../dhcp/proc.js';
import { Agent } from './agents.js';
import { CC_UDP_PORT, PEER_PORT, PUB_UDP_PORT, runChecks, type CheckRow } from './checks.js';
import { runDhcpClient, type DhcpLease } from './dhcp-client.js';
import { chooseSegmentation, type SegmentationChoice } from './probe.js';
import { alive, readRecord, removeDemo, writeRecord, type RunRecord } from './rundir.js';
import { demoState, SEED_INSTANCES } from './state.js';
import { buildScaffolding, clcAddress, createNamespaces, demoNamespaces, Hosts, instanceNetns, ncNetns, NS_CC, NS_CLC, NS_PUB } from './topology.js';

/** Test-only breaks (hidden from the usage text): each makes one check fail on purpose. */
export type DemoBreak = 'ingress';

export interface DemoOptions {
  segmentation?: SegmentationChoice;
  /** Scale mode: this many instances (the seed's eight get namespaces, the rest taps). */
  instances?: number;
  keep?: boolean;
  break?: DemoBreak;
  /** Progress lines (to stderr in the CLI). */
  log?: (line: string) => void;
  /** Once the cloud is up, before the checks. */
  onUp?: (up: { segmentation: string; why: string; bringUpMs: number; applyMs: number; instances: number; sampled: number }) => void;
  /** Each check's row as soon as it is known. */
  onRow?: (row: CheckRow) => void;
}

export interface DemoReport {
  segmentation: string;
  /** The one line saying how the segmentation was chosen. */
  segmentationWhy: string;
  checks: CheckRow[];
  /** From the first namespace to every instance holding its DHCP lease. */
  bringUpMs: number;
  /** The CC and NC roles (applyRole, run side by side), dnsmasq's start included. */
  applyMs: number;
  instances: number;
  /** Instances brought up per second (instances / bringUpMs). */
  instancesPerSecond: number;
  /** Instances with a namespace, on which the checks ran. */
  sampled: number;
  totalMs: number;
  kept: boolean;
  passed: number;
  failed: number;
  break?: DemoBreak;
}

export class DemoInterrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}: everything the demo made is removed`);
  }
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
  const state = await demoState(segmentation, opts.instances ?? SEED_INSTANCES);
  const sample = state.instances.slice(0, SEED_INSTANCES);
  const namespaces = demoNamespaces(state, sample);

  const record: RunRecord = { pid: process.pid, kept: false, startedAt: new Date().toISOString(), segmentation, namespaces: [], agents: [] };
  const hosts = new Hosts();
  const agents = new Map<string, Agent>();
  let interrupted: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    log(`${sig}: stopping and removing everything`);
    abort.abort();
    wake?.();
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  // A signal aborts the DHCP clients at once, and stops waiting for the stage
  // in progress; teardown then lets that stage settle (bounded) before it
  // removes anything, so nothing it starts can outlive the teardown.
  const abort = new AbortController();
  let current: Promise<unknown> = Promise.resolve();
  const stage = <T>(p: Promise<T>): Promise<T> => {
    current = p.catch(() => undefined);
    if (interrupted) return Promise.reject(new DemoInterrupted(interrupted));
    return Promise.race([p, new Promise<never>((_, reject) => (wake = () => reject(new DemoInterrupted(interrupted!))))]);
  };

  let keep = false;
  /** Set once teardown begins: nothing may be added to the record after that. */
  let closing = false;
  try {
    writeRecord(record);
    const t0 = performance.now();
    log(`creating ${namespaces.length} namespaces: ${namespaces.join(' ')}`);
    createNamespaces(namespaces, (ns) => {
      record.namespaces.push(ns);
      writeRecord(record);
    });
    await stage(buildScaffolding(hosts, state, sample));

    // The cloud, through applyRole as `eucanet apply` runs it; --break ingress applies a CC without the default group's rule.
    const applied: AllocatedState = opts.break === 'ingress' ? withoutRules(state, sample[0]!.group) : state;
    const tApply = performance.now();
    // Each role in its own host namespace, side by side, as the real CC and NCs would.
    const timed = (what: string, run: () => Promise<ApplyResult>) => {
      const t = performance.now();
      return run().then((r) => ({ what, r, ms: performance.now() - t }));
    };
    const roles = [
      timed('CC', () => applyRole(applied, { role: 'cc' }, { netns: NS_CC })),
      ...Object.keys(state.nodes).map((node) => timed(node, () => applyRole(applied, { role: 'nc', node }, { netns: ncNetns(node) }))),
    ];
    let applyMs = 0;
    const rolesDone = Promise.all(roles).then((done) => {
      applyMs = performance.now() - tApply;
      const parts = done.map(({ what, r, ms }) => {
        const commit = r.stats.reduce((n, x) => n + x.ms, 0);
        const dhcp = r.dhcp ? `, dnsmasq ${r.dhcp.action}` : '';
        return `${what} ${r.ops} ops (committed in ${commit.toFixed(0)} ms${dhcp}; ${ms.toFixed(0)} ms in all)`;
      });
      log(`cloud applied by applyRole in ${applyMs.toFixed(0)} ms: ${parts.join('; ')}`);
      return done;
    });
    await stage(Promise.all([rolesDone, startAgents(state, sample, agents, record, () => closing)]));
    const leases = await stage(dhcpAll(sample, abort.signal));
    const bringUpMs = performance.now() - t0;
    opts.onUp?.({ segmentation, why, bringUpMs: Math.round(bringUpMs), applyMs: Math.round(applyMs), instances: state.instances.length, sampled: sample.length });

    const cloud = new ManagedCloud(applied as unknown as State, [
      { role: { role: 'cc' }, netns: NS_CC },
      ...Object.keys(state.nodes).map((node) => ({ role: { role: 'nc' as const, node }, netns: ncNetns(node) })),
    ]);
    const checks = await stage(
      runChecks(
        {
          state,
          sample: new Map(sample.map((i) => [i.id, i])),
          agents,
          leases,
          hosts,
          cloud,
          leaseFile: dhcpServerFor(NS_CC).paths.leases,
        },
        opts.onRow,
      ),
    );
    const passed = checks.filter((c) => c.pass).length;
    keep = !!opts.keep;
    return {
      segmentation,
      segmentationWhy: why,
      checks,
      bringUpMs: Math.round(bringUpMs),
      applyMs: Math.round(applyMs),
      instances: state.instances.length,
      instancesPerSecond: Math.round((state.instances.length / bringUpMs) * 1000 * 10) / 10,
      sampled: sample.length,
      totalMs: Math.round(performance.now() - tStart),
      kept: keep,
      passed,
      failed: checks.length - passed,
      ...(opts.break ? { break: opts.break } : {}),
    };
  } finally {
    if (interrupted) await Promise.race([current, new Promise((r) => setTimeout(r, 10_000).unref())]);
    closing = true;
    hosts.close();
    if (keep && !interrupted) {
      await Promise.all([...agents.values()].map((a) => a.detach()));
      record.kept = true;
      writeRecord(record);
    } else {
      await Promise.all([...agents.values()].map((a) => a.stop()));
      const gone = await removeDemo(record);
      // An agent whose start was still under way when a signal came stops as it arrives (startAgents).
      await Promise.all([...agents.values()].map((a) => a.stop()));
      log(`removed ${gone.namespaces.length} namespaces, ${agents.size} agents${gone.dnsmasq ? `, dnsmasq (pid ${gone.dnsmasq})` : ''}`);
    }
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
    // eslint-disable-next-line no-unsafe-finally
    if (interrupted) throw new DemoInterrupted(interrupted);
  }
}

function withoutRules(state: AllocatedState, group: string): AllocatedState {
  const s = structuredClone(state);
  for (const g of s.groups) if (`${g.owner}/${g.name}` === group) g.rules = [];
  return s;
}

/** One agent per host that serves or asks something in the checks. */
async function startAgents(state: AllocatedState, sample: AllocatedInstance[], agents: Map<string, Agent>, record: RunRecord, closing: () => boolean): Promise<void> {
  const clc = clcAddress(state);
  const jobs: Array<[string, Parameters<typeof Agent.start>[1]]> = [
    [NS_PUB, { name: NS_PUB, peer: PEER_PORT, udp: [PUB_UDP_PORT] }],
    [NS_CLC, { name: NS_CLC, metadata: clc.port }],
    [NS_CC, { name: NS_CC, udp: [CC_UDP_PORT] }],
    ...sample.map((i): [string, Parameters<typeof Agent.start>[1]] => [instanceNetns(i.id), { name: instanceNetns(i.id), id: i.id, banner: [22, 23], http: [80] }]),
  ];
  const started = await Promise.allSettled(
    jobs.map(async ([ns, cfg]) => {
      const a = await Agent.start(ns, cfg);
      if (closing()) {
        await a.stop();
        throw new Error(`agent in ${ns} started after the demo began to close`);
      }
      agents.set(ns, a);
      record.agents.push(a.pid);
      writeRecord(record);
    }),
  );
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  await agents.get(NS_CLC)!.metadata(Object.fromEntries(state.instances.map((i) => [i.privateIp, i.id])));
}

/** A DHCP client in every sampled instance, all at once; the leases by instance id. */
async function dhcpAll(sample: AllocatedInstance[], signal: AbortSignal): Promise<Map<string, DhcpLease>> {
  const leases = await Promise.all(sample.map((i) => runDhcpClient(instanceNetns(i.id), 'eth0', { attempts: 10, signal })));
  return new Map(sample.map((i, k) => [i.id, leases[k]!]));
}
