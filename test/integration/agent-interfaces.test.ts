// The agent's preflight on an incremental sync (root, dnsmasq): the host's
// interfaces the role needs (the CC's public and private NICs) are looked up
// at a full reconcile, and again only when a link event named one of them
// (deleted, renamed, changed) or the needed set grew. A version that did not
// change them costs no link lookup; one after the private NIC was renamed
// away is refused by preflight as before (the last good version stays).
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import type { Handle } from '../../src/handle.js';
import { authorize } from '../../src/managed/ops/index.js';
import type { Request } from '../../src/netlink/socket.js';
import { FileStore } from '../../src/store/file.js';
import { update } from '../../src/store/update.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-interfaces.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-ifs-'));
chmodSync(dir, 0o711); // dnsmasq re-reads its hosts file as nobody
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rule = (port: number) => ({ protocol: 'tcp' as const, from: port, to: port, cidr: '0.0.0.0/0' });

describe.skipIf(!isRoot)("the agent's preflight on an incremental sync (root)", () => {
  it('looks up the needed interfaces only when a link event named one of them since the last sync', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(seed));
    const store = new FileStore(file);
    await withNetns(async (ns) => {
      nsExec(ns, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      // With the namespace's events (the default drift source): they say when an interface changed.
      const agent = new Agent({
        role: { role: 'cc' },
        netns: ns,
        source: new StoreSource(store),
        resyncSeconds: 0,
        dhcpOptions: { stateDir: join(dir, 'dhcp') },
      });
      const seen: SyncResult[] = [];
      agent.on('sync', (r) => seen.push(r));
      let dnsmasq: number | undefined;
      agent.on('sync', (r) => (dnsmasq = r.dnsmasqPid ?? dnsmasq));
      try {
        expect(await agent.start()).toMatchObject({ result: 'ok', mode: 'full' });
        // The agent's own handle (a new one after a failed sync): every request it sends is seen here (returning no fault).
        const lookups: string[] = [];
        const rtnl: string[] = [];
        const hook = () => {
          (agent as unknown as { handle: Handle }).handle.rtnl.testFault = (reqs: readonly Request[]) => {
            for (const r of reqs) if (/^link get eth[01]$/.test(r.describe())) lookups.push(r.describe());
            rtnl.push(...reqs.map((r) => r.describe()));
            return undefined;
          };
        };
        hook();
        const write = async (port: number): Promise<SyncResult> => {
          await sleep(250); // past the minimum gap: a sync of its own
          const from = seen.length;
          const v = (await update(store, (s) => authorize(s, 'admin/default', rule(port)))).version;
          for (const t0 = Date.now(); Date.now() - t0 < 15_000; await sleep(5)) {
            const r = seen.slice(from).find((x) => x.version === v || (x.trigger === 'store' && x.result !== 'ok'));
            if (r) return r;
          }
          throw new Error(`version ${v} not synced: ${JSON.stringify(seen.slice(from))}`);
        };
        // The first version after the start looks them up (the start's own link events came before any interface was known).
        expect(await write(8000)).toMatchObject({ result: 'ok', mode: 'incremental' });
        lookups.length = rtnl.length = 0;
        // Nothing about the interfaces changed since: no lookup.
        expect(await write(8001)).toMatchObject({ result: 'ok', mode: 'incremental', changed: 'nft chains 1' });
        expect(await write(8002)).toMatchObject({ result: 'ok', mode: 'incremental' });
        expect(lookups).toEqual([]);
        // A version that changed one nft chain only: no rtnetlink request at all (no link read for the diff either).
        expect(rtnl).toEqual([]);
        // The private NIC renamed away (its event names the new name, the same ifindex): looked up, and the sync fails (retried with backoff).
        nsExec(ns, 'ip', ['link', 'set', 'eth1', 'name', 'ethx']);
        await sleep(200);
        const refused = await write(8003);
        expect(refused.result).toBe('error');
        expect(refused.error).toMatch(/privateInterface "eth1": no such interface/);
        expect(lookups).toContain('link get eth1');
        // Back again: the retry's full reconcile finds it, and the versions after it cost no lookup.
        nsExec(ns, 'ip', ['link', 'set', 'ethx', 'name', 'eth1']);
        for (const t0 = Date.now(); seen.at(-1)?.result !== 'ok'; await sleep(10)) if (Date.now() - t0 > 10_000) throw new Error('no retry');
        hook();
        expect(await write(8004)).toMatchObject({ result: 'ok', mode: 'incremental' });
        lookups.length = rtnl.length = 0;
        expect(await write(8005)).toMatchObject({ result: 'ok', mode: 'incremental' });
        expect(lookups).toEqual([]);
        expect(rtnl).toEqual([]);
        // The kernel has the last rule (nft as the oracle).
        expect(nsExec(ns, 'nft', ['-j', 'list', 'ruleset'])).toContain('8005');
      } finally {
        await agent.stop();
        if (dnsmasq !== undefined) process.kill(dnsmasq, 'SIGTERM');
      }
    }, 'euifs');
    await store.close();
  }, 60_000);
});
