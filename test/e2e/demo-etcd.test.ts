// `eucanet demo --store etcd` end to end (root; run it under the demo lock:
// flock /work/wt/demo.lock npx vitest run test/e2e/demo-etcd.test.ts): the
// demo starts its own etcd, its agents converge from it, every check passes,
// check 9 reports the revoke's propagation to the CC's status, and etcd is
// gone afterwards (process and data), also when a check fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/netns.js';

const root = new URL('../..', import.meta.url).pathname;
const CLI = join(root, 'dist/cli/main.js');
const have = (bin: string) => ['/usr/sbin', '/usr/bin', '/sbin', '/bin'].some((d) => existsSync(join(d, bin)));
const ready = isRoot && existsSync(CLI) && have('dnsmasq') && have('busybox') && have('nsenter') && have('etcd');

/** The demo's etcd processes still running (their command line names the demo's data directory). */
const demoEtcds = () => {
  const out = spawnSync('pgrep', ['-f', '/run/eucanet/demo/etcd'], { encoding: 'utf8' }).stdout.trim();
  return out ? out.split('\n') : [];
};

function demo(env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, 'demo', '--store', 'etcd', '--json'], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The failed checks of a demo report (JSON on stdout), one line each, or the start of stdout if it is not one. */
function failedChecks(stdout: string): string {
  try {
    const rep = JSON.parse(stdout) as { checks?: { name: string; observed: string; pass: boolean }[] };
    return (rep.checks ?? [])
      .filter((c) => !c.pass)
      .map((c) => `FAILED ${c.name}: ${c.observed}\n`)
      .join('');
  } catch {
    return `${stdout.slice(0, 2000)}\n`;
  }
}

describe.skipIf(!ready)('eucanet demo --store etcd (root)', () => {
  it('passes every check over its own etcd, reports the revoke reaching the CC, and removes etcd', () => {
    const r = demo();
    expect(r.stderr).toMatch(/etcd on http:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/);
    // On a failure, the checks that failed (name and what was observed) and the end of stderr name it.
    expect(r.code, failedChecks(r.stdout) + r.stderr.slice(-2000)).toBe(0);
    const rep = JSON.parse(r.stdout) as { store: string; mode: string; failed: number; checks: { name: string; observed: string; pass: boolean }[] };
    expect(rep).toMatchObject({ store: 'etcd', mode: 'agents', failed: 0 });
    const revoke = rep.checks.find((c) => c.name.startsWith('9 revoke'));
    expect(revoke?.pass).toBe(true);
    expect(revoke?.observed).toMatch(/the CC's status showed its revision applied \d+ ms after it returned/);
    expect(demoEtcds()).toEqual([]);
    expect(existsSync('/run/eucanet/demo')).toBe(false);
  }, 200_000);

  it('a failing check still removes etcd', () => {
    const r = demo({ EUCANET_DEMO_BREAK: 'ingress' });
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { failed: number }).failed).toBeGreaterThan(0);
    expect(demoEtcds()).toEqual([]);
    expect(existsSync('/run/eucanet/demo')).toBe(false);
    expect(execFileSync('ip', ['netns', 'list']).toString()).not.toMatch(/^euca-/m);
  }, 200_000);

  it('--store is checked: a bad value and --direct with etcd are exit 2', () => {
    const bad = spawnSync(process.execPath, [CLI, 'demo', '--store', 'redis'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--store must be file or etcd (got "redis")');
    const direct = spawnSync(process.execPath, [CLI, 'demo', '--store', 'etcd', '--direct'], { encoding: 'utf8' });
    expect(direct.status).toBe(2);
    expect(direct.stderr).toContain('--direct');
  });
});
