// Fuzzes every decoder of kernel replies with mutated captured replies and
// random bytes (test/fuzz/): each call must return or throw DecodeError. Any
// other exception, a case slower than its budget, or a hang (the watchdog
// kills the process) fails the run, naming the seed and the case to replay.
//
//   FUZZ_SEED, FUZZ_START, FUZZ_ITERATIONS override the run; the long run is
//   `npm run fuzz -- --iterations N [--seed S] [--start I]`.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../fuzz/fuzz.js';
import { withWatchdog } from '../fuzz/guard.js';
import { Rng } from '../fuzz/prng.js';
import { seeds } from '../fuzz/seeds.js';
import { decodeReply, targets } from '../fuzz/targets.js';

const env = (name: string, dflt: number) => (process.env[name] !== undefined ? Number(process.env[name]) : dflt);
const seed = env('FUZZ_SEED', 20261130);
const start = env('FUZZ_START', 0);
const iterations = env('FUZZ_ITERATIONS', 100_000);
const hangMs = env('FUZZ_HANG_MS', 10_000);

describe('decoder fuzz', () => {
  it('the seeds, unmutated, decode without a single DecodeError (the checks refuse no real reply)', () => {
    const all = seeds();
    const rng = new Rng(1);
    rng.chance = () => true; // elements go to the set they name
    const t = targets(all, () => rng);
    for (const s of all) {
      const failed: string[] = [];
      // Only the decoder each message's type calls for.
      const calls = decodeReply(
        t,
        s.family,
        s.bytes,
        rng,
        (call, fn) => {
          try {
            fn();
            return true;
          } catch (err) {
            failed.push(`${call.decoder} #${call.message}: ${(err as Error).message}`);
            return false;
          }
        },
        false,
      );
      expect(failed, s.name).toEqual([]);
      expect(calls, s.name).toBeGreaterThan(1);
    }
    expect(all.map((s) => s.name)).toContain('synthetic/link-vlan');
  });

  it(
    `${iterations} cases from seed ${seed}: every decoder returns or throws DecodeError`,
    async () => {
      const stats = await withWatchdog(seed, hangMs, (progress) => fuzz({ seed, start, iterations, progress }));
      console.log(
        `fuzz: seed ${seed}, cases ${start}-${start + iterations - 1}: ${stats.calls} decoder calls in ${stats.ms.toFixed(0)} ms (${stats.cpuMs.toFixed(0)} ms CPU), ` +
          `slowest case ${stats.slowestCaseMs.toFixed(1)} ms\n  decoded: ${JSON.stringify(stats.decoded)}\n  DecodeError: ${JSON.stringify(stats.typed)}`,
      );
      expect(stats.cases).toBe(iterations);
      // The run reaches past the framing into every decoder, both ways.
      for (const d of [
        'batchError',
        'decodeLink',
        'decodeAddress',
        'decodeRoute',
        'decodeNeighbor',
        'decodeError',
        'decodeTable',
        'decodeChain',
        'decodeRule',
        'decodeSet',
        'decodeElements',
      ]) {
        if (iterations < 10_000) break;
        expect(stats.decoded[d], d).toBeGreaterThan(0);
        expect(stats.typed[d], d).toBeGreaterThan(0);
      }
    },
    Math.max(600_000, iterations * 2),
  );

  it('the watchdog kills a run whose case makes no progress, naming the seed and case', () => {
    const dog = fileURLToPath(new URL('../fuzz/watchdog.mjs', import.meta.url));
    const script = `
      const { Worker } = require('node:worker_threads');
      const progress = new Int32Array(new SharedArrayBuffer(4));
      progress[0] = 41;
      const w = new Worker(${JSON.stringify(dog)}, { workerData: { progress, budgetMs: 300, seed: 7 } });
      w.once('online', () => { Atomics.store(progress, 0, 42); for (;;) {} });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stderr).toContain('HANG: seed 7 case 42');
    expect(r.stderr).toContain('--seed 7 --start 42 --iterations 1');
  });
});
