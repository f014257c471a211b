// The CC agent's instance-only sync (agent/cc-sync.ts) against the real
// kernel and a real dnsmasq: a run-instance or terminate (no public address)
// is applied by the changed instances' FDB entries and DHCP hosts alone: no
// preflight, no plan of the role, no link, FDB or nft read. The oracle is a
// full apply of the same version: right after, it must send nothing, find
// dnsmasq's files as it would write them (`unchanged`), and leave the kernel
// (`ip -j -d link`, `bridge -j fdb`, `nft -j list ruleset`, addresses) as it
// was. A version with a public address takes the usual path; an FDB entry
// not as the agent left it makes the fast commit fail: rolled back, and a
// full reconcile follows at once.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runInstance, terminateInstance } from '../../src/managed/ops/index.js';
import { NetlinkConnection } from '../../src/netlink/socket.js';
import { withCc as ccIn, fullFindsNothing, write, type Cc } from '../helpers/agent-cc.js';
import { fdbOf } from '../helpers/agent-kernel.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-cc-instances.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-ccinst-'));
chmodSync(dir, 0o711); // dnsmasq re-reads its hosts file as nobody
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
const cloud = { ...seed, segmentation: 'vxlan', vxlanMacs: 'static', nodes: { ...seed.nodes, nc3: { privateInterface: 'eth0', underlay: '10.0.0.13/24' } } };
const withCc = (fn: (cc: Cc) => Promise<void>) => ccIn(dir, cloud, 'euccin', fn);

/** The lines of dnsmasq's hosts file that are hosts (MAC,address[,hostname]). */
const hostsOf = (cc: Cc) =>
  readFileSync(join(cc.stateDir, 'hosts'), 'utf8')
    .split('\n')
    .filter((l) => /^[0-9a-f]{2}:/.test(l))
    .sort();

describe.skipIf(!isRoot)('the CC agent applies an instance-only version by its FDB entries and DHCP hosts alone (root, dnsmasq)', () => {
  it('run-instance and terminate (a new node in a group too): what a full apply makes, nothing read', async () => {
    await withCc(async (cc) => {
      const vx = (group: string) => `eucavx${cc.agent.current?.state.groups.find((g) => `${g.owner}/${g.name}` === group)?.vlan}`;
      const inst = (id: string) => cc.agent.current?.state.instances.find((i) => i.id === id);
      const fdb0 = fdbOf(cc.ns);
      const hosts0 = hostsOf(cc);
      const dumps = vi.spyOn(NetlinkConnection.prototype, 'dump');
      try {
        const run = await write(cc, (s) => runInstance(s, { id: 'i-20', group: 'admin/default', node: 'nc2' }));
        expect(run).toMatchObject({ result: 'ok', mode: 'incremental', instances: true, changed: 'fdb (+1 -0)', ops: 1, dhcp: 'hosts' });
        const i20 = inst('i-20');
        expect(fdbOf(cc.ns)).toEqual([...fdb0, `${vx('admin/default')} ${i20?.mac} 10.0.0.12`].sort());
        // Its host's file in dnsmasq's hosts directory.
        expect(readdirSync(join(cc.stateDir, 'hosts.d'))).toContain(i20?.privateIp);
        // The first instance of a group on nc3: its MAC and nc3 in the group's flood list.
        const first = await write(cc, (s) => runInstance(s, { id: 'i-21', group: 'admin/web', node: 'nc3' }));
        expect(first).toMatchObject({ result: 'ok', mode: 'incremental', instances: true, changed: 'fdb (+2 -0)', ops: 2, dhcp: 'hosts' });
        const web = vx('admin/web');
        const i21 = inst('i-21');
        expect(fdbOf(cc.ns)).toEqual(
          [...fdb0, `${vx('admin/default')} ${i20?.mac} 10.0.0.12`, `${web} ${i21?.mac} 10.0.0.13`, `${web} 00:00:00:00:00:00 10.0.0.13`].sort(),
        );
        expect(dumps.mock.calls.length, 'nothing read back by the fast syncs').toBe(0);
      } finally {
        dumps.mockRestore();
      }
      await fullFindsNothing(cc, 'run-instance');
      expect(hostsOf(cc)).toEqual(
        [...hosts0, `${inst('i-20')?.mac},${inst('i-20')?.privateIp},i-20`, `${inst('i-21')?.mac},${inst('i-21')?.privateIp},i-21`].sort(),
      );
      for (const id of ['i-21', 'i-20']) {
        const term = await write(cc, (s) => terminateInstance(s, id));
        expect(term, id).toMatchObject({ result: 'ok', mode: 'incremental', instances: true, dhcp: 'hosts' });
      }
      expect(fdbOf(cc.ns)).toEqual(fdb0);
      await fullFindsNothing(cc, 'terminate');
      expect(hostsOf(cc)).toEqual(hosts0);
    });
  }, 90_000);

  it('a public address takes the full path; an FDB entry not as the agent left it: rolled back, a full reconcile follows', async () => {
    await withCc(async (cc) => {
      const pub = await write(cc, (s) => runInstance(s, { id: 'i-30', group: 'admin/default', node: 'nc2', publicIp: true }));
      expect(pub).toMatchObject({ result: 'ok', mode: 'incremental' });
      expect(pub.instances).toBeUndefined();
      expect(pub.changed).toMatch(/addresses/);
      await write(cc, (s) => runInstance(s, { id: 'i-31', group: 'admin/default', node: 'nc2' }));
      const dev = `eucavx${cc.agent.current?.state.groups.find((g) => g.name === 'default')?.vlan}`;
      const mac31 = String(cc.agent.current?.state.instances.find((i) => i.id === 'i-31')?.mac);
      // Someone deletes i-31's entry (no drift source here): the fast delete of it fails (ENOENT).
      nsExec(cc.ns, 'bridge', ['fdb', 'del', mac31, 'dev', dev, 'dst', '10.0.0.12', 'self']);
      const r = await write(cc, (s) => terminateInstance(s, 'i-31'));
      expect(r).toMatchObject({ result: 'ok', mode: 'full' });
      expect(r.instances).toBeUndefined();
      expect(r.incrementalError).toMatch(/ENOENT/);
      expect(fdbOf(cc.ns).some((e) => e.includes(mac31))).toBe(false);
      await fullFindsNothing(cc, 'after the fallback');
    });
  }, 90_000);
});
