// The decoder fuzz loop, shared by the in-suite test (decode-fuzz.test.ts)
// and the long run (npm run fuzz). Case i of a run with seed S is built and
// decoded from caseRng(S, i) alone, so one failing case replays by itself.
// A decoder may return or throw DecodeError; anything else thrown fails the
// run, with the seed, the case and its bytes. A hang is the watchdog's
// (watchdog.mjs): the loop publishes its case number in shared memory.
import { isDecodeError } from '../../src/errors.js';
import { corpus, mutate, randomBytes, singles, type Corpus } from './mutate.js';
import { caseRng, type Rng } from './prng.js';
import { seeds } from './seeds.js';
import { decodeReply, targets, type Call, type Targets } from './targets.js';

export interface FuzzOptions {
  seed: number;
  /** First case number (to replay one case: start = it, iterations = 1). */
  start?: number;
  iterations: number;
  /** Longest a single case may take, in ms (a slow case is a bug too); 3000 leaves room for a loaded machine. */
  caseBudgetMs?: number;
  /** Written with the current case number before each case (for the watchdog). */
  progress?: Int32Array;
  /** Keep stack traces on (they are off during a run: see fuzz()). */
  traces?: boolean;
}

export interface FuzzStats {
  cases: number;
  calls: number;
  /** Decoder calls that threw DecodeError, by decoder. */
  typed: Record<string, number>;
  /** Decoder calls that returned, by decoder. */
  decoded: Record<string, number>;
  slowestCaseMs: number;
  /** Wall and CPU time of the loop (the machine may be shared: CPU time is the steadier one). */
  ms: number;
  cpuMs: number;
}

export class FuzzFailure extends Error {
  constructor(
    readonly seed: number,
    readonly iteration: number,
    readonly what: string,
    readonly input: Buffer,
    override readonly cause: unknown,
  ) {
    const hex = input.toString('hex');
    super(
      `fuzz seed ${seed} case ${iteration}: ${what}\n` +
        `  replay: npm run fuzz -- --seed ${seed} --start ${iteration} --iterations 1\n` +
        `  input (${input.length} bytes): ${hex.length > 4096 ? `${hex.slice(0, 4096)}...` : hex}\n` +
        `  thrown: ${cause instanceof Error ? cause.stack : String(cause)}`,
    );
    this.name = 'FuzzFailure';
  }
}

interface Built {
  family: Corpus['family'];
  from: string;
  bytes: Buffer;
}

function build(whole: readonly Corpus[], parts: readonly Corpus[], rng: Rng): Built {
  const r = rng.below(100);
  if (r < 10) {
    const family = rng.chance(0.5) ? 'rtnl' : 'nft';
    return { family, from: `random ${family} bytes`, bytes: randomBytes(family, rng) };
  }
  // Whole replies cost ten single messages; one case in ten is one.
  const c = r < 20 ? rng.pick(whole) : rng.pick(parts);
  return { family: c.family, from: `mutated ${c.name}`, bytes: mutate(c, whole, rng) };
}

export function fuzz(o: FuzzOptions): FuzzStats {
  const all = seeds();
  const whole = all.map(corpus);
  const parts = whole.flatMap(singles);
  let rng: Rng = caseRng(o.seed, 0);
  const t = targets(all, () => rng);
  const stats: FuzzStats = { cases: 0, calls: 0, typed: {}, decoded: {}, slowestCaseMs: 0, ms: 0, cpuMs: 0 };
  // Stack traces are most of the cost of a thrown DecodeError, and a run
  // throws hundreds of thousands: off during the run. A failing case is run
  // again with them on, so that its report shows where it threw.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!o.traces) Error.stackTraceLimit = 0;
  try {
    loop(o, whole, parts, t, stats, (r) => (rng = r));
  } catch (err) {
    Error.stackTraceLimit = stackTraceLimit;
    if (err instanceof FuzzFailure && err.cause !== undefined && !o.traces) {
      fuzz({ seed: o.seed, start: err.iteration, iterations: 1, traces: true });
    }
    throw err;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  return stats;
}

function loop(o: FuzzOptions, whole: readonly Corpus[], parts: readonly Corpus[], t: Targets, stats: FuzzStats, setRng: (r: Rng) => void): void {
  let rng: Rng;
  const budget = o.caseBudgetMs ?? 3000;
  const start = o.start ?? 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = start; i < start + o.iterations; i++) {
    if (o.progress) Atomics.store(o.progress, 0, i);
    rng = caseRng(o.seed, i);
    setRng(rng);
    const c = build(whole, parts, rng);
    const c0 = performance.now();
    const run = (call: Call, fn: () => unknown): boolean => {
      try {
        fn();
        stats.decoded[call.decoder] = (stats.decoded[call.decoder] ?? 0) + 1;
        return true;
      } catch (err) {
        if (!isDecodeError(err)) {
          const where = call.message >= 0 ? ` on message #${call.message}` : '';
          throw new FuzzFailure(o.seed, i, `${call.decoder}${where} of ${c.from} threw ${(err as Error)?.name ?? typeof err}, not DecodeError`, c.bytes, err);
        }
        stats.typed[call.decoder] = (stats.typed[call.decoder] ?? 0) + 1;
        return false;
      }
    };
    stats.calls += decodeReply(t, c.family, c.bytes, rng, run);
    const took = performance.now() - c0;
    if (took > stats.slowestCaseMs) stats.slowestCaseMs = took;
    if (took > budget) throw new FuzzFailure(o.seed, i, `${c.from} took ${took.toFixed(0)} ms to decode (budget ${budget} ms)`, c.bytes, undefined);
    stats.cases++;
  }
  stats.ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  stats.cpuMs = (cpu.user + cpu.system) / 1000;
}
