// bench/charts.mjs: each chart renders (Vega-Lite compiled to Vega, rendered
// headless) as one well-formed SVG document whose legend names every series
// of the data it was given; a chart without data is left out.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartSpecs, renderCharts, renderSvg } from '../../bench/charts.mjs';

const results = {
  instances: [
    { n: 100, approach: 'eucanet', median: { up: 20.5 } },
    { n: 1000, approach: 'eucanet', median: { up: 180.2 } },
    { n: 100, approach: 'floor', median: { up: 13.1 } },
    { n: 1000, approach: 'floor', median: { up: 160.7 } },
    { n: 100, approach: 'fork', median: { up: 640 } },
    { n: 1000, approach: 'fork', median: { up: 6600 } },
  ],
  datapath: {
    results: [
      { n: 10, ruleset: 'eucanet', median: 57000 },
      { n: 10, ruleset: 'linear', median: 51000 },
      { n: 5000, ruleset: 'eucanet', median: 55000 },
      { n: 5000, ruleset: 'linear', median: 12700 },
    ],
  },
  cold: [
    { n: 100, phases: { 'process start': 40, 'state load': 5, commit: 30, dhcp: 12 } },
    { n: 1000, phases: { 'process start': 41, 'state load': 30, commit: 300, dhcp: 40 } },
  ],
};

/** Well-formed enough for a browser: one <svg> root with the SVG namespace, closed, and every tag balanced. */
function expectSvg(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const open = (svg.match(/<[a-zA-Z][^>]*[^/]>|<[a-zA-Z]>/g) ?? []).length;
  const close = (svg.match(/<\/[a-zA-Z]+>/g) ?? []).length;
  expect(open).toBe(close);
}

describe('bench/charts.mjs', () => {
  it('bring-up against N: one line per approach, log-log axes, tick labels of the data', async () => {
    const spec = chartSpecs(results).bringup as { encoding: { x: { scale: { type: string } }; y: { scale: { type: string } } } };
    expect(spec.encoding.x.scale.type).toBe('log');
    expect(spec.encoding.y.scale.type).toBe('log');
    const svg: string = await renderSvg(spec);
    expectSvg(svg);
    for (const s of ['eucanet', 'C floor (libmnl + libnftnl)', 'fork per op']) expect(svg).toContain(`>${s}</text>`);
    // One line per approach, a point per measurement.
    expect((svg.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(3);
    expect((svg.match(/aria-roledescription="point"/g) ?? []).length).toBe(6);
  });

  it('the cold command line: one bar per N, one segment per phase', async () => {
    const svg: string = await renderSvg(chartSpecs(results).cold);
    expectSvg(svg);
    for (const s of ['N=100', 'N=1000', 'process start', 'state load', 'commit', 'dhcp']) expect(svg).toContain(`>${s}</text>`);
    expect((svg.match(/role="graphics-symbol" aria-roledescription="bar"/g) ?? []).length).toBe(8);
  });

  it('the datapath: a bar per ruleset at each size', async () => {
    const svg: string = await renderSvg(chartSpecs(results).datapath);
    expectSvg(svg);
    for (const s of ['10 instances', '5000 instances', 'eucanet (maps)', 'Eucalyptus-style linear rules']) expect(svg).toContain(`>${s}</text>`);
    expect((svg.match(/role="graphics-symbol" aria-roledescription="bar"/g) ?? []).length).toBe(4);
  });

  it('writes a file per chart with data, and none for data the run did not measure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-charts-'));
    try {
      const { cold: _cold, ...withoutCold } = results;
      const files: string[] = await renderCharts(withoutCold, dir);
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['bringup.svg', 'datapath.svg']);
      expect(readdirSync(dir).sort()).toEqual(['bringup.svg', 'datapath.svg']);
      expectSvg(readFileSync(join(dir, 'bringup.svg'), 'utf8'));
      expect(await renderCharts({}, dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
