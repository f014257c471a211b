// The NC agent's peer-only syncs with the namespace's events watched (the
// default drift source): the VXLAN device a peer sync looked up is known to
// the next ones (agent/known-interfaces.ts, peer-sync.ts), so they send their
// FDB request alone, no RTM_GETLINK before it. When the device is deleted
// (the agent re-creates it, with a new ifindex), the link events make the
// agent forget it: the next peer sync looks it up again and its entry lands
// on the new device. `bridge -j fdb show` is the oracle.
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
import { writeAndSync as write } from '../helpers/agent-kernel.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-peer-known.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-peer-known-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
// Static MAC entries, so that a run-instance elsewhere is a peer-only sync here.
const cloud = { ...seed, segmentation: 'vxlan', vxlanMacs: 'static' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A device's static FDB entries with a destination: "mac dst", sorted. */
const fdbOf = (ns: string, dev: string): string[] =>
  (JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', dev])) as Array<{ mac: string; dst?: string }>)
    .filter((e) => e.dst !== undefined)
    .map((e) => `${e.mac} ${e.dst}`)
    .sort();
const ifindexOf = (ns: string, dev: string): number => (JSON.parse(nsExec(ns, 'ip', ['-j', 'link', 'show', dev])) as Array<{ ifindex: number }>)[0].ifindex;

describe.skipIf(!isRoot)('peer-only syncs know the VXLAN device after the first lookup (root)', () => {
  it('no RTM_GETLINK for a known device; looked up again once it was re-created', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(cloud));
    const store = new FileStore(file);
    await withNetns(async (ns) => {
      nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
      const agent = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), resyncSeconds: 0 });
      const seen: SyncResult[] = [];
      agent.on('sync', (r) => seen.push(r));
      const runs = vi.spyOn(NetlinkConnection.prototype, 'run');
      const linkGets = () => runs.mock.calls.flatMap(([reqs]) => reqs).filter((r) => r.constructor.name === 'LinkGetRequest').length;
      try {
        expect(await agent.start()).toMatchObject({ result: 'ok', mode: 'full' });
        const dev = `eucavx${agent.current?.state.groups.find((g) => g.name === 'default')?.vlan}`;
        const macOf = (id: string) => agent.current?.state.instances.find((i) => i.id === id)?.mac;
        const before = fdbOf(ns, dev);
        // The first peer sync may look the device up; the next ones must not.
        expect(await write(store, seen, (s) => runInstance(s, { id: 'i-40', group: 'admin/default', node: 'nc2' }))).toMatchObject({ peers: true, ops: 1 });
        runs.mockClear();
        expect(await write(store, seen, (s) => runInstance(s, { id: 'i-41', group: 'admin/default', node: 'nc2' }))).toMatchObject({ peers: true, ops: 1 });
        expect(await write(store, seen, (s) => terminateInstance(s, 'i-40'))).toMatchObject({ peers: true, ops: 1 });
        expect(linkGets(), 'no lookup of a known device').toBe(0);
        expect(fdbOf(ns, dev)).toEqual([...before, `${macOf('i-41')} 10.0.0.12`].sort());
        // The device goes; the agent re-creates it (drift), with another ifindex.
        const old = ifindexOf(ns, dev);
        const from = seen.length;
        nsExec(ns, 'ip', ['link', 'del', dev]);
        for (const t0 = Date.now(); !seen.slice(from).some((r) => r.triggers.includes('drift') && r.ops > 0); await sleep(20)) {
          if (Date.now() - t0 > 15_000) throw new Error('the device was not re-created');
        }
        expect(ifindexOf(ns, dev)).not.toBe(old);
        runs.mockClear();
        const r = await write(store, seen, (s) => runInstance(s, { id: 'i-42', group: 'admin/default', node: 'nc2' }));
        expect(r).toMatchObject({ result: 'ok', ops: 1 });
        expect(r.mode === 'full' || linkGets() > 0, 'the re-created device is looked up again (or a full sync ran)').toBe(true);
        expect(fdbOf(ns, dev)).toEqual([...before, `${macOf('i-41')} 10.0.0.12`, `${macOf('i-42')} 10.0.0.12`].sort());
        expect(await agent.sync('sighup')).toMatchObject({ result: 'ok', mode: 'full', ops: 0 });
      } finally {
        runs.mockRestore();
        await agent.stop();
      }
    }, 'eupknown');
    await store.close();
  }, 60_000);
});
