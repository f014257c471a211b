// The NC agent's peer-only sync (agent/peer-sync.ts) against the real kernel:
// a version that concerns node nc1 only through another node's instances of a
// group it carries (VXLAN, unicast flooding) is applied by sending those FDB
// entries, computed from the changed instances: no plan of the role, no FDB
// dump. `bridge -j fdb show` is the oracle, and a full reconcile right after
// must find nothing to do. An entry that is not as the agent left it makes
// the peer-only commit fail: rolled back, and a full reconcile follows at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import { runInstance, terminateInstance } from '../../src/managed/ops/index.js';
import { NetlinkConnection } from '../../src/netlink/socket.js';
import { FileStore } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { fdbOf, writeAndSync } from '../helpers/agent-kernel.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-peer-sync.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-peers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
// Static MAC entries: each instance elsewhere in a carried group is an entry here (learned MACs: the last case).
const cloud = { ...seed, segmentation: 'vxlan', vxlanMacs: 'static', nodes: { ...seed.nodes, nc3: { privateInterface: 'eth0', underlay: '10.0.0.13/24' } } };

async function withNode(fn: (store: FileStore, agent: Agent, ns: string, seen: SyncResult[]) => Promise<void>, doc: object = cloud): Promise<void> {
  const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
  await writeFileAtomic(file, JSON.stringify(doc));
  const store = new FileStore(file);
  await withNetns(async (ns) => {
    nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
    const agent = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), drift: false, resyncSeconds: 0 });
    const seen: SyncResult[] = [];
    agent.on('sync', (r) => seen.push(r));
    try {
      expect(await agent.start()).toMatchObject({ result: 'ok', mode: 'full' });
      await fn(store, agent, ns, seen);
    } finally {
      await agent.stop();
    }
  }, 'eupeer');
  await store.close();
}

const write = writeAndSync;

const macOf = (agent: Agent, id: string) => agent.current?.state.instances.find((i) => i.id === id)?.mac;

describe.skipIf(!isRoot)('the NC agent applies a peer-only version by its FDB entries alone (root)', () => {
  it('run-instance, terminate and a first instance elsewhere: the entries bridge -j fdb shows, no FDB dump, a full reconcile finds nothing', async () => {
    await withNode(async (store, agent, ns, seen) => {
      const vx = (group: string) => `eucavx${agent.current?.state.groups.find((g) => `${g.owner}/${g.name}` === group)?.vlan}`;
      const before = fdbOf(ns);
      const dumps = vi.spyOn(NetlinkConnection.prototype, 'dump');
      const neighDumps = () => dumps.mock.calls.filter(([r]) => r.constructor.name === 'NeighborDumpRequest').length;
      try {
        const run = await write(store, seen, (s) => runInstance(s, { id: 'i-20', group: 'admin/default', node: 'nc2' }));
        expect(run).toMatchObject({ result: 'ok', mode: 'incremental', peers: true, changed: 'fdb (+1 -0)', ops: 1 });
        const mac = macOf(agent, 'i-20');
        expect(fdbOf(ns)).toEqual([...before, `${vx('admin/default')} ${mac} 10.0.0.12`].sort());
        const term = await write(store, seen, (s) => terminateInstance(s, 'i-20'));
        expect(term).toMatchObject({ result: 'ok', mode: 'incremental', peers: true, changed: 'fdb (+0 -1)', ops: 1 });
        expect(fdbOf(ns)).toEqual(before);
        // The first instance of a group on nc3: its MAC, and nc3 in the group's flood list.
        const first = await write(store, seen, (s) => runInstance(s, { id: 'i-21', group: 'admin/web', node: 'nc3' }));
        expect(first).toMatchObject({ result: 'ok', mode: 'incremental', peers: true, changed: 'fdb (+2 -0)', ops: 2 });
        const web = vx('admin/web');
        expect(fdbOf(ns)).toEqual([...before, `${web} ${macOf(agent, 'i-21')} 10.0.0.13`, `${web} 00:00:00:00:00:00 10.0.0.13`].sort());
        expect(neighDumps(), 'no FDB read by the peer-only syncs').toBe(0);
      } finally {
        dumps.mockRestore();
      }
      const kernel = fdbOf(ns);
      expect(await agent.sync('sighup')).toMatchObject({ result: 'ok', mode: 'full', ops: 0 });
      expect(fdbOf(ns)).toEqual(kernel);
    });
  }, 60_000);

  it('an entry not as the agent left it: the peer-only commit fails, is rolled back, and a full reconcile follows', async () => {
    await withNode(async (store, agent, ns, seen) => {
      await write(store, seen, (s) => runInstance(s, { id: 'i-30', group: 'admin/default', node: 'nc2' }));
      await write(store, seen, (s) => runInstance(s, { id: 'i-31', group: 'admin/default', node: 'nc2' }));
      const dev = `eucavx${agent.current?.state.groups.find((g) => g.name === 'default')?.vlan}`;
      // Someone deletes i-31's entry (no drift source here): the delete of it fails (ENOENT).
      const [mac30, mac31] = [String(macOf(agent, 'i-30')), String(macOf(agent, 'i-31'))];
      nsExec(ns, 'bridge', ['fdb', 'del', mac31, 'dev', dev, 'dst', '10.0.0.12', 'self']);
      const r = await write(store, seen, (s) => terminateInstance(s, 'i-31'));
      expect(r).toMatchObject({ result: 'ok', mode: 'full' });
      expect(r.peers).toBeUndefined();
      expect(r.incrementalError).toMatch(/ENOENT/);
      const kernel = fdbOf(ns);
      expect(kernel).toContain(`${dev} ${mac30} 10.0.0.12`);
      expect(kernel.some((e) => e.includes(mac31))).toBe(false);
      expect(await agent.sync('sighup')).toMatchObject({ result: 'ok', mode: 'full', ops: 0 });
      expect(fdbOf(ns)).toEqual(kernel);
    });
  }, 60_000);

  it('learned MACs (the default): a run-instance or terminate elsewhere is the same plan here, nothing sent; a first instance elsewhere adds its flood entry alone', async () => {
    const { vxlanMacs: _static, ...learned } = cloud;
    await withNode(async (store, agent, ns, seen) => {
      const vx = (group: string) => `eucavx${agent.current?.state.groups.find((g) => `${g.owner}/${g.name}` === group)?.vlan}`;
      const before = fdbOf(ns);
      expect(
        before.every((e) => e.includes(' 00:00:00:00:00:00 ')),
        'flood lists only',
      ).toBe(true);
      // nc2 already carries admin/default (the seed's i-5).
      const run = await write(store, seen, (s) => runInstance(s, { id: 'i-20', group: 'admin/default', node: 'nc2' }));
      expect(run).toMatchObject({ result: 'ok', mode: 'unchanged', ops: 0 });
      expect(fdbOf(ns)).toEqual(before);
      expect(await write(store, seen, (s) => terminateInstance(s, 'i-20'))).toMatchObject({ result: 'ok', mode: 'unchanged', ops: 0 });
      const first = await write(store, seen, (s) => runInstance(s, { id: 'i-21', group: 'admin/web', node: 'nc3' }));
      expect(first).toMatchObject({ result: 'ok', mode: 'incremental', peers: true, changed: 'fdb (+1 -0)', ops: 1 });
      expect(fdbOf(ns)).toEqual([...before, `${vx('admin/web')} 00:00:00:00:00:00 10.0.0.13`].sort());
      expect(await agent.sync('sighup')).toMatchObject({ result: 'ok', mode: 'full', ops: 0 });
    }, learned);
  }, 60_000);
});
