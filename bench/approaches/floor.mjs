// The floor: bench/floor/floor.c, libmnl + libnftnl, the same kernel work
// pipelined with no abstraction. It times itself (process start excluded).
import { spawnSync } from 'node:child_process';

export const floorBin = new URL('../floor/build/floor', import.meta.url).pathname;

/**
 * @param {string} ns
 * @param {string} phase
 * @param {number} n
 * @returns {number}
 */
function run(ns, phase, n) {
  const r = spawnSync(floorBin, ['--netns', ns, phase, String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`floor ${phase} ${n}: ${r.stderr || r.error}`);
  const out = JSON.parse(r.stdout);
  if (phase === 'reconcile' && !out.ok) throw new Error(`floor reconcile found a difference: ${r.stdout}`);
  return out.ms;
}

/** @type {import('../lib/workload.mjs').Approach} */
export default {
  id: 'floor',
  label: 'floor: C, libmnl + libnftnl, pipelined',
  nat: 'map',
  up: async (ns, n) => run(ns, 'up', n),
  reconcile: async (ns, n) => run(ns, 'reconcile', n),
  down: async (ns, n) => run(ns, 'down', n),
};
