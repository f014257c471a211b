// Where ONE agent process on etcd spends its CPU per state version (issue 17:
// 30 agents are woken by every operation, so what a version costs an agent
// that it does not concern, or concerns only through its VXLAN FDB, is what
// the fleet's propagation is made of). Its own etcd on loopback, the
// control-plane benchmark's cloud (bench/lib/etcd-cloud.mjs), one
// `eucanet agent --etcd` (nc0 by default: it carries group g0), and in turn:
// authorize and revoke a rule of g0 (nothing for an NC), run-instance and
// terminate on nc1 in g0 (nc0's static MAC entries change). Prints each
// version's propagation (write returned -> the agent's status at it) and the
// agent's CPU per kind (/proc, robust to the machine's load), its page faults
// and, per thread, its CPU and how many times it was scheduled; with --prof
// FILE writes the CPU profile cut to the measured versions.
// --ops run-own,terminate-own (not in the default) runs and terminates an instance of g0 on the agent's own node
// (an NC role: its own-instance sync: tap, port, anti-spoofing set elements).
// With --ops authorize,revoke only those kinds are written (e.g. to profile the versions an NC is not concerned by);
// --ops associate,disassociate (not in the default) gives i-<k> a public address and takes it back (the CC's NAT map;
// the address is allocated before the round, outside the measure).
// With EUCANET_PHASES=1 in the environment, each measured sync's own cpuMs and phases are printed too.
// EUCANET_AGENT_NODE_ARGS adds node flags to the agent's (e.g. --trace-gc: its lines, not JSON, go to stderr prefixed `agent:`).
// Usage: node bench/etcd-agent-profile.mjs [--echo] [--n 5000] [--rounds 10] [--role nc0|cc] [--gap 250] [--settle 1500] [--ops a,b] [--prof out.cpuprofile] [--build DIR]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { allocateAddress, associateAddress, authorize, disassociateAddress, revoke, runInstance, terminateInstance } from '../dist/managed/ops/index.js';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { EtcdStore } from '../dist/store/etcd.js';
import { StatusWatch } from '../dist/store/etcd-status-watch.js';
import { update } from '../dist/store/update.js';
import { allocatedCloudOf } from './lib/etcd-cloud.mjs';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';
import { startEtcd } from './lib/etcd.mjs';

const arg = (/** @type {string} */ k, /** @type {string} */ d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
const N = Number(arg('n', '5000'));
const ROUNDS = Number(arg('rounds', '10'));
const ROLE = arg('role', 'nc0');
const GAP = Number(arg('gap', '250'));
const PROF = arg('prof', '');
// --settle MS: the wait after the agent first converged, before the warm-up round (its start's side work: the catch-up check, the warm-up).
const SETTLE = Number(arg('settle', '1500'));
// --build DIR: the agent of another build (DIR/dist/cli/main.js: side by side with the code before); writes stay this one's.
const BUILD = arg('build', '');
// --echo: the agent is bench/lib/echo-agent.mjs (hears each version and puts its status, nothing else: the
// control-plane benchmark's floor), to compare one agent's CPU per version with the least any agent spends.
const ECHO = process.argv.includes('--echo');
const OPS = arg('ops', 'authorize,revoke,run-instance,terminate').split(',');
const CLOUD = 'prof';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const ip = (/** @type {string[]} */ ...a) => execFileSync('ip', a);
// The agent's CPU: the on-CPU time of all its threads from /proc/PID/task/*/schedstat (nanoseconds), not
// /proc/PID/stat's clock ticks (10 ms each: a few ms per version was mostly the ticks' rounding).
const cpuMs = (/** @type {number | undefined} */ pid) => {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    const f = (readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  }
};

// The agent's minor page faults (/proc/PID/stat's minflt): a fresh page costs about 14 us on a machine whose page
// tables are costly to change, so a version that touches new memory pays for it in CPU.
const minorFaults = (/** @type {number | undefined} */ pid) => Number((readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')[7]);
// Per thread, by name (the main thread as 'main'), one field of /proc/PID/task/*/schedstat summed: 0, the on-CPU
// time in ns (where the all-threads figure goes beyond the JS thread); 2, the times it was scheduled on a CPU (every
// wake-up is a context switch, and with 30 processes on 2 cores each one finds its caches cold).
const perThread = (/** @type {number | undefined} */ pid, /** @type {number} */ field) => {
  /** @type {Record<string, number>} */
  const out = {};
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const name = t === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim();
      out[name] = (out[name] ?? 0) + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[field]);
    }
  } catch {
    // the process is gone: nothing to split
  }
  return out;
};
const threadsMs = (/** @type {number | undefined} */ pid) => Object.fromEntries(Object.entries(perThread(pid, 0)).map(([k, ns]) => [k, ns / 1e6]));
const threadSlices = (/** @type {number | undefined} */ pid) => perThread(pid, 2);

// Stopped early (^C, SIGTERM), it removes what it made too: its etcd (etcd.mjs), and the rest below.
exitOnSignals();
const etcd = await startEtcd();
const store = new EtcdStore({ urls: [etcd.url], cloud: CLOUD, timeoutMs: 30_000 });
const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcdprof-'));
const ns = `euep${process.pid % 100000}`;
/** @type {import('node:child_process').ChildProcess | undefined} */
let child;
/** @type {number | undefined} */
let dnsmasq;
const forget = atExit(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dnsmasq) spawnSync('kill', [String(dnsmasq)]);
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
  rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
  dropSysctlRecordsOf(ns);
});
try {
  await store.write(allocatedCloudOf(N));
  const watch = await StatusWatch.open(store, CLOUD);
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'eth1', 'up');
  const role = ROLE === 'cc' ? ['--role', 'cc'] : ['--role', 'nc', '--node', ROLE];
  const extra = process.env.EUCANET_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const nodeArgs = [...(PROF ? ['--cpu-prof', '--cpu-prof-dir', dir] : []), ...extra];
  const cli = BUILD ? join(BUILD, 'dist/cli/main.js') : new URL('../dist/cli/main.js', import.meta.url).pathname;
  const args = ECHO
    ? [new URL('./lib/echo-agent.mjs', import.meta.url).pathname, etcd.url, CLOUD, ROLE]
    : [cli, 'agent', '--json', '--resync', '0', '--etcd', etcd.url, '--cloud', CLOUD, '--host', ROLE, '--netns', ns, ...role];
  child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  /** @type {any[]} */
  const lines = [];
  createInterface({ input: /** @type {any} */ (child.stdout) }).on('line', (l) => {
    if (!l.startsWith('{')) return void console.error(`agent: ${l}`);
    const o = JSON.parse(l);
    lines.push(o);
    if (o.dnsmasqPid) dnsmasq = o.dnsmasqPid;
  });
  await watch.reached(ROLE, await store.revision(), 120_000);
  await sleep(SETTLE);
  const from = process.hrtime.bigint() / 1000n;
  /** @type {Record<string, { cpu: number[], ms: number[], faults: number[], threads: Record<string, number[]>, slices: Record<string, number[]> }>} */
  const by = {};
  for (let k = 0; k < ROUNDS + 1; k++) {
    const rule = { protocol: /** @type {'tcp'} */ ('tcp'), from: 1000 + k, to: 1000 + k, cidr: '0.0.0.0/0' };
    /** @type {Array<[string, (s: any) => any]>} */
    const ops = [
      ['authorize', (s) => authorize(s, 'admin/g0', rule)],
      ['revoke', (s) => revoke(s, 'admin/g0', rule)],
      ['run-instance', (s) => runInstance(s, { id: `i-p${k}`, group: 'admin/g0', node: 'nc1' })],
      ['terminate', (s) => terminateInstance(s, `i-p${k}`)],
      // The agent's own node (an NC role): its tap, port and anti-spoofing set elements.
      ['run-own', (s) => runInstance(s, { id: `i-o${k}`, group: 'admin/g0', node: ROLE })],
      ['terminate-own', (s) => terminateInstance(s, `i-o${k}`)],
    ];
    if (OPS.includes('associate') || OPS.includes('disassociate')) {
      const a = await update(store, (s) => allocateAddress(s));
      const pub = a.changes.find((c) => c.kind === 'address-allocated')?.ip;
      ops.push(['associate', (s) => associateAddress(s, String(pub), `i-${k}`)], ['disassociate', (s) => disassociateAddress(s, String(pub))]);
      await watch.reached(ROLE, Number(a.version), 30_000);
      await sleep(GAP);
    }
    for (const [name, op] of ops) {
      if (!OPS.includes(name)) continue;
      const c0 = cpuMs(child.pid);
      const f0 = minorFaults(child.pid);
      const th0 = threadsMs(child.pid);
      const sl0 = threadSlices(child.pid);
      const r = await update(store, op);
      const t0 = performance.now();
      const at = await watch.reached(ROLE, Number(r.version), 30_000);
      await sleep(GAP);
      if (k === 0) continue; // a warm-up round
      const e = (by[name] ??= { cpu: [], ms: [], faults: [], threads: {}, slices: {} });
      const sync = lines.find((o) => o.event === 'sync' && o.version === r.version);
      if (sync?.phases) console.log(`  ${name} sync ${sync.ms} ms cpu ${sync.cpuMs} ${JSON.stringify(sync.phases)}`);
      e.cpu.push(cpuMs(child.pid) - c0);
      e.faults.push(minorFaults(child.pid) - f0);
      for (const [t, v] of Object.entries(threadsMs(child.pid))) (e.threads[t] ??= []).push(v - (th0[t] ?? 0));
      for (const [t, v] of Object.entries(threadSlices(child.pid))) (e.slices[t] ??= []).push(v - (sl0[t] ?? 0));
      e.ms.push(at - t0);
    }
  }
  const med = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, e] of Object.entries(by)) {
    const cpu = e.cpu.reduce((a, b) => a + b, 0) / e.cpu.length;
    console.log(
      `${name.padEnd(13)} agent CPU ${cpu.toFixed(2)} ms/op (mean of ${e.cpu.length}, median ${med(e.cpu).toFixed(2)}), propagation median ${med(e.ms).toFixed(1)} ms, max ${Math.max(...e.ms).toFixed(1)} ms`,
    );
    console.log(`  ${name} CPU per op, in order: ${e.cpu.map((x) => x.toFixed(1)).join(' ')}`);
    console.log(`  ${name} page faults per op: median ${med(e.faults)}, in order: ${e.faults.join(' ')}`);
    const threads = Object.entries(e.threads).map(([t, xs]) => `${t} ${med(xs).toFixed(2)}`);
    console.log(`  ${name} median CPU per thread (ms): ${threads.join(', ')}`);
    const slices = Object.entries(e.slices).map(([t, xs]) => `${t} ${med(xs)}`);
    console.log(`  ${name} median times scheduled per thread: ${slices.join(', ')}`);
  }
  const syncs = lines.filter((o) => o.event === 'sync').slice(-8);
  for (const s of syncs) console.log(`  sync ${s.version} ${s.mode} ${s.ms} ms ${s.changed ?? ''}`);
  const gone = new Promise((r) => child?.once('exit', r));
  child.kill('SIGTERM');
  await gone;
  await watch.close();
  if (PROF) {
    const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
    const p = JSON.parse(readFileSync(join(dir, String(f)), 'utf8'));
    let t = p.startTime;
    const keep = p.samples.map((/** @type {number} */ _s, /** @type {number} */ i) => (t += p.timeDeltas[i]) >= from);
    p.samples = p.samples.filter((/** @type {number} */ _s, /** @type {number} */ i) => keep[i]);
    p.timeDeltas = p.timeDeltas.filter((/** @type {number} */ _s, /** @type {number} */ i) => keep[i]);
    writeFileSync(PROF, JSON.stringify(p));
  }
} finally {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  if (dnsmasq) spawn('kill', [String(dnsmasq)]);
  await store.close();
  await etcd.stop();
  execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
  rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
  dropSysctlRecordsOf(ns);
  forget();
}
