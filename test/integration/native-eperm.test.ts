// Permission errors from the kernel say what is missing and make the CLI exit
// 1 (a failure, not bad input). Run for real: the library and the CLI in a
// child started by setpriv with a capability dropped from its bounding set
// (still uid 0, so file access is not what fails): without CAP_NET_ADMIN
// inside a throw-away namespace (netlink requests, nftables batches, the tap
// ioctl, a sysctl write), and without CAP_SYS_ADMIN when the namespace has to
// be entered (setns). The namespace is unchanged afterwards. Needs root.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
if (!isRoot || !hasSetpriv) console.warn('test/integration/native-eperm.test.ts: skipped, needs root and setpriv (util-linux)');

const root = new URL('../..', import.meta.url).pathname;
const lib = join(root, 'dist/index.js');
const cli = join(root, 'dist/cli/main.js');
const without = (cap: string) => ['setpriv', `--inh-caps=-${cap}`, `--bounding-set=-${cap}`, '--', process.execPath];
const run = (argv: string[]) => spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
const inNetns = (ns: string, argv: string[]) => run(['ip', 'netns', 'exec', ns, ...argv]);
const NET_ADMIN = 'needs root or CAP_NET_ADMIN';

describe.skipIf(!isRoot || !hasSetpriv)('permission errors (root, capabilities dropped)', () => {
  it('without CAP_NET_ADMIN: every kind of request names what is missing; nothing changes', async () => {
    await withNetns(async (ns) => {
      const before = kernelDump(ns);
      const r = inNetns(ns, [...without('net_admin'), join(root, 'test/helpers/eperm-child.mjs'), lib]);
      expect(r.status, r.stderr).toBe(0);
      const got = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .map((x) => [x.what, x]),
      );
      expect(got['link add'].message).toBe(`link add eucabr10 (bridge): EPERM: operation not permitted (${NET_ADMIN})`);
      expect(got['nft batch'].message).toContain(`EPERM: operation not permitted (${NET_ADMIN})`);
      expect(got['tap create'].message).toBe(`tap create vnet9: ioctl(TUNSETIFF): Operation not permitted (EPERM; ${NET_ADMIN})`);
      expect(got['sysctl write']).toMatchObject({ code: 'EPERM' });
      expect(got['sysctl write'].message).toContain(`(EPERM; ${NET_ADMIN})`);
      expect(got.transaction).toMatchObject({ name: 'TransactionError', code: 'EPERM' });
      expect(got.transaction.message).toContain(`EPERM: operation not permitted (${NET_ADMIN})`);
      expect(kernelDump(ns)).toBe(before);
    });
  }, 60_000);

  it('the CLI exits 1 with one line naming what is missing: CAP_NET_ADMIN inside, CAP_SYS_ADMIN to enter --netns', async () => {
    await withNetns(async (ns) => {
      addVeth(ns);
      const before = kernelDump(ns);
      const dir = mkdtempSync(join(tmpdir(), 'eucanet-eperm-'));
      try {
        const state = join(dir, 'state.json');
        // Without 802.1Q on this kernel, preflight would refuse vlan before the kernel is asked anything.
        const seed = JSON.parse(readFileSync(join(root, 'examples/seed.json'), 'utf8')) as Record<string, unknown>;
        writeFileSync(state, JSON.stringify({ ...seed, mode: 'MANAGED-NOVLAN', segmentation: 'none' }));
        const inside = inNetns(ns, [...without('net_admin'), cli, 'apply', '--state', state, '--role', 'nc', '--node', 'nc1']);
        expect(inside.status, inside.stderr).toBe(1);
        expect(inside.stderr.trim().split('\n')).toHaveLength(1);
        expect(inside.stderr).toMatch(/^eucanet: .*EPERM: operation not permitted \(needs root or CAP_NET_ADMIN\)/);

        const enter = run([...without('sys_admin'), cli, 'apply', '--state', state, '--role', 'nc', '--node', 'nc1', '--netns', ns]);
        expect(enter.status, enter.stderr).toBe(1);
        expect(enter.stderr.trim().split('\n')).toHaveLength(1);
        expect(enter.stderr).toContain(`setns(/run/netns/${ns}): Operation not permitted (EPERM; needs root or CAP_SYS_ADMIN)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(kernelDump(ns)).toBe(before);
    });
  }, 60_000);
});

/** The node's private interface, so that the plan gets as far as the kernel. */
function addVeth(ns: string): void {
  expect(spawnSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']).status).toBe(0);
}
