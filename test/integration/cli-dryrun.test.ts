// --dry-run never changes anything: every command that changes something is
// run with --dry-run against a cluster controller and a node controller that
// are up (each in its own throw-away namespace, dnsmasq running), with a
// state that differs from what they run, and the full dumps of both
// namespaces (links, addresses, routes, the nft ruleset, ip_forward) and the
// bytes of every file involved (state files, dnsmasq's files, the sysctl
// records) are the same after as before. Each dry run must also have
// something to say, so that an empty plan cannot pass for a careful one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eucanet, repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { settledDump, stableDump as stable } from '../helpers/settle.js';

if (!isRoot) console.warn('test/integration/cli-dryrun.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-dryrun-'));
/** Namespaces used, whose DHCP state directories (/run/eucanet/NAME) go afterwards. */
const used: string[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const ns of used) rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
});
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const running = join(dir, 'running.json');
writeFileSync(running, JSON.stringify(seed));
// The state an operator is about to apply: one more instance, with a public IP.
const next = join(dir, 'next.json');
writeFileSync(next, JSON.stringify({ ...seed, instances: [...seed.instances, { id: 'i-9', group: 'admin/default', node: 'nc1', publicIp: true }] }));
const unallocated = join(dir, 'unallocated.json');
writeFileSync(unallocated, `${JSON.stringify(seed)}\n`);

function files(paths: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const entries = p.endsWith('.json') ? [p] : readdirSync(p).map((f) => join(p, f));
    for (const f of entries) out[f] = statSync(f).isDirectory() ? 'dir' : readFileSync(f).toString('base64');
  }
  return out;
}

function host(ns: string) {
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
}

describe.skipIf(!isRoot)('--dry-run changes nothing (root)', () => {
  it('apply, down (with and without --force) and allocate, all with --dry-run, against a running CC and NC', async () => {
    await withNetns(async (cc) => {
      used.push(cc);
      await withNetns(async (nc) => {
        used.push(nc);
        host(cc);
        host(nc);
        try {
          expect(eucanet(['apply', '--state', running, '--role', 'cc', '--netns', cc]).status).toBe(0);
          expect(eucanet(['apply', '--state', running, '--role', 'nc', '--node', 'nc1', '--netns', nc]).status).toBe(0);
          const watched = [running, next, unallocated, `/run/eucanet/${cc}`, `/run/eucanet/${cc}/dnsmasq`, '/run/eucanet/sysctl'];
          const before = { cc: await settledDump(cc), nc: await settledDump(nc), files: files(watched) };
          expect(Object.keys(before.files).some((f) => f.endsWith('/hosts'))).toBe(true);

          const runs: Array<[string[], RegExp]> = [
            [
              ['allocate', '--state', unallocated, '--dry-run'],
              /would be written \(dry run: not written\)\n {2}groups\[1\] admin\/web: subnet 10\.1\.1\.32\/27\n {2}instances\[0\] i-1: privateIp 10\.1\.2\.2, mac d0:0d:0a:01:02:02\n/,
            ],
            [['down', '--role', 'cc', '--netns', cc, '--dry-run'], /would remove .*\n[\s\S]*dnsmasq: would stop[\s\S]*ip_forward: would restore to 0/],
            [['apply', '--state', next, '--role', 'cc', '--netns', cc, '--dry-run'], /192\.168\.32\.202/],
            [['apply', '--state', next, '--role', 'nc', '--node', 'nc1', '--netns', nc, '--dry-run'], /vnet4/],
            [['apply', '--state', next, '--role', 'nc', '--node', 'nc1', '--netns', cc, '--dry-run', '--force'], /taken over \(--force\)/],
            [['down', '--role', 'nc', '--netns', nc, '--dry-run'], /would remove [\s\S]*vnet1/],
            [['down', '--role', 'cc', '--netns', nc, '--dry-run', '--force'], /would remove [\s\S]*nftables tables: bridge eucanet-nc/],
            [['down', '--role', 'nc', '--netns', cc, '--dry-run'], /nothing of this role to remove[\s\S]*left: /],
          ];
          for (const [args, says] of runs) {
            const r = eucanet(args);
            expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
            expect(r.stdout, args.join(' ')).toMatch(says);
          }
          expect(stable(cc)).toBe(before.cc);
          expect(stable(nc)).toBe(before.nc);
          expect(files(watched)).toEqual(before.files);
        } finally {
          eucanet(['down', '--role', 'cc', '--netns', cc]);
        }
      }, 'eut-dry');
    }, 'eut-dry');
  }, 180_000);
});
