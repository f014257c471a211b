// Where an agent PROCESS's time goes per new store version at N instances: a
// `eucanet agent --role cc --json` child (with `node --cpu-prof`), a writer in
// this process (its own FileStore) authorizing and revoking a rule in turn;
// each version's write-to-sync time and the agent's own sync time are
// printed, then the agent's own CPU time per version (/proc), and the CPU profile is cut to the measured versions (samples
// before the first write are dropped) and written to --prof FILE.
// The first round (two versions) is a warm-up, not counted.
// Usage: node bench/agent-profile.mjs [--n 5000] [--runs 10] [--prof out.cpuprofile] [--gap 250] [--role cc|nc1] [--ops rules|instances]
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { authorize, revoke, runInstance, terminateInstance } from '../dist/managed/ops/index.js';
import { FileStore } from '../dist/store/file.js';
import { update } from '../dist/store/update.js';
import { writeFileAtomic } from '../dist/util/file.js';
import { formatState } from '../dist/managed/statefile.js';
import { allocatedCloudOf } from './agent-latency.mjs';

const arg = (/** @type {string} */ k, /** @type {string} */ d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
const N = Number(arg('n', '5000'));
const RUNS = Number(arg('runs', '10'));
const PROF = arg('prof', '');
const GAP = Number(arg('gap', '250'));
// --role cc, or a node's name (nc1 runs every instance); --ops rules (authorize, revoke) or instances (run-instance, terminate)
const ROLE = arg('role', 'cc');
const OPS = arg('ops', 'rules');
const dir = mkdtempSync(join(tmpdir(), 'eucanet-agentprof-'));
chmodSync(dir, 0o711);
const file = join(dir, 'cloud.json');
// As the operations write it (formatState), else the first version is parsed whole.
await writeFileAtomic(file, formatState(allocatedCloudOf(N)));
const ns = `eualp${process.pid}`;
const ip = (/** @type {string[]} */ ...a) => execFileSync('ip', a);
ip('netns', 'add', ns);
const store = new FileStore(file);
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/** @type {import('node:child_process').ChildProcess | undefined} */
let child;
/** @type {number | undefined} */
let dnsmasq;
/** Stops the agent and its dnsmasq, removes the namespace and the files (also on SIGINT/SIGTERM: a killed run leaves nothing). */
async function cleanup() {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  if (dnsmasq)
    try {
      process.kill(dnsmasq, 'SIGTERM');
    } catch {
      /* gone */
    }
  await store.close();
  try {
    ip('netns', 'del', ns);
    dropSysctlRecordsOf(ns);
  } catch {
    /* already gone */
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(sig, () => {
    console.error(`agent-profile: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(1));
  });
}
try {
  ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'eth1', 'up');
  // EUCANET_AGENT_NODE_FLAGS: more node flags for the agent child (e.g. --cpu-prof-interval 100, --trace-gc).
  const flags = (process.env.EUCANET_AGENT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...flags, ...(PROF ? ['--cpu-prof', '--cpu-prof-dir', dir] : [])];
  child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      'dist/cli/main.js',
      'agent',
      '--json',
      '--resync',
      '0',
      '--state',
      file,
      '--netns',
      ns,
      ...(ROLE === 'cc' ? ['--role', 'cc'] : ['--role', 'nc', '--node', ROLE]),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  /** @type {any[]} */
  const syncs = [];
  /** @type {any[]} the agent's warmed-up lines */
  const warmed = [];
  createInterface({ input: /** @type {any} */ (child.stdout) }).on('line', (l) => {
    // Not a log line (node's own output under EUCANET_AGENT_NODE_FLAGS, e.g. --trace-deopt): on stderr.
    if (!l.startsWith('{')) return void console.error(l);
    const o = JSON.parse(l);
    if (o.event === 'sync') syncs.push({ ...o, at: performance.now() });
    if (o.event === 'warmed-up') warmed.push(o);
    if (o.dnsmasqPid) dnsmasq = o.dnsmasqPid;
  });
  while (!syncs.length) await sleep(10);
  if (syncs[0].result !== 'ok') throw new Error(syncs[0].error);
  // As a deployed agent: its warm-up after the start ended long before the first operation (at most 15 s).
  for (let t = 0; t < 15_000 && !warmed.some((w) => w.done); t += 10) await sleep(10);
  if (process.env.EUCANET_BENCH_LOG) console.error(`warmed up: ${JSON.stringify(warmed)}`);
  await sleep(500);
  const from = process.hrtime.bigint() / 1000n;
  // The agent's own CPU time (user + system, in clock ticks of 10 ms): unlike the profile's samples, not stretched by other processes' load.
  const cpuTicks = () => {
    const f = (readFileSync(`/proc/${child?.pid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  // The first round (k = 0) warms up and is not counted: the store's first
  // incremental check builds its counts, the JIT compiles the incremental path.
  let cpu0 = cpuTicks();
  const lat = [];
  for (let k = 0; k < RUNS + 1; k++) {
    if (k === 1) {
      cpu0 = cpuTicks();
      lat.length = 0;
    }
    /** @type {import('../dist/managed/types.js').Rule} */
    const rule = { protocol: 'tcp', from: 1000 + k, to: 1000 + k, cidr: '0.0.0.0/0' };
    /** @type {Array<[string, (s: any) => any]>} */
    const ops =
      OPS === 'rules'
        ? [
            ['authorize', (s) => authorize(s, 'admin/g0', rule)],
            ['revoke', (s) => revoke(s, 'admin/g0', rule)],
          ]
        : [
            ['run-instance', (s) => runInstance(s, { id: `i-p${k}`, group: 'admin/g0', node: 'nc1', port: `vnp${k}` })],
            ['terminate', (s) => terminateInstance(s, `i-p${k}`)],
          ];
    for (const [name, op] of ops) {
      const n0 = syncs.length;
      const r = await update(store, op);
      const t0 = performance.now();
      let hit;
      while (!(hit = syncs.slice(n0).find((x) => x.version === r.version))) await sleep(1);
      lat.push(hit.at - t0);
      console.log(
        `${name} ${(hit.at - t0).toFixed(1)} ms (sync ${hit.ms} ms, cpu ${hit.cpuMs} ms, ${hit.mode}, ${hit.changed}, ${hit.result} ${hit.error ?? ''})${hit.phases ? ` phases ${JSON.stringify(hit.phases)}` : ''}`,
      );
      await sleep(GAP);
    }
  }
  const versions = lat.length;
  console.log(`agent CPU ${(((cpuTicks() - cpu0) * 10) / versions).toFixed(1)} ms per version (user + system, ${versions} versions, gaps included)`);
  lat.sort((a, b) => a - b);
  console.log(`p50 ${lat[Math.floor(lat.length / 2)].toFixed(1)} max ${lat[lat.length - 1].toFixed(1)}`);
  const gone = new Promise((r) => child?.once('exit', r));
  child.kill('SIGTERM');
  await gone;
  if (PROF) {
    const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'));
    const p = JSON.parse(readFileSync(join(dir, String(f)), 'utf8'));
    // Keep the samples after `from`: the measured versions.
    let t = p.startTime;
    const keep = p.samples.map((/** @type {number} */ _s, /** @type {number} */ i) => (t += p.timeDeltas[i]) >= from);
    p.samples = p.samples.filter((/** @type {number} */ _s, /** @type {number} */ i) => keep[i]);
    p.timeDeltas = p.timeDeltas.filter((/** @type {number} */ _s, /** @type {number} */ i) => keep[i]);
    writeFileSync(PROF, JSON.stringify(p));
  }
} finally {
  await cleanup();
}
