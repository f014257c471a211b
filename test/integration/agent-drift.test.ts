// Drift repair by the agents (root): a whole cloud in namespaces (the CC and
// two NCs, instances with real sockets: test/helpers/cloud-topology.ts), one
// Agent per host over one file store. Each kind of drift is made by hand with
// `ip` / `nft` (another process, so not the agent's doing): a group bridge
// deleted, the eucanet nft table deleted and flushed, an owned address
// removed, a port taken out of its bridge. Each must be repaired by a sync the
// namespace's events triggered, within a second, with instance traffic
// restored; the times are printed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import type { AllocatedInstance } from '../../src/managed/types.js';
import { FileStore } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { repoRoot } from '../helpers/cli.js';
import { CloudTopology } from '../helpers/cloud-topology.js';
import { runDhcpClient } from '../helpers/dhcp-client.js';
import { ipLinks, isRoot, nftRuleset } from '../helpers/netns.js';
import { allocate } from '../../src/managed/allocate.js';
import { validateState } from '../../src/managed/validate.js';

if (!isRoot) console.warn('test/integration/agent-drift.test.ts: skipped, needs root');

const OK_MS = 3000;
const BANNERS = [22];
const PEER_PORT = 7000;

describe.skipIf(!isRoot)('agents repair drift (root, real packets)', () => {
  const topo = new CloudTopology('euad');
  const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-drift-'));
  const agents = new Map<string, Agent>();
  const results: Array<SyncResult & { host?: string }> = [];
  /** Per host: true when the agent said it is idle (no sync running or waiting) after the last drift it heard and sync it ran. */
  const idle = new Map<string, boolean>();
  let instances: AllocatedInstance[] = [];
  const inst = (id: string) => instances.find((i) => i.id === id)!;

  beforeAll(async () => {
    try {
      // admin/default: i-1 (public 192.168.32.200) and i-2 on nc1, i-5 on nc2.
      const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
      const doc = { ...seed, segmentation: 'vxlan', instances: seed.instances.filter((i: { id: string }) => ['i-1', 'i-2', 'i-5'].includes(i.id)) };
      const state = allocate(validateState(structuredClone(doc)));
      instances = state.instances;
      await topo.build(state, state.instances);
      const file = join(dir, 'cloud.json');
      await writeFileAtomic(file, JSON.stringify(doc));
      const hosts = [
        ['cc', { role: 'cc' as const }, topo.cc],
        ['nc1', { role: 'nc' as const, node: 'nc1' }, topo.nc('nc1')],
        ['nc2', { role: 'nc' as const, node: 'nc2' }, topo.nc('nc2')],
      ] as const;
      await Promise.all(
        hosts.map(async ([name, role, netns]) => {
          const a = new Agent({ role, netns, source: new StoreSource(new FileStore(file)), resyncSeconds: 0, onIdle: () => idle.set(name, true) });
          a.on('sync', (r) => {
            idle.set(name, false);
            results.push({ ...r, host: name });
          });
          a.on('drift', () => idle.set(name, false));
          agents.set(name, a);
          const first = await a.start();
          expect(first.result, first.error).toBe('ok');
        }),
      );
      await Promise.all([
        topo.startAgent(topo.pub, { peer: PEER_PORT }),
        ...instances.map((i) => topo.startAgent(topo.inst(i.id), { id: i.id, banner: BANNERS })),
      ]);
      await Promise.all(instances.map((i) => runDhcpClient(topo.inst(i.id), 'eth0', { attempts: 8 })));
    } catch (err) {
      await Promise.all([...agents.values()].map((a) => a.stop()));
      await topo.teardown().catch(() => undefined);
      throw err;
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    await topo.teardown();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** i-1 -> i-5 (across the VXLAN segment), and the public client -> i-1's public address (the CC's DNAT). */
  async function traffic(): Promise<{ east: string; north: string }> {
    const [east, north] = await Promise.all([
      topo.agent(topo.inst('i-1')).connect(inst('i-5').privateIp, 22, { timeoutMs: OK_MS }),
      topo.agent(topo.pub).connect(inst('i-1').publicIp!, 22, { timeoutMs: OK_MS }),
    ]);
    return { east: `${east.outcome} ${east.data ?? ''}`.trim(), north: `${north.outcome} ${north.data ?? ''}`.trim() };
  }
  const WORKING = { east: 'reply i-5', north: 'reply i-1' };

  /**
   * Waits until every agent is idle: nothing running or waiting, the last
   * drift it heard repaired. A change made by hand can come as several
   * events, and on a loaded machine the agent reads them in more than one
   * turn: those read while the repair runs make one more sync after it (ops
   * 0: it finds the repair done). That sync is the agents' own business, but
   * it must not fall into the next case's window, or be missed by this one.
   */
  async function quiet(): Promise<void> {
    for (const t0 = Date.now(); [...agents.keys()].some((h) => !idle.get(h));) {
      if (Date.now() - t0 > 10_000) throw new Error(`the agents are not idle after 10 s: ${JSON.stringify(results.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Makes drift on `host` with `cmd` (ip/nft in its namespace), then waits for
   * the repair: a sync of that host triggered by drift that changed something.
   * Returns the milliseconds from the change to the repair's end.
   */
  async function drift(host: 'cc' | 'nc1', cmd: string[]): Promise<{ ms: number; cmdMs: number; repair: SyncResult }> {
    const from = results.length;
    const ns = host === 'cc' ? topo.cc : topo.nc(host);
    const started = performance.now();
    execFileSync('ip', ['netns', 'exec', ns, ...cmd]);
    // The agents run in this process: nothing of theirs runs while the command
    // does, so their time starts when it returns. Forking and loading `ip` or
    // `nft` (tens of ms idle, far more under load) is not the agent's time.
    const t0 = performance.now();
    const agent = agents.get(host)!;
    const repair = await new Promise<SyncResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no repair of ${cmd.join(' ')} within 5 s: ${JSON.stringify(results.slice(from))}`)), 5000);
      const check = (r: SyncResult) => {
        if (r.triggers.includes('drift') && r.ops > 0) {
          clearTimeout(timer);
          agent.off('sync', check);
          resolve(r);
        }
      };
      agent.on('sync', check);
    });
    return { ms: performance.now() - t0, cmdMs: t0 - started, repair };
  }

  it('the cloud works through the agents, and they are idle once converged', async () => {
    expect(await traffic()).toEqual(WORKING);
    const n = results.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(results.slice(n)).toEqual([]);
  });

  it.each([
    ['a group bridge deleted on nc1', 'nc1', ['ip', 'link', 'del', 'eucabr10']],
    ["an instance's port taken out of its bridge on nc1", 'nc1', ['ip', 'link', 'set', 'vnet1', 'nomaster']],
    ['the eucanet nft table deleted on the CC', 'cc', ['nft', 'delete', 'table', 'ip', 'eucanet']],
    ['the eucanet nft table flushed on the CC', 'cc', ['nft', 'flush', 'table', 'ip', 'eucanet']],
    ["an owned address (i-1's public /32) removed on the CC", 'cc', ['ip', 'addr', 'del', '192.168.32.200/32', 'dev', 'eth0']],
    [
      "nc1's flood entry toward nc2 deleted (the VXLAN FDB)",
      'nc1',
      ['bridge', 'fdb', 'del', '00:00:00:00:00:00', 'dev', 'eucavx10', 'dst', '10.0.0.12', 'self'],
    ],
  ] as const)(
    '%s: repaired within a second, traffic restored',
    async (what, host, cmd) => {
      await quiet();
      expect(await traffic()).toEqual(WORKING);
      const { ms, cmdMs, repair } = await drift(host, [...cmd]);
      const n = results.length;
      const t = await traffic();
      await quiet();
      // The repair's own changes start no further sync: what follows it (seen
      // until the agents are idle) can only be the same drift's events read
      // late, finding nothing left to do.
      const reasons = new Set(repair.drift);
      const after = results.slice(n).filter((r) => r.ops !== 0 || r.host !== host || !r.drift?.every((d) => d === '...' || reasons.has(d)));
      expect(after).toEqual([]);
      console.log(
        `${what}: repaired in ${ms.toFixed(0)} ms after the command (which took ${cmdMs.toFixed(0)} ms; sync ${repair.ops} ops, ${repair.ms} ms); traffic ${JSON.stringify(t)}`,
      );
      expect(ms).toBeLessThan(1000);
      expect(t).toEqual(WORKING);
      if (host === 'nc1') expect(ipLinks(topo.nc('nc1')).find((l) => l.ifname === 'vnet1')?.master).toBe('eucabr10');
      if (cmd[1] === 'link' && cmd[2] === 'set') expect(repair.drift).toContain('link vnet1 detached from eucabr10');
      if (cmd[0] === 'bridge') {
        expect(repair.drift).toContain('fdb entry 00:00:00:00:00:00 dst 10.0.0.12 on eucavx10 deleted');
        const fdb = JSON.parse(execFileSync('ip', ['netns', 'exec', topo.nc('nc1'), 'bridge', '-j', 'fdb', 'show', 'dev', 'eucavx10']).toString()) as Array<{
          mac: string;
          dst?: string;
        }>;
        expect(fdb.some((e) => e.mac === '00:00:00:00:00:00' && e.dst === '10.0.0.12')).toBe(true);
      }
      if (host === 'cc') expect(nftRuleset(topo.cc).some((o) => o.table?.name === 'eucanet')).toBe(true);
    },
    30_000,
  );

  it('changes by another process outside what the role owns are not drift', async () => {
    await quiet();
    const n = results.length;
    execFileSync('ip', ['netns', 'exec', topo.nc('nc1'), 'ip', 'link', 'add', 'other0', 'type', 'bridge']);
    execFileSync('ip', ['netns', 'exec', topo.cc, 'nft', 'add', 'table', 'ip', 'other']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(results.slice(n)).toEqual([]);
    expect(ipLinks(topo.nc('nc1')).some((l) => l.ifname === 'other0')).toBe(true);
    expect(nftRuleset(topo.cc).some((o) => o.table?.name === 'other')).toBe(true);
  });
});
