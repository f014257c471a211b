// `eucanet agent` as a process on a node controller's namespace (root): the
// full reconcile at start, SIGTERM exiting 0 within a second and leaving the
// network as it was, a restarted agent sending nothing, a bad state version
// ignored (the network unchanged, counted in /metrics, a later good version
// applied), a burst of 100 state writes costing a few syncs, SIGHUP repairing
// drift. `ip -j -d link`, `nft list ruleset` (kernelDump) are the oracle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentVersion as versionOf } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { repoRoot } from '../helpers/cli.js';
import { ipLinks, isRoot, withNetns } from '../helpers/netns.js';
import { settledDump, stableDump } from '../helpers/settle.js';

if (!isRoot) console.warn('test/integration/agent-lifecycle.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
type Doc = Record<string, any>;

/** The dump without operstate, which linkwatch settles by itself up to a second after a link comes up. */
const dump = (ns: string) => stableDump(ns).replace(/"operstate": "\w+"/g, '"operstate"');

/** A node controller's namespace (eth0 and its veth peer, IPv6 off) and a state file; the agent killed afterwards. */
async function withNc(fn: (ns: string, file: string, agents: AgentProcess[]) => Promise<void>): Promise<void> {
  const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
  await writeFileAtomic(file, JSON.stringify(seed));
  const agents: AgentProcess[] = [];
  await withNetns(async (ns) => {
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    try {
      await fn(ns, file, agents);
    } finally {
      await Promise.all(agents.map((a) => a.kill()));
    }
  }, 'euag');
}

const ncAgent = (ns: string, file: string, ...more: string[]) => AgentProcess.start(['--role', 'nc', '--node', 'nc1', '--netns', ns, '--state', file, ...more]);

describe.skipIf(!isRoot)('eucanet agent on a node controller (root)', () => {
  it('reconciles at start; SIGTERM exits 0 within a second and leaves the network; a restarted agent sends nothing', async () => {
    await withNc(async (ns, file, agents) => {
      const a = ncAgent(ns, file);
      agents.push(a);
      const first = await a.waitFor((l) => l.event === 'sync');
      expect(first).toMatchObject({ trigger: 'start', result: 'ok', version: versionOf(readFileSync(file)) });
      expect(first.ops).toBeGreaterThan(10);
      // Its CPU time is logged with its wall time (the process's, the netlink exchanges' kernel time included).
      expect(first.cpuMs).toBeGreaterThan(0);
      const before = await settledDump(ns);
      // Its own changes (and the kernel's echoes of them) started no other sync.
      expect(a.syncs()).toHaveLength(1);

      const stop = await a.stop('SIGTERM');
      expect(stop.code).toBe(0);
      expect(stop.ms).toBeLessThan(1000);
      expect(a.lines.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
      expect(dump(ns)).toBe(before.replace(/"operstate": "\w+"/g, '"operstate"'));

      const b = ncAgent(ns, file);
      agents.push(b);
      const again = await b.waitFor((l) => l.event === 'sync');
      expect(again).toMatchObject({ trigger: 'start', result: 'ok', ops: 0 });
      expect(dump(ns)).toBe(before.replace(/"operstate": "\w+"/g, '"operstate"'));
      const int = await b.stop('SIGINT');
      expect(int.code).toBe(0);
      expect(int.ms).toBeLessThan(1000);
    });
  }, 60_000);

  it('a bad state version is logged with the field named, counted, and ignored; a later good version is applied', async () => {
    await withNc(async (ns, file, agents) => {
      const a = ncAgent(ns, file, '--metrics', '127.0.0.1:0');
      agents.push(a);
      await a.waitFor((l) => l.event === 'sync');
      const url = (await a.waitFor((l) => l.event === 'metrics')).url as string;
      const before = (await settledDump(ns)).replace(/"operstate": "\w+"/g, '"operstate"');

      const bad: Doc = structuredClone(seed);
      bad.groups[0].subnet = '10.1.2.0/99';
      await writeFileAtomic(file, JSON.stringify(bad));
      const r = await a.waitFor((l) => l.event === 'sync' && l.result === 'invalid');
      expect(r.trigger).toBe('store');
      expect(r.invalid).toMatchObject({ version: versionOf(JSON.stringify(bad)), field: 'groups[0].subnet', value: '10.1.2.0/99' });
      expect(r.version).toBe(versionOf(JSON.stringify(seed)));
      expect(dump(ns)).toBe(before);
      const m = await (await fetch(url)).text();
      expect(metric(m, 'eucanet_agent_invalid_states_total')).toBe(1);
      expect(metric(m, 'eucanet_agent_applied_state_info', `version="${versionOf(JSON.stringify(seed))}"`)).toBe(1);

      // A good version: i-4 (vnet3 on nc1) terminated.
      const good: Doc = { ...seed, instances: seed.instances.filter((i: Doc) => i.id !== 'i-4') };
      await writeFileAtomic(file, JSON.stringify(good));
      const ok = await a.waitFor((l) => l.event === 'sync' && l.result === 'ok' && l.version === versionOf(JSON.stringify(good)));
      expect(ok.ops).toBeGreaterThan(0);
      expect(ipLinks(ns).find((l) => l.ifname === 'vnet3')?.master).toBeUndefined();
      expect(ipLinks(ns).find((l) => l.ifname === 'vnet0')?.master).toBe('eucabr11');
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m2 = await res.text();
      expect(metric(m2, 'eucanet_agent_invalid_states_total')).toBe(1);
      expect(metric(m2, 'eucanet_agent_syncs_total', 'trigger="store",result="invalid"')).toBe(1);
      expect(metric(m2, 'eucanet_agent_syncs_total', 'trigger="start",result="ok"')).toBe(1);
      const syncs = a.syncs();
      expect(metric(m2, 'eucanet_agent_sync_duration_seconds_count')).toBe(syncs.length);
      expect(metric(m2, 'eucanet_agent_sync_duration_seconds_bucket', 'le="+Inf"')).toBe(syncs.length);
      expect(metric(m2, 'eucanet_agent_ops_applied_total')).toBe(syncs.reduce((n, l) => n + l.ops, 0));
      expect(metric(m2, 'eucanet_agent_applied_state_info', `version="${versionOf(JSON.stringify(good))}"`)).toBe(1);
      expect(metric(m2, 'eucanet_agent_applied_state_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
      expect(m2).toMatch(/^# TYPE eucanet_agent_sync_duration_seconds histogram$/m);
      expect(metric(m2, 'eucanet_agent_last_sync_failed')).toBe(0);
      expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    });
  }, 60_000);

  it('a burst of 100 state writes in about a second costs a few syncs, and the last version is the one applied', async () => {
    await withNc(async (ns, file, agents) => {
      const a = ncAgent(ns, file);
      agents.push(a);
      await a.waitFor((l) => l.event === 'sync');
      const from = a.lines.length;
      let last = '';
      const t0 = Date.now();
      for (let i = 0; i < 100; i++) {
        // Alternately with and without i-4; the 100th write (i = 99) is without it.
        const doc = i % 2 ? { ...seed, instances: seed.instances.filter((x: Doc) => x.id !== 'i-4'), addrsPerNet: 32 } : { ...seed };
        last = JSON.stringify(doc, null, i % 5);
        await writeFileAtomic(file, last);
        await new Promise((r) => setTimeout(r, 5));
      }
      const burstMs = Date.now() - t0;
      await a.waitFor((l) => l.event === 'sync' && l.version === versionOf(last), 15_000, from);
      await new Promise((r) => setTimeout(r, 500));
      const syncs = a.lines.slice(from).filter((l) => l.event === 'sync');
      expect(syncs.length).toBeGreaterThanOrEqual(1);
      // Syncs start at least 200 ms apart: one per 200 ms of the burst, one for the last write, one that was running.
      expect(syncs.length).toBeLessThanOrEqual(Math.ceil(burstMs / 200) + 2);
      expect(syncs.at(-1)).toMatchObject({ result: 'ok', version: versionOf(last) });
      expect(ipLinks(ns).find((l) => l.ifname === 'vnet3')?.master).toBeUndefined();
      console.log(`100 writes in ${burstMs} ms: ${syncs.length} syncs (${syncs.map((s) => `${s.ops} ops/${s.ms} ms`).join(', ')})`);
    });
  }, 60_000);

  it('SIGHUP resyncs now (and the deleted group bridge is back, by drift repair or by the resync)', async () => {
    await withNc(async (ns, file, agents) => {
      const a = ncAgent(ns, file);
      agents.push(a);
      await a.waitFor((l) => l.event === 'sync');
      execFileSync('ip', ['-n', ns, 'link', 'del', 'eucabr10']);
      const from = a.lines.length;
      a.child.kill('SIGHUP');
      const r = await a.waitFor((l) => l.event === 'sync' && l.triggers.includes('sighup'), 10_000, from);
      expect(r.result).toBe('ok');
      // Every op of the repair, wherever it was counted: the bridge, its VXLAN device, two ports re-attached.
      expect(
        a
          .syncs()
          .slice(1)
          .reduce((n, l) => n + l.ops, 0),
      ).toBeGreaterThanOrEqual(4);
      expect(ipLinks(ns).find((l) => l.ifname === 'vnet1')?.master).toBe('eucabr10');
    });
  }, 60_000);
});

/** A sample's value in Prometheus text, checking every line parses ("# HELP", "# TYPE", or `name{labels} value`). */
function metric(text: string, name: string, labels?: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/);
  }
  const re = new RegExp(`^${name}${labels ? `\\{${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\}` : ''} (\\S+)$`, 'm');
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

describe.skipIf(!isRoot)('eucanet agent: failures are retried with backoff, never fatal (root)', () => {
  it('a host not ready at start (no eth0) fails, is retried at doubling intervals, and converges once eth0 is there', async () => {
    const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
    await writeFileAtomic(file, JSON.stringify(seed));
    await withNetns(async (ns) => {
      const a = ncAgent(ns, file);
      try {
        const first = await a.waitFor((l) => l.event === 'sync');
        expect(first).toMatchObject({ trigger: 'start', result: 'error', ops: 0 });
        expect(first.error).toContain('eth0');
        await a.waitFor((l) => l.event === 'sync' && l.trigger === 'retry' && l.seq === 5, 10_000);
        // The wait before each retry: from one sync's end (its log line) to the next one's start.
        const s = a.syncs();
        const waits = s.slice(1).map((l, i) => Date.parse(l.time) - l.ms - Date.parse(s[i].time));
        // 100, 200, 400, 800 ms (the first two stretched towards the 200 ms between two syncs' starts); timers are never early.
        expect(waits).toHaveLength(4);
        expect(waits[2]).toBeGreaterThanOrEqual(390);
        expect(waits[3]).toBeGreaterThanOrEqual(790);
        expect(waits[3]).toBeGreaterThan(waits[2]);
        expect(a.syncs().every((l) => l.result === 'error')).toBe(true);
        execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
        const ok = await a.waitFor((l) => l.event === 'sync' && l.result === 'ok', 10_000);
        expect(ok.trigger).toBe('retry');
        expect(ok.ops).toBeGreaterThan(10);
        expect(a.child.exitCode).toBeNull();
        expect((await a.stop()).code).toBe(0);
      } finally {
        await a.kill();
      }
    }, 'euag');
  }, 60_000);
});
