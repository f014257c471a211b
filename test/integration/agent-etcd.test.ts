// `eucanet agent --etcd URL` against a real etcd (test/helpers/etcd.ts), two
// node controllers each in its own throw-away namespace (root): they converge
// from etcd and publish their status (eucanet status --wait returns 0); etcd
// SIGKILLed and restarted under them leaves the kernel unchanged (ip/nft
// dumps), logs one line when it goes and one when it is back, is in the
// metrics, costs no sync (the watch resumes, no re-read), and a change made
// after the restart is applied; a watch whose revision was compacted while
// the agent was cut off is recovered by a full re-read; `status --wait` exits
// 1 naming the host that lags; a SIGKILLed agent leaves `status` when its
// lease expires.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { runInstance, terminateInstance } from '../../src/managed/ops/index.js';
import { EtcdStore } from '../../src/store/etcd.js';
import { StatusWatch } from '../../src/store/etcd-status-watch.js';
import { update } from '../../src/store/update.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { eucanet, repoRoot } from '../helpers/cli.js';
import { withEtcd, type TestEtcd } from '../helpers/etcd.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { settledDump, stableDump } from '../helpers/settle.js';

if (!isRoot) console.warn('test/integration/agent-etcd.test.ts: skipped, needs root');

const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dump = (ns: string) => stableDump(ns).replace(/"operstate": "\w+"/g, '"operstate"');
const links = (ns: string) => (JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link']).toString()) as { ifname: string }[]).map((l) => l.ifname);

interface Cloud {
  etcd: TestEtcd;
  store: EtcdStore;
  cloud: string;
  ns: Record<'nc1' | 'nc2', string>;
  agents: Record<'nc1' | 'nc2', AgentProcess>;
  start(node: 'nc1' | 'nc2', ...more: string[]): AgentProcess;
}

async function withCloud(fn: (c: Cloud) => Promise<void>): Promise<void> {
  await withEtcd(async (etcd) => {
    const cloud = `t${Math.random().toString(16).slice(2, 8)}`;
    const store = new EtcdStore({ urls: [etcd.url], cloud });
    const all: AgentProcess[] = [];
    try {
      await store.write(seed);
      await withNetns(async (ns1) => {
        await withNetns(async (ns2) => {
          const ns = { nc1: ns1, nc2: ns2 };
          for (const n of [ns1, ns2]) execFileSync('ip', ['-n', n, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
          const c: Cloud = {
            etcd,
            store,
            cloud,
            ns,
            agents: {} as Cloud['agents'],
            start(node, ...more) {
              const a = AgentProcess.start([
                '--role',
                'nc',
                '--node',
                node,
                '--netns',
                ns[node],
                '--etcd',
                etcd.url,
                '--cloud',
                cloud,
                '--host',
                node,
                '--resync',
                '0',
                ...more,
              ]);
              all.push(a);
              c.agents[node] = a;
              return a;
            },
          };
          try {
            await fn(c);
          } finally {
            await Promise.all(all.map((a) => a.kill()));
          }
        }, 'eueb');
      }, 'euea');
    } finally {
      await store.close();
    }
  });
}

const status = (c: Cloud, ...more: string[]) => eucanet(['status', '--etcd', c.etcd.url, '--cloud', c.cloud, ...more]);

async function metric(a: AgentProcess, name: string): Promise<number> {
  const url = (await a.waitFor((l) => l.event === 'metrics')).url as string;
  const text = await (await fetch(url)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe.skipIf(!isRoot)('agents on etcd (root, a real etcd)', () => {
  it('converge and publish their status; etcd SIGKILLed and restarted: the kernel unchanged, one line each way, a later change applied', async () => {
    await withCloud(async (c) => {
      const rev0 = await c.store.revision();
      const a1 = c.start('nc1', '--metrics', '127.0.0.1:0');
      const a2 = c.start('nc2');
      for (const a of [a1, a2]) expect(await a.waitFor((l) => l.event === 'sync')).toMatchObject({ trigger: 'start', result: 'ok', version: String(rev0) });
      const waited = status(c, '--wait', '--timeout', '15', '--json');
      expect(waited.stderr).toBe('');
      expect(waited.status).toBe(0);
      const js = JSON.parse(waited.stdout) as { revision: number; hosts: { host: string; revision: number; converged: boolean }[] };
      expect(js.revision).toBe(rev0);
      expect(js.hosts.map((h) => [h.host, h.revision, h.converged])).toEqual([
        ['nc1', rev0, true],
        ['nc2', rev0, true],
      ]);
      const before = { nc1: await settledDump(c.ns.nc1), nc2: await settledDump(c.ns.nc2) };
      const syncsBefore = a1.syncs().length;

      await c.etcd.stop('SIGKILL');
      await a1.waitFor((l) => l.event === 'etcd-lost', 15_000);
      await sleep(1500);
      expect(dump(c.ns.nc1)).toBe(before.nc1.replace(/"operstate": "\w+"/g, '"operstate"'));
      expect(await metric(a1, 'eucanet_agent_store_reachable')).toBe(0);
      await c.etcd.start();
      await a1.waitFor((l) => l.event === 'etcd-back', 30_000);
      expect(await metric(a1, 'eucanet_agent_store_reachable')).toBe(1);
      expect(await metric(a1, 'eucanet_agent_store_reconnects_total')).toBe(1);
      // The watch resumed from its revision: nothing re-read, nothing synced.
      await sleep(500);
      expect(a1.syncs().length).toBe(syncsBefore);
      for (const node of ['nc1', 'nc2'] as const) expect(dump(c.ns[node])).toBe(before[node].replace(/"operstate": "\w+"/g, '"operstate"'));

      const from = a1.lines.length;
      const r = await update(c.store, (s) => runInstance(s, { id: 'i-new', group: 'admin/default', node: 'nc1', port: 'vnet9' }));
      const applied = await a1.waitFor((l) => l.event === 'sync' && l.version === r.version, 15_000, from);
      expect(applied).toMatchObject({ trigger: 'store', result: 'ok' });
      expect(applied.ops).toBeGreaterThan(0);
      expect(links(c.ns.nc1)).toContain('vnet9');
      // nc2 applies the new revision too (its instances are elsewhere) and records it: converged by revision.
      expect(await c.agents.nc2.waitFor((l) => l.event === 'sync' && l.version === r.version, 15_000)).toMatchObject({ result: 'ok' });
      expect(status(c, '--wait', '--timeout', '15').status).toBe(0);
      for (const a of [a1, a2]) {
        expect(a.lines.filter((l) => l.event === 'etcd-lost')).toHaveLength(1);
        expect(a.lines.filter((l) => l.event === 'etcd-back')).toHaveLength(1);
      }
    });
  }, 240_000);

  it('a watch revision compacted while the agent was cut off: recovered by a full re-read, the change applied', async () => {
    await withCloud(async (c) => {
      const a1 = c.start('nc1');
      await a1.waitFor((l) => l.event === 'sync' && l.result === 'ok');
      // Frozen, the agent cannot reconnect before the writes and the compaction.
      process.kill(a1.pid, 'SIGSTOP');
      try {
        await c.etcd.stop('SIGKILL');
        await c.etcd.start();
        await update(c.store, (s) => runInstance(s, { id: 'i-a', group: 'admin/default', node: 'nc1', port: 'vnet7' }));
        const r = await update(c.store, (s) => terminateInstance(s, 'i-1'));
        const client = new Etcd3({ hosts: c.etcd.url });
        try {
          await client.kv.compact({ revision: Number(r.version), physical: true });
        } finally {
          client.close();
        }
        const from = a1.lines.length;
        process.kill(a1.pid, 'SIGCONT');
        const sync = await a1.waitFor((l) => l.event === 'sync' && l.version === r.version, 30_000, from);
        expect(sync.result).toBe('ok');
        expect(a1.lines.slice(from).some((l) => l.event === 'etcd-resync')).toBe(true);
        expect(links(c.ns.nc1)).toContain('vnet7');
        expect(status(c, '--wait', '--timeout', '15').status).toBe(0);
      } finally {
        process.kill(a1.pid, 'SIGCONT');
      }
    });
  }, 240_000);

  it('status --wait: exit 1 naming the host that lags; a SIGKILLed agent leaves status when its lease expires', async () => {
    await withCloud(async (c) => {
      const a1 = c.start('nc1');
      const a2 = c.start('nc2');
      for (const a of [a1, a2]) await a.waitFor((l) => l.event === 'sync' && l.result === 'ok');
      const rev0 = await c.store.revision();
      expect(status(c, '--wait', '--timeout', '15').status).toBe(0);
      process.kill(a2.pid, 'SIGSTOP');
      try {
        const r = await update(c.store, (s) => runInstance(s, { id: 'i-b', group: 'admin/default', node: 'nc1', port: 'vnet8' }));
        await a1.waitFor((l) => l.event === 'sync' && l.version === r.version, 15_000);
        // nc1's status put follows its sync line: wait for it, so that only nc2 lags.
        const watch = await StatusWatch.open(c.store, c.cloud);
        await watch.reached('nc1', Number(r.version), 15_000).finally(() => watch.close());
        const late = status(c, '--wait', '--timeout', '2');
        expect(late.status).toBe(1);
        expect(late.stderr).toContain(`nc2 (revision ${rev0} < ${r.version})`);
        expect(late.stderr).not.toContain('nc1 (');
      } finally {
        process.kill(a2.pid, 'SIGCONT');
      }
      expect(status(c, '--wait', '--timeout', '15').status).toBe(0);

      await a2.stop('SIGKILL');
      const t0 = Date.now();
      const hosts = () => (JSON.parse(status(c, '--json').stdout) as { hosts: { host: string }[] }).hosts.map((h) => h.host);
      expect(hosts()).toEqual(['nc1', 'nc2']);
      while (hosts().includes('nc2')) {
        if (Date.now() - t0 > 20_000) throw new Error('nc2 still in status 20 s after it was killed');
        await sleep(500);
      }
      expect(Date.now() - t0).toBeGreaterThan(3000);
      expect(hosts()).toEqual(['nc1']);
    });
  }, 240_000);
});
