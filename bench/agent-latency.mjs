// The agent's write-to-enforcement latency (issue 16, "Measured").
//
// A CC agent and an NC agent (in-process `Agent`s from dist/, each with its own
// handle into its own namespace) watch one file store holding a cloud of N
// instances, all on node nc1. For each operation (revoke, authorize,
// run-instance, associate-address) many runs: the operation is written through
// the store (update()), and the latency is the time from update() returning
// (or from the start of the agent's sync for that version, if it started
// earlier: in-process agents run between update()'s own awaits) to the 'sync'
// event of the enforcing agent(s) for that version with result ok (the event
// fires after the kernel acknowledged the sync's messages):
//   revoke, authorize, associate-address: the CC (nft rule / map element);
//   run-instance: both (the NC's tap in its bridge; the CC's FDB entry, and
//   its DHCP host written to a file that dnsmasq reads (its hosts directory,
//   read through inotify): the file written counts, dnsmasq reading it a few
//   ms later does not).
// The undo of a run-instance (terminate) makes dnsmasq reload after the sync
// (SIGHUP, 5000 hosts re-read): that reload is not timed.
// After each run, outside the timing, the kernel is read with `nft -j` and
// `ip -j` to check the change is really there (the run fails otherwise).
// Each operation is undone (unmeasured) before the next run. The operations
// start once both agents logged the end of their warm-up (`warmed-up`).
// Then the agents' idle CPU over 20 s right after the last operation and over
// the 20 s after that (process CPU time from /proc/PID/stat: with --procs the
// sum of the two agent processes and each one's own) and their RSS.
//
// Usage: node bench/agent-latency.mjs [--sizes 8,5000] [--runs 30] [--idle 20]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { Agent } from '../dist/agent/agent.js';
import { StoreSource } from '../dist/agent/store-source.js';
import { authorize, revoke, runInstance, terminateInstance, allocateAddress, associateAddress, disassociateAddress } from '../dist/managed/ops/index.js';
import { phase, phaseTimes } from '../dist/util/phases.js';
import { FileStore } from '../dist/store/file.js';
import { applyRole, planDhcp } from '../dist/managed/apply.js';
import { planRole } from '../dist/managed/roles/index.js';
import { allocate } from '../dist/managed/allocate.js';
import { withAllocations } from '../dist/managed/document.js';
import { update } from '../dist/store/update.js';
import { writeFileAtomic } from '../dist/util/file.js';
import { formatState } from '../dist/managed/statefile.js';
import { must } from '../dist/util/must.js';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';

/** @typedef {{ role: 'cc' } | { role: 'nc', node: string }} Role */
/** @typedef {{ event?: string, version?: string, result: string, error?: string, dnsmasqPid?: number }} SyncLine */
/** @typedef {import('../dist/managed/types.js').State} State */
/** @typedef {(s: State) => any} Op */
/** @typedef {ProcAgent | Agent} AnyAgent */

/** @param {string} k @param {string} d @returns {string} */
const arg = (k, d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
const SIZES = arg('sizes', '8,5000').split(',').map(Number);
const RUNS = Number(arg('runs', '30'));
const IDLE_S = Number(arg('idle', '20'));
// --procs: each agent is its own `eucanet agent --json` process (as deployed),
// its syncs read from its log; else both are Agent objects in this process,
// sharing its one JS thread with each other and with the writer.
const PROCS = process.argv.includes('--procs');

/** `eucanet agent` as a child process, looking like an Agent to this file: role, 'sync' events, start(), stop(). */
class ProcAgent extends EventEmitter {
  /** @param {Role} role @param {string} ns @param {string} file */
  constructor(role, ns, file) {
    super();
    this.role = role;
    /** @type {number | undefined} */
    this.dnsmasqPid = undefined;
    const args = ['dist/cli/main.js', 'agent', '--json', '--resync', '0', '--state', file, '--netns', ns, '--role', role.role];
    if (role.role === 'nc') args.push('--node', role.node);
    // EUCANET_AGENT_NODE_FLAGS: node flags for the agent children (e.g. --trace-gc: its lines are echoed on stderr).
    const flags = (process.env.EUCANET_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, [...flags, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.pid = this.child.pid;
    createInterface({ input: this.child.stdout }).on('line', (l) => {
      if (!l.startsWith('{')) return void console.error(`${role.role} ${performance.now().toFixed(0)}: ${l}`);
      const o = JSON.parse(l);
      // EUCANET_BENCH_LOG=1: every log line of the agents on stderr, with the time (what ran when: a resync, a retry).
      if (process.env.EUCANET_BENCH_LOG) console.error(`${role.role} ${performance.now().toFixed(0)}: ${l}`);
      if (o.event === 'warmed-up') return void this.emit('warmed-up', o);
      if (o.event !== 'sync') return;
      if (o.dnsmasqPid !== undefined) this.dnsmasqPid = o.dnsmasqPid;
      this.emit('sync', o);
    });
  }
  /** @returns {Promise<SyncLine>} */
  start() {
    return new Promise((resolve) => this.once('sync', resolve));
  }
  async stop() {
    if (this.child.exitCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}
const PER_GROUP = 900; // a bridge takes at most 1024 ports
/**
 * The dnsmasq an agent started (the in-process Agent keeps it in a private field).
 * @param {AnyAgent} a
 * @returns {number | undefined}
 */
const dnsmasqPidOf = (a) => /** @type {{ dnsmasqPid?: number }} */ (/** @type {unknown} */ (a)).dnsmasqPid;
/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** @param {...string} a */
const ip = (...a) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/**
 * N instances on nc1, in groups of at most PER_GROUP.
 * @param {number} n
 */
export function cloudOf(n) {
  const groups = Array.from({ length: Math.max(2, Math.ceil(n / PER_GROUP)) }, (_, g) => ({
    owner: 'admin',
    name: `g${g}`,
    rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }],
  }));
  const instances = Array.from({ length: n }, (_, k) => ({ id: `i-${k}`, group: `admin/g${k % groups.length}`, node: 'nc1', port: `vn${k}` }));
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/8',
    addrsPerNet: 1024,
    vlanRange: [10, 4094],
    publicIps: ['172.16.0.1-172.16.3.250'],
    dns: '192.168.32.1',
    macPrefix: 'd0:0d',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '192.168.100.1/24' },
    nodes: { nc1: { privateInterface: 'eth0', underlay: '192.168.100.11/24' } },
    groups,
    instances,
  };
}

/**
 * cloudOf(n) as the operations write a state: every allocation explicit (each
 * instance's private address and MAC, each group's VLAN and subnet). Else
 * the first operation's write (which writes them all) changes all n
 * instances at once, and that first version costs the agents a check and
 * allocation of every instance: a one-off of a hand-written file, not the
 * cost of an operation.
 * @param {number} n
 */
export function allocatedCloudOf(n) {
  const c = cloudOf(n);
  return withAllocations(c, allocate(/** @type {State} */ (/** @type {unknown} */ (c))));
}

/** @param {number[]} xs @param {number} p */
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

/** @param {string} ns @param {...string} what @returns {any[]} */
function nftJson(ns, ...what) {
  return JSON.parse(execFileSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', ...what]).toString()).nftables;
}
/** @param {string} ns @param {string} chain @param {number} port */
const chainHasPort = (ns, chain, port) =>
  nftJson(ns, 'chain', 'ip', 'eucanet', chain).some((o) => o.rule && JSON.stringify(o.rule.expr).includes(`"right":${port}`));
/** @param {string} ns @param {string} pub */
const mapHas = (ns, pub) => JSON.stringify(nftJson(ns, 'map', 'ip', 'eucanet', 'pub2priv')).includes(`"${pub}"`);
/**
 * True when the CC's DHCP state directory holds the hosts line of instance `id` in its hosts directory or hosts file.
 * @param {string} stateDir @param {string} id
 */
function dhcpHas(stateDir, id) {
  /** @param {string} p */
  const has = (p) => readFileSync(p, 'utf8').includes(`,${id}\n`);
  return has(join(stateDir, 'hosts')) || readdirSync(join(stateDir, 'hosts.d')).some((f) => has(join(stateDir, 'hosts.d', f)));
}
/** @param {string} ns @param {string} port @returns {string | undefined} */
const tapIn = (ns, port) => JSON.parse(ip('-n', ns, '-j', 'link', 'show', 'dev', port))[0]?.master;

/** Every sync event of every agent, with its time: a sync may end before update() hands back its version. */
/** @type {Map<AnyAgent, Array<SyncLine & { at: number }>>} */
const seen = new Map();
/** @param {AnyAgent} a */
function record(a) {
  seen.set(a, []);
  /** @type {EventEmitter} */ (/** @type {unknown} */ (a)).on('sync', (/** @type {SyncLine} */ r) => {
    // A failed sync is retried with backoff (100 ms doubling): say why it failed, it is a latency's tail.
    if (r.result === 'error') console.error(`${a.role.role}: sync failed (retried with backoff): ${r.error}`);
    must(seen.get(a), 'the syncs seen of an agent').push({ ...r, at: performance.now() });
  });
}

/** Where each agent's sync list ends now: versions repeat (content hashes), only later syncs count. */
/** @param {AnyAgent[]} agents */
const marks = (agents) => new Map(agents.map((a) => [a, must(seen.get(a), 'the syncs seen of an agent').length]));

/** Waits for each agent's sync of `version`; resolves with its time per agent. */
/**
 * @param {AnyAgent[]} agents @param {string} version @param {Map<AnyAgent, number>} mark
 * @returns {Promise<Array<{ at: number, ms: number, cpuMs: number, role: string, phases?: Record<string, string> }>>} when each agent's sync ended (here), how long it ran (its own clock), its CPU time and (EUCANET_PHASES=1) its phases
 */
async function syncedAt(agents, version, mark) {
  const t0 = performance.now();
  const out = [];
  for (const a of agents) {
    for (;;) {
      const r = must(seen.get(a), 'the syncs seen of an agent')
        .slice(mark.get(a))
        .find((x) => x.version === version);
      if (r) {
        if (r.result !== 'ok') throw new Error(`${a.role.role}: sync ${r.result}: ${r.error}`);
        const x = /** @type {{ ms?: number, cpuMs?: number, phases?: Record<string, string> }} */ (r);
        out.push({ at: r.at, ms: Number(x.ms ?? 0), cpuMs: Number(x.cpuMs ?? NaN), role: a.role.role, ...(x.phases ? { phases: x.phases } : {}) });
        break;
      }
      if (performance.now() - t0 > 60_000) throw new Error(`${a.role.role}: version ${version} not applied in 60 s`);
      await sleep(1);
    }
  }
  return out;
}

/** @type {string[][]} each measured run's enforcing syncs' own durations and CPU times ("ms(cpuMs)"), in run order */
const syncMs = [];
/** @type {string[]} with EUCANET_PHASES=1 and --samples: each measured run's enforcing syncs' phases ("wall/cpu" ms), in run order */
const syncPhases = [];

/** One measured operation: write, wait for enforcement, check the kernel; then undo (unmeasured). */
/**
 * @param {FileStore} store @param {AnyAgent[]} agents @param {Op} op @param {() => void} check @param {Op} [undo]
 */
async function measure(store, agents, op, check, undo) {
  let m = marks(agents);
  const r = await update(store, op);
  const t0 = performance.now();
  const at = await syncedAt(agents, r.version, m);
  check();
  if (undo) {
    m = marks(agents);
    await syncedAt(agents, (await update(store, undo)).version, m);
  }
  await sleep(250); // past the agents' minGapMs
  // From the write landing: update() returning, or, when an agent's sync for
  // the version started before that (in-process agents run on the writer's
  // thread, between update()'s last awaits), that sync's start: else the
  // in-process numbers missed up to a whole sync's time.
  const start = Math.min(t0, ...at.map((x) => x.at - x.ms));
  syncMs.push(at.map((x) => `${x.ms}(${x.cpuMs})`));
  for (const x of at)
    if (x.phases)
      syncPhases.push(
        `${x.role} ${x.ms}(${x.cpuMs}): ${Object.entries(x.phases)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
  return Math.max(...at.map((x) => x.at)) - start;
}

/** @param {number} n */
async function oneSize(n) {
  const dir = mkdtempSync(join(tmpdir(), 'eucanet-agentlat-'));
  chmodSync(dir, 0o711); // dnsmasq re-reads its hosts file as nobody
  const file = join(dir, 'cloud.json');
  // As the operations write it (formatState: the file's own format), else the
  // first operation's write re-formats every byte and its version is parsed whole.
  await writeFileAtomic(file, formatState(allocatedCloudOf(n)));
  const cc = `eualc${process.pid}`;
  const nc = `eualn${process.pid}`;
  ip('netns', 'add', cc);
  ip('netns', 'add', nc);
  const store = new FileStore(file);
  /** @type {AnyAgent[]} */
  const agents = [];
  // If the process ends first (^C, SIGTERM): the agent processes, their dnsmasq, the namespaces and files.
  const forget = atExit(() => {
    for (const a of agents) {
      if (a instanceof ProcAgent && a.child.exitCode === null) a.child.kill('SIGKILL');
      const pid = dnsmasqPidOf(a);
      if (pid) spawnSync('kill', [String(pid)]);
    }
    for (const ns of [cc, nc]) {
      spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      dropSysctlRecordsOf(ns);
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/run/eucanet/${cc}`, { recursive: true, force: true });
  });
  try {
    // No dummy driver here: veth pairs stand in for the NICs.
    ip('-n', cc, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
    ip('-n', nc, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9');
    for (const [ns, d] of [
      [cc, 'eth0'],
      [cc, 'eth1'],
      [nc, 'eth0'],
      [nc, 'eth9'],
    ])
      ip('-n', ns, 'link', 'set', d, 'up');
    const ccA = PROCS
      ? new ProcAgent({ role: 'cc' }, cc, file)
      : new Agent({ role: { role: 'cc' }, netns: cc, source: new StoreSource(store), resyncSeconds: 0, dhcpOptions: { stateDir: join(dir, 'dhcp') } });
    const ncA = PROCS
      ? new ProcAgent({ role: 'nc', node: 'nc1' }, nc, file)
      : new Agent({ role: { role: 'nc', node: 'nc1' }, netns: nc, source: new StoreSource(store), resyncSeconds: 0 });
    agents.push(ccA, ncA);
    record(ccA);
    record(ncA);
    // The operations start once both agents warmed up (their warm-up after
    // the start: the paths of each kind of change compiled), as a deployed
    // agent has long before its first operation; at most 15 s.
    const warm = agents.map(
      (a) =>
        new Promise((resolve) => {
          const t = setTimeout(() => resolve({ done: false, ms: NaN, rehearsed: ['(no warmed-up in 15 s)'] }), 15_000);
          /** @type {EventEmitter} */ (/** @type {unknown} */ (a)).on('warmed-up', (/** @type {{ done: boolean }} */ w) => {
            if (w.done) {
              clearTimeout(t);
              resolve(w);
            }
          });
        }),
    );
    const t0 = performance.now();
    const first = await Promise.all(agents.map((a) => a.start()));
    for (const f of first) if (f.result !== 'ok') throw new Error(`start: ${f.result} ${f.error}`);
    const startMs = performance.now() - t0;
    const warmedUp = await Promise.all(warm);
    if (process.env.EUCANET_BENCH_LOG) console.error(`bench: warmed up ${performance.now() - t0} ms after the start: ${JSON.stringify(warmedUp)}`);
    const nGroups = cloudOf(n).groups.length;
    /** @type {Record<string, number[]>} */
    const lat = { revoke: [], authorize: [], 'run-instance': [], 'associate-address': [] };
    /** @param {number} g */
    const chain = (g) => `sg-admin-g${g}`;
    const groupChainName = nftJson(cc, 'table', 'ip', 'eucanet').find((o) => o.chain?.name.includes('g0'))?.chain.name ?? chain(0);
    for (let k = 0; k < RUNS; k++) {
      const g = k % nGroups;
      const key = `admin/g${g}`;
      const port = 1000 + k;
      /** @type {import('../dist/managed/types.js').Rule} */
      const rule = { protocol: 'tcp', from: port, to: port, cidr: '0.0.0.0/0' };
      const cname = groupChainName.replace('g0', `g${g}`);
      // authorize (then revoke measured right after: the same rule goes away)
      lat.authorize.push(
        await measure(
          store,
          [ccA],
          (s) => authorize(s, key, rule),
          () => {
            if (!chainHasPort(cc, cname, port)) throw new Error(`authorize: port ${port} not in ${cname}`);
          },
        ),
      );
      lat.revoke.push(
        await measure(
          store,
          [ccA],
          (s) => revoke(s, key, rule),
          () => {
            if (chainHasPort(cc, cname, port)) throw new Error(`revoke: port ${port} still in ${cname}`);
          },
        ),
      );
      const id = `i-new${k}`;
      const tap = `vnx${k}`;
      lat['run-instance'].push(
        await measure(
          store,
          [ccA, ncA],
          (s) => runInstance(s, { id, group: key, node: 'nc1', port: tap }),
          () => {
            if (!tapIn(nc, tap)) throw new Error(`run-instance: ${tap} not in a bridge`);
            if (!dhcpHas(PROCS ? `/run/eucanet/${cc}/dnsmasq` : join(dir, 'dhcp'), id)) throw new Error(`run-instance: ${id} not in dnsmasq's hosts`);
          },
          (s) => terminateInstance(s, id),
        ),
      );
      const m = marks([ccA]);
      const a = await update(store, (s) => allocateAddress(s));
      const pub = /** @type {{ ip: string }} */ (/** @type {unknown} */ (a.changes[0])).ip;
      await syncedAt([ccA], a.version, m);
      await sleep(250); // past the agents' minGapMs
      lat['associate-address'].push(
        await measure(
          store,
          [ccA],
          (s) => associateAddress(s, pub, `i-${k % n}`),
          () => {
            if (!mapHas(cc, pub)) throw new Error(`associate-address: ${pub} not in pub2priv`);
          },
          (s) => disassociateAddress(s, pub),
        ),
      );
    }
    /** @type {Array<number | string>} */
    const pids = PROCS ? agents.map((a) => must(/** @type {ProcAgent} */ (a).pid, 'an agent process id')) : ['self'];
    // Two windows: the first right after the last operation (V8 may still
    // shrink its heap then: a full collection or two, once), the second the
    // steady state of an agent with nothing to do.
    if (process.env.EUCANET_BENCH_LOG) console.error(`bench ${performance.now().toFixed(0)}: idle windows start`);
    const idle = await idleCpu(IDLE_S, pids);
    if (process.env.EUCANET_BENCH_LOG) console.error(`bench ${performance.now().toFixed(0)}: second idle window starts`);
    const idleSettled = await idleCpu(IDLE_S, pids);
    const rssMiB = pids.reduce(
      (/** @type {number} */ t, p) => t + Number(must(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8')), 'VmRSS')[1]) / 1024,
      0,
    );
    for (const a of agents.splice(0)) {
      await a.stop();
      const pid = dnsmasqPidOf(a);
      if (pid)
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
    }
    const split = await phaseSplit(store, cc, join(dir, 'dhcp'));
    return { n, startMs, lat, idle, idleSettled, rssMiB, split, syncMs: syncMs.splice(0), syncPhases: syncPhases.splice(0) };
  } finally {
    for (const a of agents) {
      const pid = dnsmasqPidOf(a);
      await a.stop();
      if (pid)
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          /* gone */
        }
    }
    await store.close();
    for (const ns of [cc, nc])
      try {
        ip('netns', 'del', ns);
        dropSysctlRecordsOf(ns);
      } catch {
        /* gone */
      }
    rmSync(dir, { recursive: true, force: true });
    if (PROCS) rmSync(`/run/eucanet/${cc}`, { recursive: true, force: true }); // the CC agent's default DHCP state directory
    forget();
  }
}

/**
 * Where a CC sync's time goes, the agents stopped: one authorize written,
 * then the agent's steps one by one (median of 5, each a new rule).
 */
/** @param {FileStore} store @param {string} ns @param {string} stateDir */
async function phaseSplit(store, ns, stateDir) {
  /** @type {number[][]} */
  const rows = [];
  /** @type {Record<string, number[]>} the run-instance's applyRole phases (with EUCANET_PHASES set) */
  const inner = {};
  /** @type {Set<number>} the dnsmasq these applies started or reloaded: all stopped at the end */
  const dnsmasq = new Set();
  try {
    for (let k = 0; k < 5; k++) {
      await update(store, (s) => authorize(s, 'admin/g0', { protocol: 'udp', from: 2000 + k, to: 2000 + k, cidr: '0.0.0.0/0' }));
      const t = [performance.now()];
      const snap = await store.read();
      t.push(performance.now());
      const st = allocate(snap.state, { validated: true });
      t.push(performance.now());
      await planDhcp(st, ns, { stateDir });
      t.push(performance.now());
      planRole(st, { role: 'cc' });
      t.push(performance.now());
      const r = await applyRole(st, { role: 'cc' }, { netns: ns, dhcpOptions: { stateDir } });
      t.push(performance.now());
      if (r.dhcp?.pid) dnsmasq.add(r.dhcp.pid);
      // The agent's path for a new version: one more rule, applied incrementally after that full apply.
      await update(store, (s) => authorize(s, 'admin/g0', { protocol: 'udp', from: 2100 + k, to: 2100 + k, cidr: '0.0.0.0/0' }));
      const next = allocate((await store.read()).state, { validated: true });
      const t1 = performance.now();
      const inc = await applyRole(next, { role: 'cc' }, { netns: ns, dhcpOptions: { stateDir }, ...(r.snapshot ? { previous: r.snapshot } : {}) });
      t.push(t[t.length - 1] + (performance.now() - t1));
      if (inc.dhcp?.pid) dnsmasq.add(inc.dhcp.pid);
      // Then a run-instance, applied incrementally after that: its FDB entry, its DHCP host's file.
      await update(store, (s) => runInstance(s, { id: `i-split${k}`, group: 'admin/g0', node: 'nc1', port: `vsp${k}` }));
      const ran = allocate((await store.read()).state, { validated: true });
      const before = phaseTimes();
      phase('outside');
      const t2 = performance.now();
      const inc2 = await applyRole(ran, { role: 'cc' }, { netns: ns, dhcpOptions: { stateDir }, ...(inc.snapshot ? { previous: inc.snapshot } : {}) });
      t.push(t[t.length - 1] + (performance.now() - t2));
      const after = phaseTimes();
      for (const [name, ms] of Object.entries(after)) if (name !== 'outside') (inner[name] ??= []).push(ms - (before[name] ?? 0));
      if (inc2.dhcp?.background) await inc2.dhcp.background;
      rows.push(t.slice(1).map((x, i) => x - t[i]));
    }
  } finally {
    for (const pid of dnsmasq)
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
  }
  const names = [
    'store read (parse + validate)',
    'allocate',
    'DHCP plan (normalise, checks)',
    'plan the role',
    'applyRole (preflight, DHCP plan, kernel dumps + diff + commit, conntrack, DHCP update)',
    'applyRole incremental (the next version, one rule more: its chain read and refilled; no DHCP, no conntrack)',
    'applyRole incremental (then a run-instance: its FDB entry, its DHCP host file)',
  ];
  return {
    ...Object.fromEntries(
      names.map((nm, i) => [
        nm,
        pct(
          rows.map((r) => r[i]),
          50,
        ),
      ]),
    ),
    // EUCANET_PHASES=1: the run-instance's applyRole by phase ('commit' holds the delta, the reads and the commit).
    ...Object.fromEntries(Object.entries(inner).map(([nm, xs]) => [`  run-instance applyRole phase ${nm}`, pct(xs, 50)])),
  };
}

/**
 * The CPU share (user+system from /proc/PID/stat, in % of one CPU) of each
 * process in `pids` over the same `s` seconds of idleness, and their sum.
 * @param {number} s @param {Array<number | string>} pids
 * @returns {Promise<{ sum: number, each: number[] }>}
 */
async function idleCpu(s, pids) {
  const ticks = () =>
    pids.map((p) => {
      const f = (readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
      return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    });
  const a = ticks();
  const t = performance.now();
  await sleep(s * 1000);
  const secs = (performance.now() - t) / 1000;
  const each = ticks().map((x, i) => ((x - a[i]) / 100 / secs) * 100); // USER_HZ = 100
  return { sum: each.reduce((x, y) => x + y, 0), each };
}

/**
 * An idle window as text: the sum, then each agent process's own share (the issue's "the agent's idle CPU").
 * @param {{ sum: number, each: number[] }} w
 */
const idleText = (w) => (PROCS ? `${w.sum.toFixed(2)} % (sum; cc ${w.each[0].toFixed(2)} %, nc ${w.each[1].toFixed(2)} %)` : `${w.sum.toFixed(2)} %`);

/** @param {number} x */
const f1 = (x) => x.toFixed(1);
// Run as a script (not when another bench imports cloudOf).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  exitOnSignals();
  const out = [];
  for (const n of SIZES) {
    const r = await oneSize(n);
    out.push(r);
    console.log(`N=${n}: start ${f1(r.startMs)} ms, idle CPU ${idleText(r.idle)} then ${idleText(r.idleSettled)}, RSS ${f1(r.rssMiB)} MiB`);
    for (const [ph, ms] of Object.entries(r.split)) console.log(`  CC sync phase: ${ph}: ${f1(ms)} ms`);
    for (const [op, xs] of Object.entries(r.lat))
      console.log(`  ${op.padEnd(18)} p50 ${f1(pct(xs, 50)).padStart(7)} ms  p99 ${f1(pct(xs, 99)).padStart(7)} ms  (${xs.length} runs)`);
    // --samples: every run's latency in order, so an outlier can be matched with the run (the first after start, ...).
    if (process.argv.includes('--samples')) {
      for (const [op, xs] of Object.entries(r.lat)) console.log(`  ${op} runs: ${xs.map(f1).join(' ')}`);
      console.log(
        `  the enforcing syncs' own ms, in run order (authorize, revoke, run-instance, associate per run): ${r.syncMs.map((x) => x.join('+')).join(' ')}`,
      );
      // EUCANET_PHASES=1: each of those syncs' phases ("wall/cpu" ms), in the same order.
      for (const line of r.syncPhases) console.log(`    phases ${line}`);
    }
  }
  console.log('\n| N | operation | p50 ms | p99 ms | runs |\n|---|---|---|---|---|');
  for (const r of out) for (const [op, xs] of Object.entries(r.lat)) console.log(`| ${r.n} | ${op} | ${f1(pct(xs, 50))} | ${f1(pct(xs, 99))} | ${xs.length} |`);
  for (const r of out)
    console.log(
      `\nN=${r.n}: idle CPU ${idleText(r.idle)} over the ${IDLE_S} s after the last operation, ${idleText(r.idleSettled)} over the next ${IDLE_S} s (${PROCS ? 'the sum of the two agent processes, then each process' : 'both agents, one process'}), RSS ${f1(r.rssMiB)} MiB`,
    );
}
