// Issue 12, section 1: two ways to make a refused RTM_SETLINK leave nothing
// behind, measured side by side on an NC-like bring-up (bench/lib/workload.mjs:
// N taps, each in its group's bridge, up, in device group 4200, with the owner
// alias; N /32 public addresses on eth0), each run in a fresh namespace, the
// two orders alternating from round to round.
//   pre-image  what the library does: one RTM_SETLINK per tap carrying all
//              four changes; a refused one is undone from the link's pre-image
//              (no cost unless something fails)
//   split      one RTM_SETLINK per change (master, group, alias, up): four
//              per tap, each one the kernel refuses whole
//   master-first  two: the master alone, then group, alias and up
// Usage: node bench/tx-partial.mjs [N=1000] [rounds=9]   (needs root and dist/)
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshNetns, removeAll, removeNetns } from './lib/ns.mjs';
import { median } from './lib/stats.mjs';
import { PORT_GROUP, bridge, pub, tap } from './lib/workload.mjs';
import { atExit, exitOnSignals } from './lib/at-exit.mjs';

const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../dist');
const { open } = await import(join(dist, 'index.js'));

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 9);
const ALIAS = 'eucanet:port';
const SETTLE_MS = 250;

/** @typedef {import('../dist/index.js').Transaction} Transaction */

/** @type {Record<string, (tx: Transaction, i: number) => unknown>} */
const APPROACHES = {
  'pre-image': (tx, i) => tx.addTap(tap(i), { master: bridge(i, N), up: true, group: PORT_GROUP, alias: ALIAS }),
  // The master goes with the tap (so the library settles the taps that go
  // into a bridge, as it would if it split requests itself); the other three
  // changes follow as requests of their own.
  split: (tx, i) => {
    tx.addTap(tap(i), { master: bridge(i, N) });
    tx.setLink(tap(i), { group: PORT_GROUP });
    tx.setLink(tap(i), { alias: ALIAS });
    tx.setLink(tap(i), { up: true });
  },
  // Two requests: the master alone, then the rest (the port joins the bridge
  // while down, as in `split`): separates the cost of the order from that of
  // the request count.
  'master-first': (tx, i) => {
    tx.addTap(tap(i), { master: bridge(i, N) });
    tx.setLink(tap(i), { group: PORT_GROUP, alias: ALIAS, up: true });
  },
};

/** @param {string} name */
async function once(name) {
  const ns = await freshNetns(N);
  const h = open({ netns: ns });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const tx = h.transaction();
    for (let i = 0; i < N; i++) APPROACHES[name](tx, i);
    for (let i = 0; i < N; i++) tx.addAddress({ dev: 'eth0', address: `${pub(i)}/32`, proto: 240 });
    const stats = await tx.commit();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { ms, userMs: cpu.user / 1000, sysMs: cpu.system / 1000, requests: stats.rtnlRequests };
  } finally {
    h.close();
    removeNetns(ns);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  }
}

// Its namespaces go however it ends, ^C and SIGTERM included.
exitOnSignals();
atExit(removeAll);

const names = Object.keys(APPROACHES);
const samples = Object.fromEntries(names.map((n) => [n, /** @type {Array<{ ms: number, userMs: number, sysMs: number, requests: number }>} */ ([])]));
try {
  for (const n of names) await once(n); // warm-up, not counted
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const n of order) samples[n].push(await once(n));
  }
} finally {
  removeAll();
}
console.log(`N=${N}, ${ROUNDS} rounds, medians (wall clock of build + commit; CPU of this process)`);
for (const n of names) {
  const s = samples[n];
  const m = (/** @type {'ms' | 'userMs' | 'sysMs'} */ k) => median(s.map((x) => x[k])).toFixed(1);
  console.log(`${n.padEnd(10)} wall ${m('ms')} ms  user ${m('userMs')} ms  sys ${m('sysMs')} ms  rtnl requests ${s[0].requests}`);
}
