// The benchmark's smoke version (bench/run.mjs --smoke: N=50, one run of each
// approach, a short datapath run), so that `npm run bench` cannot rot. It
// checks that every approach ran and left its namespace as it should (the
// harness verifies each run with `ip -j` and `nft -j`), that the results
// files are written, and that nothing is left behind. Speed is not judged here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/netns.js';

const root = new URL('../..', import.meta.url).pathname;
const have = (bin: string) => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, bin)));
const ready = isRoot && have('make') && have('pkg-config') && existsSync('/usr/include/libnftnl/table.h') && existsSync('/usr/include/libmnl/libmnl.h');

interface PhaseTimes {
  up: number;
  reconcile: number;
  down: number;
}
interface Results {
  instances: { n: number; approach: string; runs: number; median: PhaseTimes; toFloor: PhaseTimes; peakRssKiB?: number }[];
  datapath: { results: { n: number; ruleset: string; median: number; samples: number[] }[] };
  targets: { what: string; met?: boolean }[];
  cold: { n: number; eucanet: { median: number; runs: number[] }; batch: { median: number; runs: number[] }; ratio: number; phases: Record<string, number> }[];
}

const leftovers = () => (existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => /^eu[bd]\d+-/.test(n)) : []);

describe.skipIf(!ready)('npm run bench -- --smoke (root)', () => {
  it('runs every approach and both rulesets, writes results.json and results.md, leaves nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'eucanet-bench-smoke-'));
    try {
      const stdout = execFileSync(process.execPath, [join(root, 'bench/run.mjs'), '--smoke', '--json', '--out', out], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 240_000,
      });
      const res = JSON.parse(stdout) as Results;
      expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'))).toEqual(res);
      const md = readFileSync(join(out, 'results.md'), 'utf8');
      expect(md).toContain('| N | approach | bring-up | no-change re-apply | teardown | runs |');

      expect(res.instances.map((r) => r.approach).sort()).toEqual(['batch', 'eucanet', 'floor', 'fork', 'netlink-pkg']);
      for (const r of res.instances) {
        expect(r).toMatchObject({ n: 50, runs: 1 });
        for (const p of ['up', 'reconcile', 'down'] as const) expect(r.median[p]).toBeGreaterThan(0);
      }
      const by = (a: string) => res.instances.find((r) => r.approach === a)!;
      // A process per step is slower than one batch by far, whatever the machine's noise.
      expect(by('fork').median.up).toBeGreaterThan(5 * by('batch').median.up);
      expect(by('floor').toFloor.up).toBe(1);
      expect(by('eucanet').peakRssKiB).toBeGreaterThan(10_000);

      expect(res.datapath.results.map((r) => `${r.ruleset} ${r.n}`).sort()).toEqual(['eucanet 10', 'eucanet 50', 'linear 10', 'linear 50']);
      for (const r of res.datapath.results) expect(r.median).toBeGreaterThan(100);
      // The cold command line: eucanet apply NC + CC against the tools, with eucanet's phases as its processes reported them.
      expect(md).toContain('| N | eucanet apply NC + CC | ip + bridge + nft + dnsmasq | ratio | runs |');
      expect(res.cold).toHaveLength(1);
      expect(res.cold[0]).toMatchObject({ n: 50, eucanet: { runs: [res.cold[0].eucanet.median] }, batch: { runs: [res.cold[0].batch.median] } });
      expect(res.cold[0].batch.median).toBeGreaterThan(0);
      for (const p of ['boot', 'modules', 'state', 'allocate', 'preflight', 'plan', 'reads', 'diff', 'commit', 'conntrack', 'dhcp', 'exit'])
        expect(res.cold[0].phases[p], p).toBeGreaterThanOrEqual(0);
      const sum = Object.values(res.cold[0].phases).reduce((a, b) => a + b, 0);
      // The phases (with exit: fork, exec and exit seen from outside) add up to the run, less the harness's steps between the two.
      expect(sum).toBeLessThanOrEqual(res.cold[0].eucanet.median + 0.5);
      expect(sum).toBeGreaterThan(0.95 * res.cold[0].eucanet.median);
      // A smoke run judges no target.
      expect(res.targets.every((t) => t.met === undefined)).toBe(true);
      expect(leftovers()).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});
