#!/usr/bin/env node
// The long decoder fuzz run: the same loop as the in-suite test
// (test/unit/decode-fuzz.test.ts), for as many cases as asked.
//
//   npm run fuzz -- [--iterations N] [--seed S] [--start I] [--hang-ms MS]
//
// Defaults: 2,000,000 cases from a seed taken from the clock (printed, so a
// failure replays with --seed S --start I --iterations 1). Exits non-zero on
// a decoder exception that is not DecodeError, a hang, or a crash.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** @type {Record<string, number>} */
const opts = { iterations: 2_000_000, seed: Date.now() % 0x7fffffff, start: 0, 'hang-ms': 10_000 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const m = /^--(iterations|seed|start|hang-ms)(?:=(.*))?$/.exec(args[i]);
  const v = m ? (m[2] ?? args[++i]) : undefined;
  if (!m || v === undefined || !/^\d+$/.test(v)) {
    console.error(`usage: npm run fuzz -- [--iterations N] [--seed S] [--start I] [--hang-ms MS] (bad argument: ${args[i]})`);
    process.exit(2);
  }
  opts[m[1]] = Number(v);
}
console.log(`fuzz: seed ${opts.seed}, cases ${opts.start}-${opts.start + opts.iterations - 1}`);
const r = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/unit/decode-fuzz.test.ts', '-t', 'every decoder returns'], {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    FUZZ_SEED: String(opts.seed),
    FUZZ_START: String(opts.start),
    FUZZ_ITERATIONS: String(opts.iterations),
    FUZZ_HANG_MS: String(opts['hang-ms']),
  },
});
if (r.signal) console.error(`fuzz: the run was killed by ${r.signal} (a hang reports itself above)`);
process.exit(r.status ?? 1);
