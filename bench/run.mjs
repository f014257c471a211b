#!/usr/bin/env node
// npm run bench -- [options]: eucanet against its peers and the kernel floor,
// side by side in one run. Needs root (namespaces, taps, nftables).
//
//   --n 100,1000,5000   instance counts for the "instances" workload
//   --reps 5            counted runs per approach and N (the median is reported;
//                       3 re-applies timed per run but for fork per op;
//                       more below N=3000, up to 9x: countedRuns in instances.mjs)
//   --fork-reps 3       counted runs of fork-per-op up to N=1000
//   --fork-large-reps 1 counted runs of fork-per-op above N=1000 (3 minutes each at 5000)
//   --fork-max 5000     largest N fork-per-op runs at
//   --only a,b          approaches: eucanet,floor,batch,fork,netlink-pkg, and cold
//                       (the cold command-line table); without an approach, no
//                       instances table
//   --cold-n 100,1000,5000  instance counts of the cold command-line table
//   --no-cold           no cold command-line table
//   --cold-cli FILE     the command line the cold table times (default
//                       dist/cli/main.js): another build's, to compare builds
//   --datapath 10,5000  instance counts configured for the datapath workload
//   --seconds 2         length of one connection-rate measurement
//   --dp-reps 5         datapath measurements per ruleset and size
//   --no-instances / --no-datapath
//   --smoke             N=50, 1 run, a short datapath at 10 and 50, cold at 50: for CI
//   --out DIR           where results.json and results.md go (default bench/)
//   --readme            also rewrite README.md's results block
//   --json              print the results as JSON on stdout (progress on stderr)
//   --keep-others       keep the tables of --out's results.json this run does not
//                       measure (e.g. with --only cold), their dates said
//   --no-charts         do not write the SVG charts (bench/charts/, see charts.mjs)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCold } from './cold-cli.mjs';
import { renderCharts } from './charts.mjs';
import { runDatapath } from './datapath.mjs';
import { APPROACHES, runInstances } from './instances.mjs';
import { removeAll } from './lib/ns.mjs';
import { machine } from './lib/machine.mjs';
import { markdown, targets } from './lib/report.mjs';
import { round } from './lib/stats.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const { values: v } = parseArgs({
  options: {
    n: { type: 'string', default: '100,1000,5000' },
    reps: { type: 'string', default: '5' },
    'fork-reps': { type: 'string', default: '3' },
    'fork-large-reps': { type: 'string', default: '1' },
    'fork-max': { type: 'string', default: '5000' },
    only: { type: 'string', default: [...APPROACHES.map((a) => a.id), 'cold'].join(',') },
    'cold-n': { type: 'string', default: '100,1000,5000' },
    'no-cold': { type: 'boolean', default: false },
    'cold-cli': { type: 'string' },
    datapath: { type: 'string', default: '10,5000' },
    seconds: { type: 'string', default: '2' },
    'dp-reps': { type: 'string', default: '5' },
    'no-instances': { type: 'boolean', default: false },
    'no-datapath': { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: here },
    readme: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    'keep-others': { type: 'boolean', default: false },
    'no-charts': { type: 'boolean', default: false },
  },
});
const list = (/** @type {string} */ s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const nums = (/** @type {string} */ s, /** @type {string} */ what) =>
  list(s).map((x) => {
    const k = Number(x);
    if (!Number.isInteger(k) || k < 1 || k > 60000) throw new Error(`--${what}: "${x}" is not a whole number from 1 to 60000`);
    return k;
  });
const opts = {
  sizes: nums(v.n, 'n'),
  reps: nums(v.reps, 'reps')[0],
  forkReps: nums(v['fork-reps'], 'fork-reps')[0],
  forkLargeReps: nums(v['fork-large-reps'], 'fork-large-reps')[0],
  forkMax: nums(v['fork-max'], 'fork-max')[0],
  only: list(v.only).filter((id) => id !== 'cold'),
  cold: list(v.only).includes('cold') && !v['no-cold'],
  coldSizes: nums(v['cold-n'], 'cold-n'),
  dpSizes: nums(v.datapath, 'datapath'),
  seconds: Number(v.seconds),
  dpReps: nums(v['dp-reps'], 'dp-reps')[0],
};
if (v.smoke)
  Object.assign(opts, {
    sizes: [50],
    coldSizes: [50],
    reps: 1,
    warmInstances: 0,
    smallBoost: 1,
    settle: false,
    forkReps: 1,
    forkLargeReps: 1,
    dpSizes: [10, 50],
    seconds: 0.5,
    dpReps: 1,
  });
for (const id of opts.only)
  if (!APPROACHES.some((a) => a.id === id)) throw new Error(`--only: unknown approach "${id}" (${APPROACHES.map((a) => a.id).join(', ')})`);
if (process.getuid?.() !== 0) {
  console.error('bench: needs root (it makes network namespaces, taps and nftables tables)');
  process.exit(2);
}

// Made before the run, so that a long run is not lost to a missing folder at the end.
mkdirSync(v.out, { recursive: true });

const log = (/** @type {string} */ s) => console.error(s);
const cleanup = () => removeAll();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}

// The C programs: the floor and the connection-rate tool.
for (const dir of ['floor', 'connrate']) execFileSync('make', ['-s', '-C', join(here, dir)], { stdio: ['ignore', 'ignore', 'inherit'] });

const started = new Date();
/** @type {import('./lib/report.mjs').Results} */
const results = { date: started.toISOString(), machine: machine(), options: { ...opts, smoke: v.smoke }, load: { start: round(loadavg()[0], 2), end: NaN } };
try {
  if (!v['no-instances'] && opts.only.length) results.instances = await runInstances({ ...opts, log });
  if (opts.cold) results.cold = await runCold({ sizes: opts.coldSizes, reps: opts.reps, log, ...(v['cold-cli'] ? { cli: v['cold-cli'] } : {}) });
  if (!v['no-datapath']) results.datapath = await runDatapath({ sizes: opts.dpSizes, seconds: opts.seconds, reps: opts.dpReps, log });
} finally {
  cleanup();
}
results.seconds = Math.round((Date.now() - started.getTime()) / 1000);
if (results.load) results.load.end = round(loadavg()[0], 2);
if (v['keep-others']) {
  // The tables this run did not measure, from the earlier results in --out (their date said in the report).
  /** @type {import('./lib/report.mjs').Results} */
  const old = JSON.parse(readFileSync(join(v.out, 'results.json'), 'utf8'));
  for (const k of /** @type {const} */ (['instances', 'datapath', 'cold'])) {
    if (results[k] === undefined && old[k] !== undefined) {
      Object.assign(results, { [k]: old[k] });
      const was = old.kept?.find((x) => x.table === k);
      (results.kept ??= []).push({ table: k, date: was?.date ?? old.date, cpu: was?.cpu ?? old.machine.cpu, options: was?.options ?? old.options });
    }
  }
}
results.targets = targets(results);

const md = markdown(results);
writeFileSync(join(v.out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(v.out, 'results.md'), md);
// The charts go beside the results they draw (bench/charts/ for the default --out).
const charts = v['no-charts'] ? [] : await renderCharts(results, join(v.out, 'charts'));
if (v.readme) {
  const readme = join(here, '../README.md');
  const text = readFileSync(readme, 'utf8');
  const re = /(<!-- bench:begin -->\n)[\s\S]*?(<!-- bench:end -->)/;
  if (!re.test(text)) throw new Error('README.md has no <!-- bench:begin --> ... <!-- bench:end --> block');
  writeFileSync(
    readme,
    text.replace(re, (_, a, b) => `${a}${md}${b}`),
  );
}
if (v.json) console.log(JSON.stringify(results, null, 2));
else console.log(md);
log(`results: ${join(v.out, 'results.json')}, ${join(v.out, 'results.md')}${charts.length ? `, ${charts.join(', ')}` : ''} (${results.seconds} s)`);
