// The eucanet side of the instances workload, in its own long-lived process
// (a daemon's situation: warm code, handles kept open), driven over IPC by
// bench/run.mjs so that its peak RSS is eucanet's alone.
//   up         one transaction: N taps (master, up, group, owner alias),
//              N /32 addresses, the nft table with its two maps and 2N elements
//   reconcile  reconcile() against the same desired state: reads the links,
//              addresses, routes and owned tables, diffs, and must send 0 ops
//   down       one transaction: the tap group, N address deletes, the table
// Timed: building the transaction (the library validates and parses as ops
// are added) and its commit(); reconcile() from the desired state given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PORT_GROUP, TABLE, bridge, priv, pub, tap } from '../lib/workload.mjs';

// EUCANET_BENCH_DIST points the worker at another build's dist/ (to compare builds side by side).
const dist = process.env.EUCANET_BENCH_DIST || join(fileURLToPath(new URL('.', import.meta.url)), '../../dist');
const { open, reconcile } = await import(join(dist, 'index.js'));
const { rule } = await import(join(dist, 'nft/index.js'));

const ALIAS = 'eucanet:port';
const table = { family: 'ip', name: TABLE };
const chains = [
  { family: 'ip', table: TABLE, name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' },
  { family: 'ip', table: TABLE, name: 'postrouting', type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' },
];
const maps = {
  pub2priv: { family: 'ip', table: TABLE, name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr' },
  priv2pub: { family: 'ip', table: TABLE, name: 'priv2pub', key: 'ipv4_addr', data: 'ipv4_addr' },
};
const rules = () => [
  { family: 'ip', table: TABLE, chain: 'prerouting', exprs: rule().dnatMap('@pub2priv') },
  { family: 'ip', table: TABLE, chain: 'postrouting', exprs: rule().ipDaddr('10.0.0.0/8', { not: true }).snatMap('@priv2pub') },
];
/** @param {number} n */
const range = (n) => Array.from({ length: n }, (_, i) => i);

/** What reconcile() is asked to converge to: exactly what `up` made. @param {number} n */
function desired(n) {
  return {
    ports: range(n).map((i) => ({ name: tap(i), tap: { alias: ALIAS }, master: bridge(i, n), up: true })),
    addresses: range(n).map((i) => ({ dev: 'eth0', address: `${pub(i)}/32` })),
    nft: {
      tables: [table],
      chains,
      sets: [
        { ...maps.pub2priv, elements: range(n).map((i) => [pub(i), priv(i)]) },
        { ...maps.priv2pub, elements: range(n).map((i) => [priv(i), pub(i)]) },
      ],
      rules: rules(),
    },
  };
}

/**
 * CPU time of this process (every thread: the kernel work done in its worker
 * threads' system calls included) since `c0`, in ms: steadier than wall time
 * on a loaded machine, for comparing builds.
 * @param {NodeJS.CpuUsage} c0
 */
const cpuSince = (c0) => {
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / 1000;
};

/**
 * CPU time of the JavaScript thread alone so far, in ms (the scheduler's
 * on-CPU nanoseconds of this thread: /proc/thread-self/schedstat), or NaN
 * where the kernel has no schedstat: what the library's own work costs on
 * the thread that waits for nothing else, apart from the kernel work its
 * libuv worker threads do.
 */
function mainCpuMs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return NaN;
  }
}

const handles = new Map();
const handle = (/** @type {string} */ ns) => {
  if (!handles.has(ns)) handles.set(ns, open({ netns: ns }));
  return handles.get(ns);
};

/**
 * @param {string} ns
 * @param {number} n
 */
async function up(ns, n) {
  const h = handle(ns);
  const m0 = mainCpuMs();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const tx = h.transaction();
  for (let i = 0; i < n; i++) tx.addTap(tap(i), { master: bridge(i, n), up: true, group: PORT_GROUP, alias: ALIAS });
  for (let i = 0; i < n; i++) tx.addAddress({ dev: 'eth0', address: `${pub(i)}/32`, proto: 240 });
  const b = tx.nft;
  b.addTable(table);
  for (const c of chains) b.addChain(c);
  b.addSet(maps.pub2priv).addSet(maps.priv2pub);
  for (const r of rules()) b.addRule(r);
  b.addElements(
    maps.pub2priv,
    range(n).map((i) => [pub(i), priv(i)]),
  );
  b.addElements(
    maps.priv2pub,
    range(n).map((i) => [priv(i), pub(i)]),
  );
  await tx.commit();
  return { ms: performance.now() - t0, cpuMs: cpuSince(c0), mainCpuMs: mainCpuMs() - m0 };
}

/**
 * @param {string} ns
 * @param {number} n
 */
async function check(ns, n) {
  const want = desired(n);
  const m0 = mainCpuMs();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await reconcile(handle(ns), want);
  const ms = performance.now() - t0;
  const cpuMs = cpuSince(c0);
  const main = mainCpuMs() - m0;
  if (r.ops !== 0) throw new Error(`eucanet reconcile after up sent ${r.ops} ops, expected 0:\n${r.plan.changes.toString().slice(0, 2000)}`);
  return { ms, cpuMs, mainCpuMs: main, ops: r.ops };
}

/**
 * @param {string} ns
 * @param {number} n
 */
async function down(ns, n) {
  const h = handle(ns);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const tx = h.transaction();
  tx.deleteLinkGroup(PORT_GROUP);
  for (let i = 0; i < n; i++) tx.deleteAddress({ dev: 'eth0', address: `${pub(i)}/32` });
  tx.nft.deleteTable(table);
  await tx.commit();
  const ms = performance.now() - t0;
  const cpuMs = cpuSince(c0);
  h.close();
  handles.delete(ns);
  return { ms, cpuMs };
}

export const phases = { up, reconcile: check, down };

/**
 * Sends to the parent over the IPC channel (bench/lib/worker.mjs forks this file with one).
 * @param {object} msg
 */
function send(msg) {
  if (!process.send) throw new Error('bench worker: no IPC channel (start it through bench/lib/worker.mjs)');
  process.send(msg);
}

/** Answers one request from the parent; every failure is sent back, never thrown.
 * @param {any} m  the parent's request (JSON over IPC)
 */
async function onMessage(m) {
  try {
    if (m.cmd === 'rss') return send({ id: m.id, maxRssKiB: process.resourceUsage().maxRSS, rssKiB: Math.round(process.memoryUsage().rss / 1024) });
    const r = await phases[/** @type {keyof typeof phases} */ (m.cmd)](m.ns, m.n);
    send({ id: m.id, ...r });
  } catch (err) {
    send({ id: m.id, error: String(/** @type {{ stack?: string } | undefined} */ (err)?.stack ?? err) });
  }
}
process.on('message', (m) => void onMessage(m));
process.on('disconnect', () => {
  for (const h of handles.values()) h.close();
  process.exit(0);
});
