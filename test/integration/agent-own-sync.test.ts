// The NC agent's own-instance sync (agent/nc-sync.ts) against the real
// kernel: a run-instance or terminate on node nc1, in a group it carries, is
// applied by its tap, port and anti-spoofing set elements alone (no
// preflight, no plan of the role), with VLAN and with VXLAN segments. The
// oracle is a full reconcile of the same version: right after, it must send
// nothing and leave the kernel (`ip -j -d link`, addresses, `bridge -j fdb`,
// `nft -j list ruleset`) as it was. A terminated instance's tap is out of its
// bridge and down when the sync is reported, and gone soon after (its deletion
// waits for the kernel, after the sync). Another node's instance is not its own
// sync; a set element not as the agent left it makes the own commit fail:
// rolled back, and a full reconcile follows at once. (A node's first or last
// instance of a group is left to the full plan: agent-own-change.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import { runInstance, terminateInstance } from '../../src/managed/ops/index.js';
import { FileStore } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { kernelOf, writeAndSync as write } from '../helpers/agent-kernel.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';
import { vlanSupport } from '../vlan/support.js';

if (!isRoot) console.warn('test/integration/agent-own-sync.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-own-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));

async function withNode(segmentation: string, fn: (store: FileStore, agent: Agent, ns: string, seen: SyncResult[]) => Promise<void>): Promise<void> {
  const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
  await writeFileAtomic(file, JSON.stringify({ ...seed, segmentation }));
  const store = new FileStore(file);
  await withNetns(async (ns) => {
    nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
    // Up, as a node's private NIC is: an 802.1Q device on a down one cannot be brought up (ENETDOWN).
    for (const dev of ['eth0', 'eth9']) nsExec(ns, 'ip', ['link', 'set', dev, 'up']);
    const agent = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), drift: false, resyncSeconds: 0 });
    const seen: SyncResult[] = [];
    agent.on('sync', (r) => seen.push(r));
    try {
      const start = await agent.start();
      expect(start, start.error).toMatchObject({ result: 'ok', mode: 'full' });
      await fn(store, agent, ns, seen);
    } finally {
      await agent.stop();
    }
  }, 'euown');
  await store.close();
}

/** The tap `port` as `ip -j -d link` shows it (undefined: none). */
const linkOf = (ns: string, port: string) =>
  (JSON.parse(nsExec(ns, 'ip', ['-j', '-d', 'link', 'show'])) as Array<{ ifname: string; master?: string; flags: string[] }>).find((l) => l.ifname === port);
/** The elements of the node's `ports` set. */
const portsSet = (ns: string) => nsExec(ns, 'nft', ['list', 'set', 'bridge', 'eucanet-nc', 'ports']);

/** After a sync: a full reconcile finds nothing to do and changes nothing the tools show. */
async function fullFindsNothing(agent: Agent, ns: string): Promise<void> {
  // The kernel as it settles after the last sync: a link's carrier (NO-CARRIER) is
  // set by the kernel's link watch up to a second later, which the VLAN lane's VM once caught mid-way.
  let kernel = kernelOf(ns);
  for (const t0 = Date.now(); Date.now() - t0 < 3000;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = kernelOf(ns);
    if (JSON.stringify(now) === JSON.stringify(kernel)) break;
    kernel = now;
  }
  expect(await agent.sync('sighup')).toMatchObject({ result: 'ok', mode: 'full', ops: 0 });
  expect(kernelOf(ns)).toEqual(kernel);
}

describe.skipIf(!isRoot)("the NC agent applies its own instances' versions by their ports and set elements alone (root)", () => {
  for (const segmentation of ['vlan', 'vxlan']) {
    // (VLAN needs 802.1Q: skipped on a kernel without it, as the VLAN lane's tests are.)
    it.skipIf(segmentation === 'vlan' && !vlanSupport.ok)(
      `${segmentation}: run-instance and terminate here; a full reconcile after each sends nothing`,
      async () => {
        await withNode(segmentation, async (store, agent, ns, seen) => {
          const bridge = `eucabr${agent.current?.state.groups.find((g) => g.name === 'web')?.vlan}`;
          const run = await write(store, seen, (s) => runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', port: 'vnet9' }));
          expect(run).toMatchObject({ result: 'ok', mode: 'incremental', own: true, changed: 'ports 1, nft sets 3 (+3 -0)' });
          expect(run.incrementalError).toBeUndefined();
          expect(linkOf(ns, 'vnet9')).toMatchObject({ master: bridge });
          expect(linkOf(ns, 'vnet9')?.flags).toContain('UP');
          expect(portsSet(ns)).toContain('"vnet9"');
          await fullFindsNothing(agent, ns);
          // The tap as the kernel has it when the terminate's sync is reported (the listener runs then, synchronously).
          const at: { seen: boolean; link?: ReturnType<typeof linkOf> } = { seen: false };
          const look = (r: SyncResult) => {
            if (r.own && !at.seen) Object.assign(at, { seen: true, link: linkOf(ns, 'vnet9') });
          };
          agent.on('sync', look);
          const term = await write(store, seen, (s) => terminateInstance(s, 'i-9'));
          agent.off('sync', look);
          expect(term).toMatchObject({ result: 'ok', mode: 'incremental', own: true, changed: 'ports 1, nft sets 3 (+0 -3)' });
          expect(portsSet(ns)).not.toContain('vnet9');
          // Released in the commit (out of its bridge, down), deleted after the sync was reported.
          expect(at.seen).toBe(true);
          expect(at.link).toBeDefined();
          expect(at.link?.master).toBeUndefined();
          expect(at.link?.flags).not.toContain('UP');
          for (const t0 = Date.now(); linkOf(ns, 'vnet9') !== undefined && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 20));
          expect(linkOf(ns, 'vnet9')).toBeUndefined();
          await fullFindsNothing(agent, ns);
          // The same instance again, on the same port: a new tap in the bridge.
          const again = await write(store, seen, (s) => runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', port: 'vnet9' }));
          expect(again).toMatchObject({ result: 'ok', mode: 'incremental', own: true });
          expect(linkOf(ns, 'vnet9')).toMatchObject({ master: bridge });
          await write(store, seen, (s) => terminateInstance(s, 'i-9'));
          // Another node's instance: not its own sync (nothing, or its FDB entries alone).
          const other = await write(store, seen, (s) => runInstance(s, { id: 'i-10', group: 'admin/web', node: 'nc2' }));
          expect(other).toMatchObject({ result: 'ok' });
          expect(other.own).toBeUndefined();
        });
      },
      60_000,
    );
  }

  it('a set element not as the agent left it: the own commit fails, is rolled back, and a full reconcile follows', async () => {
    await withNode('vxlan', async (store, agent, ns, seen) => {
      await write(store, seen, (s) => runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', port: 'vnet9' }));
      // Someone deletes vnet9 from the ports set (no drift source here): the terminate's delete of it fails (ENOENT).
      nsExec(ns, 'nft', ['delete', 'element', 'bridge', 'eucanet-nc', 'ports', '{ vnet9 }']);
      const r = await write(store, seen, (s) => terminateInstance(s, 'i-9'));
      expect(r).toMatchObject({ result: 'ok', mode: 'full' });
      expect(r.own).toBeUndefined();
      expect(r.incrementalError).toMatch(/ENOENT/);
      expect(linkOf(ns, 'vnet9')).toBeUndefined();
      expect(portsSet(ns)).not.toContain('vnet9');
      await fullFindsNothing(agent, ns);
    });
  }, 60_000);
});
