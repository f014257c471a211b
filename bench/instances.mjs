// The "instances" workload (bench/lib/workload.mjs) through every approach:
// bring-up, no-change re-apply and teardown, each run in a fresh namespace,
// the approaches' order rotating from one round to the next so that the
// machine's drift spreads over all of them. Each run is checked with `ip -j`
// and `nft -j` after bring-up and after teardown, outside the timing.
import batch from './approaches/batch.mjs';
import eucanet from './approaches/eucanet.mjs';
import floor from './approaches/floor.mjs';
import fork from './approaches/fork.mjs';
import netlinkPkg from './approaches/netlink-pkg.mjs';
import { expectDown, expectUp, freshNetns, removeNetns } from './lib/ns.mjs';
import { median, must } from './lib/stats.mjs';

/** @typedef {import('./lib/workload.mjs').Approach} Approach */

/** @type {Approach[]} */
export const APPROACHES = [eucanet, floor, batch, fork, netlinkPkg];
/** @type {('up' | 'reconcile' | 'down')[]} */
export const PHASES = ['up', 'reconcile', 'down'];
const SETTLE_MS = 250;
const WARM_RUNS = 3;
const WARM_REAPPLIES = 10;
/**
 * The warm-up is a fixed amount of work, the same at every N: bring-ups of
 * this many instances in all (and at least WARM_RUNS runs). V8 keeps
 * optimizing a long-lived worker's code for as long as it sees new work:
 * eucanet's CPU per bring-up at N=100 was 48 ms in runs 0-4, 40 in runs
 * 5-14, 35 in runs 15-29 and 29-30 from run 30 on (one process, measured);
 * three runs at N=100 timed a worker still compiling, not a daemon's.
 */
const WARM_INSTANCES = 3000;

const COUNTED_INSTANCES = 3000;
/**
 * Counted runs per approach at N, for a `--reps` of `reps`: a run's time
 * swings with whatever else the machine does, the more the shorter it is
 * (about 30 ms at N=100). The median of 5 at N=100 moved from 0.99x to 1.20x
 * of the floor's from one full run to the next, and the median of 15 from
 * 1.05x to 1.28x over nine full runs (1.05x to 1.27x in nine runs at N=100
 * alone on 4 December, the same code); at N=1000 the median of 5 was 1.08x
 * and 1.12x in two full runs, where side by side it is 1.02x to 1.04x. So
 * below N=3000 more runs are counted, the same number for every approach
 * (fork per op keeps its own count): `reps` times COUNTED_INSTANCES / N
 * (`reps` runs of 3000 instances' worth), at most `boost` times `reps`: 45 at
 * N=100 to 300, 15 at N=1000, `reps` from N=3000 on. They cost about 3
 * minutes of an 18-minute run.
 * @param {number} n
 * @param {number} reps
 * @param {number} [boost]  at most this many times `reps` (1: `reps` at every N)
 */
export const countedRuns = (n, reps, boost = 9) => Math.max(reps, Math.min(boost * reps, Math.round((reps * COUNTED_INSTANCES) / n)));

/**
 * The rounds at which an approach that runs in long-lived worker processes
 * (eucanet) starts a fresh one, warmed up like the first, so that its counted
 * runs are split over `processes` processes in equal blocks. One process's
 * speed differs from another's with the same code: two workers of one build,
 * side by side at N=100 over 60 rounds, gave 0.962x, 0.996x and 1.011x of
 * each other in three runs (docs/performance.md, round 28), while the C
 * floor's counted runs are each a process of its own. Empty for one process
 * or one round.
 * @param {number} rounds
 * @param {number} processes
 * @returns {number[]}
 */
export function workerBlocks(rounds, processes) {
  const k = Math.max(1, Math.min(processes, rounds));
  const len = Math.ceil(rounds / k);
  const starts = [];
  for (let r = len; r < rounds; r += len) starts.push(r);
  return starts;
}

/**
 * Uncounted warm runs of a long-lived worker at N = `n`.
 * @param {number} n
 * @param {number} [instances]  the warm-up's work (0 in a smoke run: WARM_RUNS runs)
 */
export const warmRuns = (n, instances = WARM_INSTANCES) => Math.max(WARM_RUNS, Math.ceil(instances / n));

/**
 * Counted re-applies per counted run (fork per op: 1, each is seconds of
 * processes). A re-apply is short (about 5% of a bring-up: 25 ms at N=1000),
 * so one sample per run swung with the machine (one full run's five: 28 to
 * 81 ms, median 41): the median is taken over REAPPLIES per run, for every
 * approach alike, the floor included.
 */
const REAPPLIES = 3;

/**
 * One run in a fresh namespace; `extraReapplies` more re-applies (uncounted) warm a worker up, then `counted` re-applies are timed.
 * @param {Approach} a
 * @param {number} n
 * @param {number} [extraReapplies]
 * @param {number} [counted]
 */
async function runOnce(a, n, extraReapplies = 0, counted = 1) {
  const ns = await freshNetns(n);
  try {
    await a.open?.(ns, n);
    try {
      const up = await a.up(ns, n);
      expectUp(ns, n, a.nat, a.id);
      for (let k = 0; k < extraReapplies; k++) await a.reconcile(ns, n);
      /** @type {number[]} */
      const reconciles = [];
      for (let k = 0; k < counted; k++) reconciles.push(await a.reconcile(ns, n));
      const down = await a.down(ns, n);
      expectDown(ns, n, a.id);
      return { up, reconcile: reconciles[0], reconciles, down };
    } finally {
      await a.close?.();
    }
  } finally {
    removeNetns(ns);
    // Deleting a namespace queues its teardown (cleanup_net) on a kernel
    // worker, which takes the rtnl lock for tens of milliseconds: without this
    // pause it lands inside the next run's timing (+70 ms at N=100, measured).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
  }
}

/**
 * @param {object} o
 * @param {number[]} o.sizes        instance counts
 * @param {number} o.reps           counted runs per approach and size
 * @param {number} o.forkReps       counted runs for fork-per-op (slow) up to N=1000
 * @param {number} o.forkLargeReps  counted runs for fork-per-op above N=1000 (minutes each)
 * @param {number} o.forkMax        largest N fork-per-op runs at
 * @param {string[]} o.only         approach ids to run
 * @param {number} [o.warmInstances] instances brought up in the warm-up (default WARM_INSTANCES)
 * @param {number} [o.smallBoost]   countedRuns()'s boost at small N (default 9; 1 in a smoke run)
 * @param {boolean} [o.settle]      one uncounted run of every approach but fork per op before the counted ones (default true)
 * @param {(s: string) => void} o.log
 */
export async function runInstances(o) {
  const approaches = APPROACHES.filter((a) => o.only.includes(a.id));
  /** @type {Array<Record<string, any>>} results with toFloor added below */
  const results = [];
  for (const n of o.sizes) {
    const active = approaches.filter((a) => a.id !== 'fork' || n <= o.forkMax);
    const samples = new Map(
      active.map((a) => [a.id, { up: /** @type {number[]} */ ([]), reconcile: /** @type {number[]} */ ([]), down: /** @type {number[]} */ ([]) }]),
    );
    for (const a of active) await a.begin?.(n);
    try {
      // Uncounted runs of the long-lived library worker, with extra re-applies,
      // so that its code is compiled as a running daemon's is (warmRuns()). The first
      // (a fresh process: cold) is kept apart and reported on its own.
      const cold = new Map();
      for (const a of active) {
        if (!a.warmup) continue;
        for (let w = 0; w < warmRuns(n, o.warmInstances); w++) {
          const t = await runOnce(a, n, WARM_REAPPLIES);
          if (w === 0) cold.set(a.id, t);
        }
      }
      // One uncounted run of every approach (fork per op aside: minutes at
      // N=1000) in the first round's order, after the library's warm-up: the
      // first runs at a new N were slow for every approach, C floor included
      // (N=1000 in one full run: eucanet 452 and 412 ms, then 375-385; the
      // floor 377 and 400, then 354-360), the kernel and the machine settling
      // after the previous size's namespaces; the warm-up alone covered only
      // eucanet.
      if (o.settle ?? true) for (const a of active) if (a.id !== 'fork') await runOnce(a, n);
      const rounds = countedRuns(n, Math.max(o.reps, 1), o.smallBoost);
      const renewals = new Map(active.map((a) => [a.id, a.renew ? workerBlocks(rounds, a.processes ?? 1) : []]));
      for (let r = 0; r < rounds; r++) {
        const order = active.map((_, k) => active[(k + r) % active.length]);
        for (const a of order) {
          if (a.id === 'fork' && r >= (n > 1000 ? o.forkLargeReps : o.forkReps)) continue;
          if (must(renewals.get(a.id)).includes(r)) {
            // A fresh worker process for the next block of counted runs, warmed up as the first was.
            await a.renew?.();
            for (let w = 0; w < warmRuns(n, o.warmInstances); w++) await runOnce(a, n, WARM_REAPPLIES);
          }
          const t = await runOnce(a, n, 0, a.id === 'fork' ? 1 : REAPPLIES);
          const s = must(samples.get(a.id));
          s.up.push(t.up);
          s.reconcile.push(...t.reconciles);
          s.down.push(t.down);
          o.log(
            `N=${n} ${a.id.padEnd(11)} up ${t.up.toFixed(1)} ms, re-apply ${t.reconciles.map((x) => x.toFixed(1)).join(' / ')} ms, down ${t.down.toFixed(1)} ms`,
          );
        }
      }
      const rss = active.includes(eucanet) ? await eucanet.peakRssKiB() : undefined;
      for (const a of active) {
        const s = must(samples.get(a.id));
        results.push({
          n,
          approach: a.id,
          label: a.label,
          nat: a.nat,
          runs: s.up.length,
          median: Object.fromEntries(PHASES.map((p) => [p, median(s[p])])),
          samples: s,
          ...(a === eucanet && rss !== undefined ? { peakRssKiB: rss } : {}),
          ...(cold.has(a.id) ? { cold: cold.get(a.id) } : {}),
        });
      }
    } finally {
      for (const a of active) await a.end?.();
    }
  }
  // Ratios to the floor, phase by phase, at the same N.
  for (const r of results) {
    const f = results.find((x) => x.n === r.n && x.approach === 'floor');
    if (f) r.toFloor = Object.fromEntries(PHASES.map((p) => [p, r.median[p] / f.median[p]]));
  }
  return results;
}
