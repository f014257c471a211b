// Where one agent's time goes per new store version at 5000 instances (issue
// 17): the CC role (every instance: the NAT map, DHCP hosts), or an NC's,
// over an etcd store, in a fresh namespace. After a full apply, each of --versions
// changes (authorize, revoke, run-instance, terminate in turn) is read
// (store.read: the cache, assembly and validation), allocated, and applied
// incrementally (applyRole with the previous snapshot: plan, delta,
// kernel), each part timed; with --profile FILE a CPU profile of the
// versions only (node:inspector) is written for `node --cpu-prof`-style
// reading.
//
// With EUCANET_PHASES=1: the apply's own phases too, in ms per version.
//
// Usage: node bench/agent-version.mjs [--role cc|NODE] [--instances 5000] [--versions 20] [--profile out.cpuprofile]
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dropSysctlRecordsOf } from '../dist/managed/sysctl-record.js';
import { allocate } from '../dist/managed/allocate.js';
import { applyRole } from '../dist/managed/apply.js';
import { authorize, revoke, runInstance, terminateInstance } from '../dist/managed/ops/index.js';
import { validateState } from '../dist/managed/validate.js';
import { EtcdStore } from '../dist/store/etcd.js';
import { phase, phaseTimes, phasesOn } from '../dist/util/phases.js';
import { update } from '../dist/store/update.js';
import { startEtcd } from './lib/etcd.mjs';

/** @typedef {import('../dist/managed/types.js').State} State */
/** @typedef {import('../dist/managed/types.js').Rule} Rule */
/** @typedef {import('../dist/managed/roles/index.js').Role} Role */
/** @typedef {import('../dist/managed/types.js').NodeHost} NodeHost */

const arg = (/** @type {string} */ k, /** @type {string} */ d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
const N = Number(arg('instances', '5000'));
const VERSIONS = Number(arg('versions', '20'));
const PROFILE = arg('profile', '');
// --role cc (every instance) or a node's name (nc0: 25 instances of the 5000).
const ROLE = arg('role', 'cc');
const NODES = 200;
const ip = (/** @type {string[]} */ ...a) => execFileSync('ip', a, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const med = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** @param {number} n @returns {State} */
function cloudOf(n) {
  /** @type {Record<string, NodeHost>} */
  const nodes = {};
  for (let k = 0; k < NODES; k++) nodes[`nc${k}`] = { privateInterface: 'eth0', underlay: `172.31.${1 + (k >> 8)}.${k % 256}/16` };
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/8',
    addrsPerNet: 1024,
    vlanRange: [10, 4094],
    publicIps: ['172.16.0.1-172.16.3.250'],
    dns: '192.168.32.1',
    macPrefix: 'd0:0d',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '172.31.0.1/16' },
    nodes,
    groups: Array.from({ length: Math.ceil(n / 100) }, (_, g) => ({
      owner: 'admin',
      name: `g${g}`,
      rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }],
    })),
    instances: Array.from({ length: n }, (_, k) => ({
      id: `i-${k}`,
      group: `admin/g${Math.floor(k / 100)}`,
      node: `nc${k % NODES}`,
      port: `vn${Math.floor(k / NODES)}`,
    })),
  };
}

/**
 * Waits for the watch to report `version` (a version never reported is an
 * error after 30 s, not a hang).
 * @param {AsyncIterator<string>} it @param {string} version
 */
async function reported(it, version) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const late = new Promise((resolve) => (timer = setTimeout(resolve, deadline - Date.now(), 'timeout')));
    const got = await Promise.race([it.next().then((r) => r.value), late]);
    clearTimeout(timer);
    if (got === version) return;
    if (got === 'timeout') throw new Error(`the store's watch never reported version ${version}`);
  }
}

const ns = `eucav${process.pid % 10000}`;
const etcd = await startEtcd();
const writer = new EtcdStore({ urls: [etcd.url], cloud: 'av', timeoutMs: 30_000 });
const agentStore = new EtcdStore({ urls: [etcd.url], cloud: 'av', timeoutMs: 30_000 });
/** @type {number | undefined} */
let dnsmasq;
let cleaned = false;
/** Removes what the benchmark made: also on SIGINT/SIGTERM (a timeout's kill), so no namespace is left behind. */
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (dnsmasq) spawnSync('kill', [String(dnsmasq)]);
  spawnSync('ip', ['netns', 'del', ns]);
  dropSysctlRecordsOf(ns);
  rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
  await writer.close();
  await agentStore.close();
  await etcd.stop();
}
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(sig, () => {
    console.error(`agent-version: ${sig}, cleaning up`);
    void cleanup().finally(() => process.exit(1));
  });
}
try {
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  ip('-n', ns, 'link', 'set', 'eth0', 'up');
  ip('-n', ns, 'link', 'set', 'eth1', 'up');
  await writer.write(cloudOf(N));
  /** @type {Role} */
  const role = ROLE === 'cc' ? { role: 'cc' } : { role: 'nc', node: ROLE };
  const netns = `/run/netns/${ns}`;
  let snap = await agentStore.read();
  let r = await applyRole(allocate(snap.state, { validated: true }), role, { netns });
  dnsmasq = r.dhcp?.pid;
  const versions = agentStore.watch();
  /** @type {Record<string, number>[]} */
  const rows = [];
  const before = phaseTimes();
  const session = new Session();
  if (PROFILE) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  }
  for (let k = 0; k < VERSIONS; k++) {
    const p = 40000 + Math.floor(k / 4);
    /** @type {Rule} */
    const rule = { protocol: 'tcp', from: p, to: p, cidr: '0.0.0.0/0' };
    /** @type {((s: State) => import('../dist/managed/ops/index.js').OpResult)[]} */
    const ops = [
      (s) => authorize(s, 'admin/g0', rule),
      (s) => revoke(s, 'admin/g0', rule),
      (s) => runInstance(s, { id: `i-x${p}`, group: 'admin/g0', node: 'nc0' }),
      (s) => terminateInstance(s, `i-x${p}`),
    ];
    const w = await update(writer, ops[k % 4]);
    await reported(versions, w.version);
    phase('(writer, waiting)');
    const t0 = performance.now();
    snap = await agentStore.read();
    phase('read (cache, assembly, validation)');
    const t1 = performance.now();
    validateState(snap.state);
    const t2 = performance.now();
    const state = allocate(snap.state, { validated: true });
    const t3 = performance.now();
    phase('validate again, allocate');
    r = await applyRole(state, role, { netns, previous: r.snapshot });
    const t4 = performance.now();
    phase('(after dhcp)');
    rows.push({ read: t1 - t0, validate: t2 - t1, allocate: t3 - t2, apply: t4 - t3, ops: r.ops });
  }
  if (PROFILE) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(PROFILE, JSON.stringify(profile));
  }
  await versions.return?.();
  if (phasesOn()) {
    const after = phaseTimes();
    const per = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round(((v - (before[k] ?? 0)) / VERSIONS) * 10) / 10]));
    console.log(JSON.stringify({ phasesMsPerVersion: per }));
  }
  const col = (/** @type {string} */ k) => Math.round(med(rows.map((x) => x[k])) * 10) / 10;
  // read includes one validation (the store's); validate is a second one, timed alone.
  console.log(
    JSON.stringify({
      role: ROLE,
      instances: N,
      versions: VERSIONS,
      medianMs: { readAndValidate: col('read'), validate: col('validate'), allocate: col('allocate'), applyIncremental: col('apply') },
      ops: rows.map((x) => x.ops),
    }),
  );
} finally {
  await cleanup();
}
