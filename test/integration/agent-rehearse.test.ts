// The agent's warm-up rehearsal (root, dnsmasq): after its start, a CC agent
// and an NC agent plan each kind of change an operation makes (a rule, an
// instance, a public address: src/agent/rehearse.ts) as far as the commit and
// stop there, and the NC judges versions that are other hosts' business (a
// rule, another node's instance). Nothing is sent or written: no sync is started by events of
// its own, a full reconcile right after finds nothing to change, the
// kernel reads the same (`nft -j list ruleset`, `ip -j -d link`), and dnsmasq
// was handed no host. The operations after it are applied as before.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import { JUDGEMENT_JITTER, JUDGEMENTS, REHEARSALS } from '../../src/agent/warm-up.js';
import type { SyncResult } from '../../src/agent/types.js';
import { associateAddress, allocateAddress, authorize, runInstance } from '../../src/managed/ops/index.js';
import { FileStore } from '../../src/store/file.js';
import { update } from '../../src/store/update.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-rehearse.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-reh-'));
chmodSync(dir, 0o711); // dnsmasq re-reads its hosts file as nobody
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kernelOf = (ns: string) => ({
  nft: JSON.parse(nsExec(ns, 'nft', ['-j', 'list', 'ruleset'])) as unknown,
  links: (JSON.parse(nsExec(ns, 'ip', ['-j', '-d', 'link', 'show'])) as Array<{ ifname: string; master?: string; flags: string[] }>).map((l) => [
    l.ifname,
    l.master,
    l.flags,
  ]),
});

/** Every line of the DHCP state directory's hosts file and hosts directory. */
function dhcpHosts(stateDir: string): string {
  const hostsDir = join(stateDir, 'hosts.d');
  const files = [join(stateDir, 'hosts'), ...(existsSync(hostsDir) ? readdirSync(hostsDir).map((f) => join(hostsDir, f)) : [])];
  return files.map((f) => readFileSync(f, 'utf8')).join('');
}

describe.skipIf(!isRoot)("the agent's warm-up rehearsal (root)", () => {
  it('rehearses a rule, an instance and a public address on each host, sending and writing nothing', async () => {
    const file = join(dir, 'cloud.json');
    await writeFileAtomic(file, JSON.stringify(seed));
    const store = new FileStore(file);
    const stateDir = join(dir, 'dhcp');
    await withNetns(async (ccNs) => {
      await withNetns(async (ncNs) => {
        nsExec(ccNs, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
        nsExec(ncNs, 'ip', ['link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth9']);
        // With the namespaces' events (the default drift source): an op of its own would start a sync.
        const cc = new Agent({ role: { role: 'cc' }, netns: ccNs, source: new StoreSource(store), resyncSeconds: 0, dhcpOptions: { stateDir } });
        const nc = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ncNs, source: new StoreSource(store), resyncSeconds: 0 });
        const seen: SyncResult[] = [];
        const warm = new Map<Agent, Array<{ done: boolean; rehearsed: string[] }>>([
          [cc, []],
          [nc, []],
        ]);
        for (const a of [cc, nc]) {
          a.on('sync', (r) => seen.push(r));
          a.on('warmed-up', (w) => warm.get(a)!.push(w));
        }
        let dnsmasq: number | undefined;
        try {
          for (const a of [cc, nc]) expect(await a.start()).toMatchObject({ result: 'ok', mode: 'full' });
          dnsmasq = seen.find((r) => r.dnsmasqPid !== undefined)?.dnsmasqPid;
          const before = { cc: kernelOf(ccNs), nc: kernelOf(ncNs), hosts: dhcpHosts(stateDir) };
          for (const t0 = Date.now(); cc.rehearsed.length < 3 * REHEARSALS || nc.rehearsed.length < REHEARSALS; await sleep(20))
            if (Date.now() - t0 > 10_000)
              throw new Error(
                `rehearsals not done: cc ${cc.rehearsed.join(',')}; nc ${nc.rehearsed.join(',')}; syncs ${JSON.stringify(seen.map((r) => [r.trigger, r.mode, r.ops]))}`,
              );
          // Each kind several times (REHEARSALS: two were too few for V8 to optimise the path before the first operation).
          expect(REHEARSALS).toBeGreaterThanOrEqual(4);
          expect(cc.rehearsed).toEqual(Array.from({ length: REHEARSALS }, () => ['authorize', 'run-instance', 'associate-address']).flat());
          // The NC plans neither rules nor public addresses: those variants are proven not to concern it (relevance.ts).
          expect(nc.rehearsed).toEqual(Array(REHEARSALS).fill('run-instance'));
          // Its end said (the log's `warmed-up`): done, with what it rehearsed.
          for (const t0 = Date.now(); !warm.get(nc)!.some((w) => w.done); await sleep(10)) if (Date.now() - t0 > 5000) throw new Error('no warmed-up');
          expect(warm.get(cc)!.at(-1)).toMatchObject({ done: true, rehearsed: cc.rehearsed, judged: [] });
          expect(warm.get(nc)!.at(-1)).toMatchObject({ done: true, rehearsed: nc.rehearsed, judged: nc.judged });
          // And judged what is other hosts' business as its sync judges it (relevance.ts): a rule, nc2's instance; and its own run-instance; the CC judges nothing that way.
          // JUDGEMENTS times and up to JUDGEMENT_JITTER - 1 more, drawn per agent (warm-up.ts judgementsFor).
          const turns = nc.judged.length / 3;
          expect(Number.isInteger(turns) && turns >= JUDGEMENTS && turns < JUDGEMENTS + JUDGEMENT_JITTER, `${nc.judged.length} judgements`).toBe(true);
          expect(nc.judged).toEqual(Array.from({ length: turns }, () => ['authorize', 'peer-run-instance', 'own-run-instance']).flat());
          expect(cc.judged).toEqual([]);
          await sleep(300); // events of the namespaces, if any, judged
          // (A drift sync may follow a start: events of the start itself. None changes anything.)
          expect(
            seen.filter((r) => r.trigger !== 'start' && r.ops !== 0),
            'no sync changed anything',
          ).toEqual([]);
          expect({ cc: kernelOf(ccNs), nc: kernelOf(ncNs), hosts: dhcpHosts(stateDir) }).toEqual(before);
          expect(dhcpHosts(stateDir)).not.toContain('rehearsal');
          for (const a of [cc, nc]) expect(await a.sync('sighup'), 'a full reconcile after the rehearsal').toMatchObject({ result: 'ok', ops: 0 });
          // The operations after it, applied as before.
          const version = async (op: Parameters<typeof update>[1]) => (await update(store, op)).version;
          const applied = async (a: Agent, v: string) => {
            for (const t0 = Date.now(); a.current?.version !== v; await sleep(10)) if (Date.now() - t0 > 10_000) throw new Error(`${v} not applied`);
          };
          await applied(cc, await version((s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 4444, to: 4444, cidr: '0.0.0.0/0' })));
          expect(nsExec(ccNs, 'nft', ['list', 'table', 'ip', 'eucanet'])).toContain('4444');
          const v = await version((s) => runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc1', port: 'vnet9' }));
          await applied(nc, v);
          await applied(cc, v);
          expect(nsExec(ncNs, 'ip', ['-j', 'link', 'show', 'dev', 'vnet9'])).toContain('"master"');
          expect(dhcpHosts(stateDir)).toContain('i-9');
          await applied(cc, await version((s) => allocateAddress(s)));
          await applied(cc, await version((s) => associateAddress(s, '192.168.32.202', 'i-9')));
          expect(nsExec(ccNs, 'nft', ['list', 'map', 'ip', 'eucanet', 'pub2priv'])).toContain('192.168.32.202');
          expect(seen.filter((r) => r.result !== 'ok')).toEqual([]);
        } finally {
          await cc.stop();
          await nc.stop();
          if (dnsmasq !== undefined) process.kill(dnsmasq, 'SIGTERM');
        }
      }, 'eureh');
    }, 'eureh');
    await store.close();
  }, 60_000);
});
