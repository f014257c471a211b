// The control plane over etcd (issue 17, "Measured"). One etcd on loopback
// (its own, free port, temp dir), a cloud of 5000 instances spread over 200
// nodes, and fleets of 3, 10 and 30 `eucanet agent --etcd` processes (one CC
// and NCs, each in its own namespace: the agents are real processes, each
// with its own store client, as deployed). The nodes that have an agent hold
// 25 instances each (a small topology per namespace); the CC has all 5000
// (NAT map, DHCP hosts). Side by side in one run:
// - propagation: the time from an operation (authorize/revoke on a group,
//   run-instance/terminate on an agent's node) returning to every agent's
//   status showing its revision applied (one watch on the status keys:
//   StatusWatch), p50, p90 and p99, and which host came last (lastHost: the
//   CC, nc0 where the instances run, or another NC) by kind of operation;
// - operations per second with 1 and 4 concurrent writers (authorize, each
//   rule distinct), and a count of the rules in the final state: none lost;
// - an agent's cold start to converged (process start to its status showing
//   the revision) vs `eucanet apply` of the same role (process start to exit),
//   each in a fresh namespace, for the CC (5000 instances) and an NC;
// - for one run-instance: the bytes written (the state keys the watch saw
//   change) and etcd's gRPC traffic in and out (its /metrics counters), the
//   agents' reads and status puts included.
//
// - with --vxlan-macs learn,static: the fleets measured with each setting of
//   the cloud's vxlanMacs in turn, the same agents (the setting written, every
//   agent converged and idle before the next series).
//
// - with --echo: the fleets are processes that only hear each version and put
//   their status (bench/lib/echo-agent.mjs, no eucanet work): the least this
//   benchmark's shape costs on the machine, to compare the agents with.
//
// Usage: node bench/control-plane.mjs [--agents 3,10,30] [--echo] [--etcd-dir DIR] [--instances 5000] [--ops 30] [--writes 20] [--cold N] [--phases] [--vxlan-macs learn,static] [--cli FILE] [--cold-base FILE] [--agent-node-args "..."] [--cold-node-args "..."]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { authorize, finish, revoke, runInstance, terminateInstance } from '../dist/managed/ops/index.js';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { EtcdStore } from '../dist/store/etcd.js';
import { StatusWatch } from '../dist/store/etcd-status-watch.js';
import { statePrefix } from '../dist/store/etcd-layout.js';
import { update } from '../dist/store/update.js';
import { allocatedCloudOf, NODES } from './lib/etcd-cloud.mjs';
import { startEtcd } from './lib/etcd.mjs';

/** @typedef {import('../dist/managed/types.js').State} State */

/** @param {string} k @param {string} d @returns {string} */
const arg = (k, d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
// --agents 0: the cold start comparison only.
const FLEETS = arg('agents', '3,10,30')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
// --cold N: the cold start comparison N times per role (the median is reported).
const COLD = Number(arg('cold', '1'));
// --phases: the cold agents and applies run with EUCANET_PHASES (src/util/phases.ts); each cold run then reports its first sync's phases and apply's.
const PHASES = process.argv.includes('--phases');
const N = Number(arg('instances', '5000'));
// --vxlan-macs learn,static: the cloud's vxlanMacs for each series of fleets (the first also for the cold starts); default the state's default.
const MACS = arg('vxlan-macs', 'learn').split(',');
if (!MACS.length || MACS.some((m) => m !== 'learn' && m !== 'static')) {
  throw new Error(`--vxlan-macs ${MACS.join(',')}: learn, static or both (comma-separated)`);
}
const OPS = Number(arg('ops', '30'));
const WRITES = Number(arg('writes', '20'));
// --agent-node-args "...": node's own flags for the fleet's agents (e.g. "--cpu-prof --cpu-prof-dir DIR" to see where their time goes).
const AGENT_NODE_ARGS = arg('agent-node-args', '').split(' ').filter(Boolean);
// --echo: the fleets are bench/lib/echo-agent.mjs processes instead of eucanet's agents (each hears every version and
// puts its status, over the same transport, and does nothing else): the floor of this benchmark's shape on this machine.
const ECHO = process.argv.includes('--echo');
const ECHO_AGENT = new URL('./lib/echo-agent.mjs', import.meta.url).pathname;
// --etcd-dir DIR: where etcd keeps its data (default the system's temporary directory; /dev/shm: in memory, no disk
// in its fsyncs). Each fleet reports etcd's WAL fsyncs per operation and their mean time (etcdWalFsync).
const ETCD_DIR = arg('etcd-dir', '');
// --cold-node-args "...": the same for the cold start's agents (e.g. "--cpu-prof --cpu-prof-dir DIR").
const COLD_NODE_ARGS = arg('cold-node-args', '').split(' ').filter(Boolean);
// --trace FILE: every agent's log lines and every operation (when it returned, when each host reached it), as JSON lines with wall-clock times (ms), to explain latencies.
const TRACE = arg('trace', '');
/** @type {string[]} */
const traced = [];
/** @param {Record<string, unknown>} o */
const trace = (o) => {
  if (TRACE) traced.push(JSON.stringify({ t: Date.now(), ...o }));
};
const CLOUD = 'bench';
// --cli FILE: the command line the agents and applies run (another build's dist/cli/main.js, for a side-by-side run); default this one.
const CLI = arg('cli', '') || new URL('../dist/cli/main.js', import.meta.url).pathname;
// --cold-base FILE: each cold run also with this build's command line (e.g. /tmp/base/dist/cli/main.js), the two alternated in order, reported as coldStartBase: a side-by-side comparison under the same load.
const COLD_BASE = arg('cold-base', '');
const TAG = `eucp${process.pid % 10000}`;
/** After a cold run's namespaces are deleted: the kernel's cleanup of them (see coldStart). */
const COLD_SETTLE_MS = 1500;
/** Clock ticks per second of /proc/PID/stat's times. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** @param {...string} a */
const ip = (...a) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
/** @param {number[]} xs @param {number} p */
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};
/** @param {number} x */
const r1 = (x) => Math.round(x * 10) / 10;

/**
 * What this run has made and not yet removed: the namespaces (with the
 * dnsmasq a CC agent started in each) and the agent processes. A SIGINT or
 * SIGTERM (a timeout's kill) removes them too (main()), not only the end of
 * the run.
 */
const live = { namespaces: new Set(/** @type {string[]} */ ([])), children: new Set(/** @type {import('node:child_process').ChildProcess[]} */ ([])) };

/** A host's namespace with its NICs (veth pairs: no dummy driver here). @param {string} ns */
function makeNs(ns) {
  live.namespaces.add(ns);
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'eth1', 'up');
}

/** Removes a namespace makeNs() made, the dnsmasq started in it and eucanet's files and records of it. @param {string} ns */
function dropNs(ns) {
  killDnsmasqOf(ns);
  spawnSync('ip', ['netns', 'del', ns]);
  rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
  dropSysctlRecordsOf(ns);
  live.namespaces.delete(ns);
}

/**
 * Ends an agent process (SIGTERM, then SIGKILL after 5 s) and waits for it.
 * @param {import('node:child_process').ChildProcess} child
 */
async function endChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const late = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(late);
  }
  live.children.delete(child);
}

/** A process's CPU time so far (user + system, ms), from /proc/PID/stat. @param {number | undefined} pid */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** A process's minor page faults so far (/proc/PID/stat's minflt): a fresh page costs this VM about 14 us. @param {number | undefined} pid */
function faultsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
}

/** CPU time (user + system, ms) of this process's children that were waited for (/proc/self/stat's cutime and cstime): a spawnSync'd command's CPU is the difference across it. */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK;
}

/** One `eucanet agent --etcd` process. */
class Agent {
  /** @param {string} host @param {string} ns @param {string} url */
  constructor(host, ns, url) {
    this.host = host;
    this.ns = ns;
    /** @type {number | undefined} */
    this.dnsmasq = undefined;
    const role = host === 'cc' ? ['--role', 'cc'] : ['--role', 'nc', '--node', host];
    const args = [CLI, 'agent', '--json', '--resync', '0', '--etcd', url, '--cloud', CLOUD, '--host', host, '--netns', ns, ...role];
    const echo = [ECHO_AGENT, url, CLOUD, host];
    this.child = spawn(process.execPath, [...AGENT_NODE_ARGS, ...(ECHO ? echo : args)], { stdio: ['ignore', 'pipe', 'inherit'] });
    live.children.add(this.child);
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      // A line that is not JSON (V8's own, from --agent-node-args "--trace-gc") goes to the trace as it is.
      if (!l.startsWith('{')) return trace({ host, raw: l });
      const o = JSON.parse(l);
      trace({ host, line: o });
      if (o.event === 'sync' && o.dnsmasqPid !== undefined) this.dnsmasq = o.dnsmasqPid;
      if (o.event === 'sync' && o.result === 'error') console.error(`${host}: sync error: ${o.error}`);
    });
  }
  /** The process's CPU time so far (user + system, ms), from /proc: what the agent costs whatever the machine's load. */
  cpuMs() {
    return cpuMsOf(this.child.pid);
  }
  /** The process's minor page faults so far. */
  faults() {
    return faultsOf(this.child.pid);
  }
  async stop() {
    await endChild(this.child);
    if (this.dnsmasq !== undefined) spawnSync('kill', [String(this.dnsmasq)]);
  }
}

/** This process's CPU (ms) in each propagation window. @type {number[]} */
const windowCpu = [];

/**
 * Writes `op`, then waits for every host's status to show its revision: ms from the write returning.
 * @param {EtcdStore} store @param {StatusWatch} watch @param {string[]} hosts @param {(s: State) => any} op
 */
async function propagate(store, watch, hosts, op, name = '') {
  const r = await update(store, op);
  const t0 = performance.now();
  const w0 = Date.now();
  const c0 = process.cpuUsage();
  const at = await Promise.all(hosts.map((h) => watch.reached(h, Number(r.version), 60_000)));
  // This process's own CPU while the operation propagated (the writer's store and the status watch compete with the agents for the cores).
  const c = process.cpuUsage(c0);
  windowCpu.push((c.user + c.system) / 1000);
  trace({
    op: name,
    version: r.version,
    returned: w0,
    reached: Object.fromEntries(hosts.map((h, i) => [h, r1(at[i] - t0)])),
    benchCpuMs: r1((c.user + c.system) / 1000),
  });
  const last = at.indexOf(Math.max(...at));
  lastHosts.push(hosts[last] ?? '');
  return Math.max(...at) - t0;
}

/** The host whose status came last, per propagate() call (in order): who sets an operation's propagation. @type {string[]} */
const lastHosts = [];

/**
 * Ends the dnsmasq a CC started for namespace `ns` (found by its configuration
 * file under /run/eucanet/<ns>/), whatever printed or did not print its pid.
 * @param {string} ns
 */
function killDnsmasqOf(ns) {
  const mark = `/run/eucanet/${ns}/`;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.startsWith('/usr/sbin/dnsmasq') && cmd.includes(mark)) spawnSync('kill', [pid]);
  }
}

/** Cold start of a role: the agent (spawn to its status at the revision) vs `eucanet apply` (spawn to exit), fresh namespaces. */
/** @param {string} url @param {StatusWatch} watch @param {number} rev @param {string} file @param {string} host @param {number} run @param {string} [cli] */
async function coldStart(url, watch, rev, file, host, run, cli = CLI) {
  const [nsA, nsB] = [`${TAG}ca`, `${TAG}cb`];
  makeNs(nsA);
  makeNs(nsB);
  try {
    // The agent publishes under its own --host name; its role is the host's.
    const role = host === 'cc' ? ['--role', 'cc'] : ['--role', 'nc', '--node', host];
    const name = `cold-${host}-${run}`;
    const env = PHASES ? { ...process.env, EUCANET_PHASES: '1' } : process.env;
    const t1 = performance.now();
    const child = spawn(
      process.execPath,
      [...COLD_NODE_ARGS, cli, 'agent', '--json', '--resync', '0', '--etcd', url, '--cloud', CLOUD, '--host', name, '--netns', nsA, ...role],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env,
      },
    );
    live.children.add(child);
    /** @type {number | undefined} */
    let dns;
    /** When the agent's first sync line came (ms since spawn), its own times, and its phases. @type {Record<string, unknown>} */
    const first = {};
    createInterface({ input: child.stdout }).on('line', (l) => {
      const o = JSON.parse(l);
      if (o.dnsmasqPid !== undefined) dns = o.dnsmasqPid;
      if (o.event === 'sync' && first.lineMs === undefined) {
        // The process's CPU when its first sync's line came (the status put is sent at that moment).
        let cpuMs;
        try {
          cpuMs = r1(cpuMsOf(child.pid));
        } catch {
          cpuMs = undefined;
        }
        Object.assign(first, { lineMs: r1(performance.now() - t1), cpuMs, syncMs: o.ms, syncCpuMs: o.cpuMs, ops: o.ops });
        if (o.phases) first.phases = o.phases;
      }
    });
    const agentMs = (await watch.reached(name, rev, 120_000)) - t1;
    // The agent's CPU to converged (user + system): what the machine's load does not change much.
    const agentCpuMs = r1(cpuMsOf(child.pid));
    // And once it is idle (under 20 ms of CPU in 500 ms, 10 s at most): what its start cost in all (the
    // check after its namespace watch began, the warm-up, etcd3's load), off the way to converged.
    for (let c0 = cpuMsOf(child.pid), t0 = performance.now(); performance.now() - t0 < 10_000;) {
      await new Promise((r) => setTimeout(r, 500));
      const c1 = cpuMsOf(child.pid);
      if (c1 - c0 < 20) break;
      c0 = c1;
    }
    const idleCpuMs = r1(cpuMsOf(child.pid));
    await endChild(child);
    if (dns !== undefined) spawnSync('kill', [String(dns)]);
    const t2 = performance.now();
    const c2 = childrenCpuMs();
    const ap = spawnSync(process.execPath, [cli, 'apply', '--state', file, '--netns', nsB, ...role], { encoding: 'utf8', env });
    const applyMs = performance.now() - t2;
    // apply's CPU, start to exit (the dnsmasq it starts is not its child once it has detached: not counted).
    const applyCpuMs = r1(childrenCpuMs() - c2);
    if (ap.status !== 0) throw new Error(`apply failed: ${ap.stderr}`);
    const pid = /dnsmasq[^\d]*(\d+)/.exec(ap.stdout)?.[1];
    if (pid) spawnSync('kill', [pid]);
    /** @type {{ host: string, agentMs: number, applyMs: number, ratio: number, agentCpuMs: number, applyCpuMs: number, idleCpuMs: number, firstSync: Record<string, unknown>, applyPhases?: unknown, applyCpuPhases?: unknown }} */
    const out = {
      host,
      agentMs: r1(agentMs),
      applyMs: r1(applyMs),
      ratio: Math.round((agentMs / applyMs) * 100) / 100,
      agentCpuMs,
      applyCpuMs,
      idleCpuMs,
      firstSync: first,
    };
    const ph = PHASES ? /^\{"phases".*$/m.exec(ap.stderr)?.[0] : undefined;
    if (ph) Object.assign(out, { applyPhases: JSON.parse(ph).phases, applyCpuPhases: JSON.parse(ph).cpu });
    if (PHASES) console.error(JSON.stringify(cli === CLI ? out : { ...out, base: cli }));
    return out;
  } finally {
    for (const ns of [nsA, nsB]) dropNs(ns);
    // The kernel dismantles a deleted namespace later, in its cleanup work, holding the RTNL lock while it
    // unregisters the bridges and VXLAN devices: the next run's first request (the agent's, which goes first)
    // waited 300-450 ms for it in 4 runs of 5, apply's never. Let it finish before the next run.
    await sleep(COLD_SETTLE_MS);
  }
}

/**
 * Medians of a role's cold runs.
 * @param {string} host @param {Awaited<ReturnType<typeof coldStart>>[]} runs
 */
function coldSummary(host, runs) {
  /** @param {(r: (typeof runs)[number]) => number} f */
  const med = (f) => pct(runs.map(f), 50);
  const agentMs = med((r) => r.agentMs);
  const applyMs = med((r) => r.applyMs);
  const agentCpuMs = med((r) => r.agentCpuMs);
  const applyCpuMs = med((r) => r.applyCpuMs);
  return {
    host,
    runs: runs.length,
    agentMs,
    applyMs,
    ratio: Math.round((agentMs / applyMs) * 100) / 100,
    agentCpuMs,
    applyCpuMs,
    cpuRatio: Math.round((agentCpuMs / applyCpuMs) * 100) / 100,
    firstSyncCpuMs: med((r) => Number(r.firstSync.cpuMs ?? NaN)),
    idleCpuMs: med((r) => r.idleCpuMs),
    // Each run: agent ms, apply ms, the agent's CPU ms at converged, at its first sync's line, once idle; apply's CPU ms.
    each: runs.map((r) => [r.agentMs, r.applyMs, r.agentCpuMs, r.firstSync.cpuMs, r.idleCpuMs, r.applyCpuMs]),
  };
}

/** W writers, each authorizing WRITES distinct rules at once; then counts them in the state. */
/** @param {EtcdStore} store @param {number} writers @param {number} base */
async function throughput(store, writers, base) {
  const t0 = performance.now();
  const retries = await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let n = 0;
      for (let i = 0; i < WRITES; i++) {
        const port = base + w * WRITES + i;
        n += (await update(store, (s) => authorize(s, 'admin/g1', { protocol: 'tcp', from: port, to: port, cidr: '0.0.0.0/0' }))).retries;
      }
      return n;
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const state = (await store.read()).state;
  const rules = state.groups?.find((g) => g.name === 'g1')?.rules ?? [];
  const landed = rules.filter((r) => r.from !== undefined && r.from >= base && r.from < base + writers * WRITES).length;
  return {
    writers,
    ops: writers * WRITES,
    opsPerSecond: r1((writers * WRITES) / s),
    lost: writers * WRITES - landed,
    retries: retries.reduce((a, b) => a + b, 0),
  };
}

/** One run-instance: the state keys written (seen by a watch on the state prefix) and etcd's gRPC traffic meanwhile. */
/** @param {EtcdStore} store @param {Awaited<ReturnType<typeof startEtcd>>} etcd @param {StatusWatch} watch @param {string[]} hosts @param {string} id */
async function oneRunInstance(store, etcd, watch, hosts, id) {
  const w = await store.client.watch().prefix(statePrefix(CLOUD)).create();
  let bytes = 0;
  let keys = 0;
  w.on('put', (kv) => {
    bytes += kv.key.length + kv.value.length;
    keys++;
  });
  await sleep(300);
  const before = await etcd.traffic();
  const ms = await propagate(store, watch, hosts, (s) => runInstance(s, { id, group: 'admin/g0', node: 'nc0' }));
  await sleep(300);
  const after = await etcd.traffic();
  await w.cancel();
  return {
    keysWritten: keys,
    bytesWritten: bytes,
    propagationMs: r1(ms),
    grpcInBytes: after.in - before.in,
    grpcOutBytes: after.out - before.out,
    agents: hosts.length,
  };
}

async function main() {
  /** What cleanup() removes besides the agents and namespaces (`live`), once it exists. */
  const made = /** @type {{ etcd?: Awaited<ReturnType<typeof startEtcd>>, store?: EtcdStore, dir?: string }} */ ({});
  /** @type {Agent[]} */
  const agents = [];
  /** @type {Promise<void> | undefined} */
  let cleaning;
  /** Removes everything the run made (once): at its end, and on SIGINT or SIGTERM. */
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(agents.map((a) => a.stop()));
      // A cold run's agent, if one was running.
      await Promise.all([...live.children].map(endChild));
      for (const ns of [...live.namespaces]) dropNs(ns);
      await made.store?.close().catch(() => undefined);
      await made.etcd?.stop();
      if (made.dir) rmSync(made.dir, { recursive: true, force: true });
      if (TRACE) writeFileSync(TRACE, traced.join('\n') + '\n');
    })());
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
    process.once(sig, () => {
      console.error(`control-plane: ${sig}, removing the agents, namespaces and etcd it started`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  const out = /** @type {Record<string, any>} */ ({ instances: N, nodes: NODES, cores: 2, fleets: [] });
  try {
    const etcd = (made.etcd = await startEtcd({ dir: ETCD_DIR }));
    const store = (made.store = new EtcdStore({ urls: [etcd.url], cloud: CLOUD, timeoutMs: 30_000 }));
    const dir = (made.dir = mkdtempSync(join(tmpdir(), 'eucanet-cp-')));
    chmodSync(dir, 0o711);
    const doc = allocatedCloudOf(N);
    if (MACS[0] === 'static') doc.vxlanMacs = 'static';
    out.vxlanMacs = MACS;
    const file = join(dir, 'cloud.json');
    writeFileSync(file, JSON.stringify(doc));
    const tImport = performance.now();
    await store.write(doc);
    out.importMs = r1(performance.now() - tImport);
    const watch = await StatusWatch.open(store, CLOUD);
    const rev0 = await store.revision();
    out.coldStart = [];
    if (COLD_BASE) out.coldStartBase = [];
    for (const host of ['cc', 'nc1']) {
      /** @type {Awaited<ReturnType<typeof coldStart>>[]} */
      const runs = [];
      /** @type {typeof runs} */
      const base = [];
      for (let i = 0; i < COLD; i++) {
        // With a base build, the two alternate which goes first.
        if (COLD_BASE && i % 2 === 0) base.push(await coldStart(etcd.url, watch, rev0, file, host, 2 * i, COLD_BASE));
        runs.push(await coldStart(etcd.url, watch, rev0, file, host, 2 * i + 1));
        if (COLD_BASE && i % 2 === 1) base.push(await coldStart(etcd.url, watch, rev0, file, host, 2 * i, COLD_BASE));
      }
      out.coldStart.push(coldSummary(host, runs));
      if (COLD_BASE) out.coldStartBase.push(coldSummary(host, base));
    }
    console.error(`cold start: ${JSON.stringify(out.coldStart)}`);
    if (COLD_BASE) console.error(`cold start (base ${COLD_BASE}): ${JSON.stringify(out.coldStartBase)}`);
    let port = 40000;
    for (const [series, size] of MACS.flatMap((m) => FLEETS.map((n) => /** @type {const} */ ([m, n])))) {
      const t0 = performance.now();
      if (series !== ((await store.read()).state.vxlanMacs ?? 'learn')) {
        await update(store, (s) => {
          const { vxlanMacs: _had, ...rest } = s;
          return finish(series === 'static' ? { ...rest, vxlanMacs: 'static' } : rest, () => []);
        });
      }
      const want = ['cc', ...Array.from({ length: size - 1 }, (_, k) => `nc${k}`)];
      const fresh = want.slice(agents.length);
      for (const host of fresh) {
        const ns = `${TAG}-${host}`;
        makeNs(ns);
        agents.push(new Agent(host, ns, etcd.url));
      }
      const rev = await store.revision();
      await Promise.all(want.map((h) => watch.reached(h, rev, 300_000)));
      const upMs = performance.now() - t0;
      // Then until the fleet is idle (its CPU under 0.2 core over half a second, at most 20 s): what an agent does
      // after its first sync (building the incremental check's counts, loading etcd3) is start-up, not propagation.
      const t1 = performance.now();
      for (let idle = false; !idle && performance.now() - t1 < 20_000;) {
        const c0 = agents.reduce((n, a) => n + a.cpuMs(), 0);
        await sleep(500);
        idle = agents.reduce((n, a) => n + a.cpuMs(), 0) - c0 < 100;
      }
      const settleMs = performance.now() - t1;
      /** @type {number[]} */
      const lat = [];
      const cpu0 = agents.map((a) => a.cpuMs());
      const faults0 = agents.map((a) => a.faults());
      const etcd0 = cpuMsOf(etcd.pid);
      const disk0 = await etcd.traffic();
      const self0 = process.cpuUsage();
      /** Each NC agent's CPU by kind of operation (ms, summed over the operations of that kind). @type {Record<string, number[]>} */
      const byKind = {};
      /** Per kind of operation, how often each came last: the CC, nc0 (the instances' node), another NC. @type {Record<string, { cc: number, nc0: number, otherNc: number }>} */
      const lastOf = {};
      const KINDS = ['authorize', 'revoke', 'runInstance', 'terminate'];
      for (let k = 0; k < OPS; k++) {
        const before = agents.map((a) => a.cpuMs());
        // In fours: authorize a rule, revoke it, run an instance, terminate it.
        const p = port + Math.floor(k / 4);
        const rule = { protocol: /** @type {'tcp'} */ ('tcp'), from: p, to: p, cidr: '0.0.0.0/0' };
        const id = `i-x${p}`;
        const op =
          k % 4 === 0
            ? (/** @type {State} */ s) => authorize(s, 'admin/g0', rule)
            : k % 4 === 1
              ? (/** @type {State} */ s) => revoke(s, 'admin/g0', rule)
              : k % 4 === 2
                ? (/** @type {State} */ s) => runInstance(s, { id, group: 'admin/g0', node: 'nc0' })
                : (/** @type {State} */ s) => terminateInstance(s, id);
        lat.push(await propagate(store, watch, want, op, `${series}:${size}:${k}:${KINDS[k % 4]}`));
        await sleep(250);
        const kind = KINDS[k % 4];
        const who = lastHosts.at(-1) ?? '';
        const byWho = (lastOf[kind] ??= { cc: 0, nc0: 0, otherNc: 0 });
        byWho[who === 'cc' ? 'cc' : who === 'nc0' ? 'nc0' : 'otherNc']++;
        const spent = agents.map((a, i) => a.cpuMs() - (before[i] ?? 0)).filter((_, i) => agents[i].host !== 'cc');
        byKind[kind] = (byKind[kind] ?? spent.map(() => 0)).map((x, i) => x + (spent[i] ?? 0));
      }
      // The median NC's CPU per operation of each kind (a version an NC's plan does not read costs it little).
      const ncByKind = Object.fromEntries(
        Object.entries(byKind).map(([kind, sums]) => {
          const n = Math.ceil((OPS - KINDS.indexOf(kind)) / 4);
          return [
            kind,
            r1(
              pct(
                sums.map((x) => x / n),
                50,
              ),
            ),
          ];
        }),
      );
      // CPU per operation of each agent while the operations propagated (the 250 ms pauses included: idle costs little).
      const perOp = agents.map((a, i) => (a.cpuMs() - cpu0[i]) / OPS);
      const ncs = perOp.filter((_, i) => agents[i].host !== 'cc').sort((a, b) => a - b);
      const cpuPerOp = {
        cc: r1(perOp[agents.findIndex((a) => a.host === 'cc')] ?? NaN),
        ncMedian: r1(ncs[Math.floor(ncs.length / 2)] ?? NaN),
        allAgents: r1(perOp.reduce((a, b) => a + b, 0)),
        // etcd's own CPU and this benchmark's (the writer and the status watch) per operation.
        etcd: r1((cpuMsOf(etcd.pid) - etcd0) / OPS),
        bench: r1(((u) => (u.user + u.system) / 1000 / OPS)(process.cpuUsage(self0))),
        // Of which while the operations propagated (from the write returning to the last host reaching it): median.
        benchInWindow: r1(pct(windowCpu.slice(-OPS), 50)),
        ncMedianByKind: ncByKind,
      };
      // Page faults per operation (the pauses included), the CC's, the median NC's and the fleet's.
      const faultsPerOp = agents.map((a, i) => (a.faults() - (faults0[i] ?? 0)) / OPS);
      const ncFaults = faultsPerOp.filter((_, i) => agents[i].host !== 'cc').sort((a, b) => a - b);
      const agentFaultsPerOp = {
        cc: r1(faultsPerOp[agents.findIndex((a) => a.host === 'cc')] ?? NaN),
        ncMedian: r1(ncFaults[Math.floor(ncFaults.length / 2)] ?? NaN),
        allAgents: r1(faultsPerOp.reduce((a, b) => a + b, 0)),
      };
      const disk1 = await etcd.traffic();
      const fsyncs = disk1.fsyncs - disk0.fsyncs;
      const etcdWalFsync = { perOp: r1(fsyncs / OPS), meanMs: fsyncs ? Math.round(((disk1.fsyncSeconds - disk0.fsyncSeconds) / fsyncs) * 1e5) / 100 : null };
      port += Math.ceil(OPS / 4);
      const one = [await throughput(store, 1, port), await throughput(store, 4, port + 1000)];
      port += 2000;
      const bytes = await oneRunInstance(store, etcd, watch, want, `i-b${series}${size}`);
      const fleet = {
        vxlanMacs: series,
        agents: size,
        upMs: r1(upMs),
        settleMs: r1(settleMs),
        propagation: { ops: OPS, p50: r1(pct(lat, 50)), p90: r1(pct(lat, 90)), p99: r1(pct(lat, 99)), max: r1(Math.max(...lat)) },
        // Which host came last, by kind of operation: the CC, nc0 (the node the instances run on) or another NC.
        lastHost: lastOf,
        agentCpuMsPerOp: cpuPerOp,
        agentFaultsPerOp,
        etcdWalFsync,
        writers: one,
        runInstance: bytes,
        statusPuts: watch.events,
      };
      console.error(JSON.stringify(fleet));
      out.fleets.push(fleet);
    }
    await watch.close();
  } finally {
    await cleanup();
  }
  console.log(JSON.stringify(out, null, 2));
}

await main();
