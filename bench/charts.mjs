#!/usr/bin/env node
// The benchmark's charts, as SVG: Vega-Lite specifications compiled to Vega
// and rendered headless by Vega in Node (no browser, no canvas: the SVG
// renderer measures text by estimate).
//
//   node bench/charts.mjs [results.json] [--out DIR]
//
// Renders from an existing results.json (default bench/results.json) into
// DIR (default bench/charts/); bench/run.mjs calls renderCharts() after a run.
//   bringup.svg    bring-up time against N, every approach, log-log axes
//   cold.svg       the cold command line's per-phase split (results.cold,
//                  when the run measured it; otherwise not drawn)
//   datapath.svg   new connections per second at each configured size,
//                  eucanet's maps against Eucalyptus-style linear rules
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import * as vl from 'vega-lite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The part of bench/results.json the charts read. `cold` is written by the
 * cold command-line table when a run measured it.
 * (Loosely typed: results.json as written by earlier runs, too.)
 * @typedef {object} ChartInput
 * @property {Array<Record<string, any>>} [instances]   rows {n, approach, median: {up}}
 * @property {{ results?: Array<Record<string, any>> }} [datapath]   rows {n, ruleset, median}
 * @property {Array<Record<string, any>>} [cold]   rows {n, phases: {<phase>: median ms}}
 */

/** Short names for the chart legends (the results' labels are sentences). */
const SHORT = /** @type {Record<string, string>} */ ({
  eucanet: 'eucanet',
  floor: 'C floor (libmnl + libnftnl)',
  batch: 'ip -batch + nft -f',
  fork: 'fork per op',
  'netlink-pkg': 'npm netlink (no NAT)',
});
const RULESETS = /** @type {Record<string, string>} */ ({ eucanet: 'eucanet (maps)', linear: 'Eucalyptus-style linear rules' });

const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', width: 520, height: 320 };

/** @param {ChartInput} res */
function bringupSpec(res) {
  const values = (res.instances ?? []).map((r) => ({ n: r.n, approach: SHORT[r.approach] ?? r.approach, ms: r.median.up }));
  if (!values.length) return undefined;
  return {
    ...base,
    title: 'Bring-up of N instances (median, ms; log-log)',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'n', type: 'quantitative', title: 'instances (N)', scale: { type: 'log' } },
      y: { field: 'ms', type: 'quantitative', title: 'bring-up (ms)', scale: { type: 'log' } },
      color: { field: 'approach', type: 'nominal', title: 'approach', legend: { labelLimit: 400 } },
      tooltip: [{ field: 'approach' }, { field: 'n' }, { field: 'ms', format: '.1f' }],
    },
  };
}

/** @param {ChartInput} res */
function coldSpec(res) {
  const values = (res.cold ?? []).flatMap((r) => Object.entries(r.phases ?? {}).map(([phase, ms], index) => ({ n: `N=${r.n}`, phase, ms, index })));
  if (!values.length) return undefined;
  return {
    ...base,
    height: 40 * new Set(values.map((v) => v.n)).size + 40,
    title: 'Cold `eucanet apply` (NC + CC): where the time goes (median ms per phase)',
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'n', type: 'nominal', title: null, sort: null },
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds', stack: 'zero' },
      color: { field: 'phase', type: 'nominal', title: 'phase', sort: null, legend: { labelLimit: 400 } },
      order: { field: 'index', type: 'quantitative' },
      tooltip: [{ field: 'n' }, { field: 'phase' }, { field: 'ms', format: '.1f' }],
    },
  };
}

/** @param {ChartInput} res */
function datapathSpec(res) {
  const values = (res.datapath?.results ?? []).map((r) => ({ n: `${r.n} instances`, ruleset: RULESETS[r.ruleset] ?? r.ruleset, rate: r.median }));
  if (!values.length) return undefined;
  return {
    ...base,
    title: 'New TCP connections per second through the CC (median)',
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'n', type: 'nominal', title: 'instances configured', sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'ruleset', type: 'nominal' },
      y: { field: 'rate', type: 'quantitative', title: 'connections/s' },
      color: { field: 'ruleset', type: 'nominal', title: 'ruleset', legend: { labelLimit: 400, orient: 'bottom' } },
      tooltip: [{ field: 'ruleset' }, { field: 'n' }, { field: 'rate', format: '.0f' }],
    },
  };
}

/**
 * The Vega-Lite specifications for what `res` holds, by file stem; a chart
 * whose data the run did not measure is left out.
 * @param {ChartInput} res
 * @returns {Record<string, object>}
 */
export function chartSpecs(res) {
  /** @type {Record<string, object>} */
  const out = {};
  for (const [name, make] of /** @type {const} */ ([
    ['bringup', bringupSpec],
    ['cold', coldSpec],
    ['datapath', datapathSpec],
  ])) {
    const spec = make(res);
    if (spec) out[name] = spec;
  }
  return out;
}

/**
 * One Vega-Lite specification as an SVG document.
 * @param {object} spec
 * @returns {Promise<string>}
 */
export async function renderSvg(spec) {
  const compiled = vl.compile(/** @type {import('vega-lite').TopLevelSpec} */ (spec)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders every chart `res` has data for into `dir`; returns the files written.
 * @param {ChartInput} res
 * @param {string} [dir]
 * @returns {Promise<string[]>}
 */
export async function renderCharts(res, dir = join(here, 'charts')) {
  mkdirSync(dir, { recursive: true });
  const written = [];
  for (const [name, spec] of Object.entries(chartSpecs(res))) {
    const file = join(dir, `${name}.svg`);
    writeFileSync(file, (await renderSvg(spec)) + '\n');
    written.push(file);
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string', default: join(here, 'charts') } } });
  const file = positionals[0] ?? join(here, 'results.json');
  const res = JSON.parse(readFileSync(file, 'utf8'));
  for (const f of await renderCharts(res, values.out)) console.log(f);
}
