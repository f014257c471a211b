// The agent watches its namespace only after its start sync (it does not hear
// the echo of its own additions: agent.ts watchNamespace), so a change someone
// else makes before the watch begins is found by one comparison of the kernel
// with the applied desired state (drift-catch-up.ts) and repaired. Here an NC
// agent's instance tap is deleted by `ip` in the middle of the start sync's
// commit (when its nftables batch goes out, every link already made), and the
// role's nft table by `nft` after the sync, while the watch still waits
// (AgentOptions.warmUp as a pending promise). Both are repaired by one drift
// sync, checked with `ip -j -d link` and `nft -j list ruleset`. Root.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import { NetnsEvents } from '../../src/agent/netns-events.js';
import type { DriftSource, SyncResult } from '../../src/agent/types.js';
import type { JudgedEvent } from '../../src/agent/drift.js';
import type { Handle } from '../../src/handle.js';
import { FileStore } from '../../src/store/file.js';
import { repoRoot } from '../helpers/cli.js';
import { ipLinks, isRoot, nftRuleset, withNetns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-drift-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const taps = (ns: string) => ipLinks(ns).filter((l) => l.linkinfo?.info_kind === 'tun');
const tables = (ns: string) =>
  nftRuleset(ns)
    .filter((o) => o.table)
    .map((o) => o.table.name as string);

describe.skipIf(!isRoot)('the agent repairs what changed before it watched its namespace (root)', () => {
  it('a tap deleted during the start sync and the nft table deleted before the watch begins: one drift sync repairs both', async () => {
    const file = join(dir, 'cloud.json');
    writeFileSync(file, JSON.stringify(seed));
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const store = new FileStore(file);
      let open!: () => void;
      const a = new Agent({
        role: { role: 'nc', node: 'nc1' },
        netns: ns,
        source: new StoreSource(store),
        resyncSeconds: 0,
        warmUp: () => new Promise<void>((r) => (open = r)),
      });
      const seen: SyncResult[] = [];
      a.on('sync', (r) => seen.push(r));
      // The agent's own handle, made now: each rtnetlink exchange of the start
      // sync is seen before it is sent. The first one after a tap is made,
      // in its bridge and up (the sync is done with it) deletes it.
      const h = (a as unknown as { handleNow(): Handle }).handleNow();
      let deleted: string | undefined;
      const exchanges: string[][] = [];
      h.rtnl.testFault = (reqs) => {
        exchanges.push(reqs.map((r) => r.describe()));
        const tap = deleted === undefined ? taps(ns).find((l) => l.master !== undefined && l.flags.includes('UP')) : undefined;
        if (tap && !reqs.some((r) => r.describe().includes(tap.ifname))) {
          deleted = tap.ifname as string;
          execFileSync('ip', ['-n', ns, 'link', 'del', deleted]);
        }
        return undefined;
      };
      try {
        const first = await a.start();
        expect(first).toMatchObject({ result: 'ok', mode: 'full' });
        h.rtnl.testFault = undefined;
        expect(deleted, JSON.stringify(exchanges)).toBeDefined();
        expect(taps(ns).map((l) => l.ifname)).not.toContain(deleted);
        execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'bridge', 'eucanet-nc']);
        expect(tables(ns)).not.toContain('eucanet-nc');
        // The watch begins now; what changed before it is found and repaired by one sync.
        open();
        for (const t0 = Date.now(); seen.length < 2 && Date.now() - t0 < 10_000;) await sleep(20);
        await sleep(300);
        expect(seen, JSON.stringify(seen.map((r) => [r.trigger, r.ops, r.drift]))).toHaveLength(2);
        expect(seen[1]).toMatchObject({ trigger: 'drift', result: 'ok' });
        expect(seen[1].ops).toBeGreaterThan(1);
        expect(seen[1].drift?.[0]).toMatch(/^changed before the namespace was watched: /);
        const tap = ipLinks(ns).find((l) => l.ifname === deleted);
        expect(tap?.linkinfo?.info_kind).toBe('tun');
        expect(tap?.flags).toContain('UP');
        expect(tap?.master).toBeDefined();
        expect(tables(ns)).toContain('eucanet-nc');
        // Exact: a full reconcile now finds nothing to do.
        expect(await a.sync('sighup')).toMatchObject({ result: 'ok', ops: 0 });
        // And the namespace is watched from here: a tap deleted now is heard as an event.
        execFileSync('ip', ['-n', ns, 'link', 'del', deleted!]);
        for (const t0 = Date.now(); seen.length < 4 && Date.now() - t0 < 10_000;) await sleep(20);
        expect(seen[3]).toMatchObject({ trigger: 'drift', result: 'ok' });
        // The kernel first says the port went down, then that it is gone: the
        // first is drift, and whether the second is heard before the repair
        // sync starts (then it is held, and the sync's end finds the tap back)
        // depends on the 200 ms between syncs' starts, i.e. on the load.
        expect(seen[3].drift, JSON.stringify(seen[3].drift)).toSatisfy(
          (d?: string[]) => !!d?.some((r) => r === `link ${deleted} deleted` || r === `link ${deleted} down`),
        );
      } finally {
        await a.stop();
        await store.close();
      }
    }, 'eudst');
  }, 30_000);

  it("the start sync's own changes are not heard back: the namespace's events begin after it, with its objects dumped as existing", async () => {
    const file = join(dir, 'cloud-echo.json');
    writeFileSync(file, JSON.stringify(seed));
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const store = new FileStore(file);
      // The default drift source, counting what it delivers before and after the first sync's report.
      const events = new NetnsEvents(ns);
      let reported = false;
      const before: JudgedEvent[] = [];
      const after: JudgedEvent[] = [];
      const drift: DriftSource = {
        start: (on) => events.start((ev) => (on(ev), (reported ? after : before).push(ev))),
        stop: () => events.stop(),
      };
      const a = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), resyncSeconds: 0, warmUp: false, drift });
      a.on('sync', () => (reported = true));
      try {
        expect(await a.start()).toMatchObject({ result: 'ok', mode: 'full' });
        await sleep(200);
        expect(before).toEqual([]);
        // The taps the sync made come as dumped objects (existing), none as a live event.
        const tapNames = taps(ns).map((l) => l.ifname as string);
        expect(tapNames.length).toBeGreaterThan(0);
        const links = after.filter((e): e is Extract<JudgedEvent, { type: 'link' }> => e.type === 'link' && 'link' in e);
        for (const t of tapNames) expect(links.filter((e) => e.link.name === t).map((e) => e.existing)).toEqual([true]);
      } finally {
        await a.stop();
        await store.close();
      }
    }, 'eudse');
  }, 30_000);

  it('NetnsEvents dumps the links only (their indexes), and delivers every kind live', async () => {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'br0', 'type', 'bridge']);
      execFileSync('ip', ['-n', ns, 'addr', 'add', '10.9.0.1/24', 'dev', 'br0']);
      execFileSync('ip', ['netns', 'exec', ns, 'nft', 'add table inet t0; add set inet t0 s { type ipv4_addr; }; add element inet t0 s { 10.9.0.9 }']);
      const events = new NetnsEvents(ns);
      const seen: JudgedEvent[] = [];
      try {
        await events.start((ev) => seen.push(ev));
        const existing = seen.filter((e) => 'existing' in e && e.existing);
        expect(existing.map((e) => e.type).sort()).toEqual(['link', 'link']);
        expect(seen.some((e) => e.type === 'synced')).toBe(true);
        seen.length = 0;
        execFileSync('ip', ['-n', ns, 'addr', 'del', '10.9.0.1/24', 'dev', 'br0']);
        execFileSync('ip', ['netns', 'exec', ns, 'nft', 'delete element inet t0 s { 10.9.0.9 }']);
        for (const t0 = Date.now(); seen.length < 2 && Date.now() - t0 < 5000;) await sleep(20);
        await sleep(100);
        expect(seen.map((e) => [e.type, 'action' in e ? e.action : undefined])).toEqual(
          expect.arrayContaining([
            ['address', 'del'],
            ['element', 'del'],
          ]),
        );
      } finally {
        await events.stop();
      }
    }, 'eudsn');
  }, 30_000);
});
