// A two-cluster cloud (issue 18) kept in etcd (issue 17), with real agents
// (root, throw-away namespaces from test/helpers/two-clusters.ts, a real etcd
// from test/helpers/etcd.ts): `cloud put` stores one key per cluster; the
// second cluster's CC agent (`--cluster c2`) and its NC agent converge from
// etcd, the CC's tunnel floods to the other cluster's CC; `status` lists the
// CC with its cluster and judges both hosts converged; a run-instance written
// with --etcd on the second cluster's node reaches its NC.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { dhcpServerFor } from '../../src/managed/apply.js';
import type { State } from '../../src/managed/types.js';
import { statePrefix } from '../../src/store/etcd-layout.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { eucanet } from '../helpers/cli.js';
import { withEtcd } from '../helpers/etcd.js';
import { isRoot, nsExec } from '../helpers/netns.js';
import { TwoClusters } from '../helpers/two-clusters.js';
import { twoClusterCloud } from '../helpers/two-cluster-state.js';

if (!isRoot) console.warn('test/integration/etcd-clusters.test.ts: skipped, needs root');

const doc = (): State =>
  twoClusterCloud({
    groups: [{ owner: 'admin', name: 'a', rules: [] }],
    instances: [
      { id: 'i-a1', group: 'admin/a', node: 'nc1' },
      { id: 'i-a2', group: 'admin/a', node: 'nc3' },
    ],
  });

const ifnames = (ns: string) => (JSON.parse(nsExec(ns, 'ip', ['-j', 'link'])) as { ifname: string }[]).map((l) => l.ifname);

describe.skipIf(!isRoot)('two clusters in etcd, with agents (root, a real etcd)', () => {
  it("cloud put keeps a key per cluster; c2's CC and NC agents converge; status names the CC's cluster; a run-instance reaches nc3", async () => {
    const topo = new TwoClusters();
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-clusters-'));
    const agents: AgentProcess[] = [];
    try {
      await topo.build(allocate(doc()));
      await withEtcd(async (etcd) => {
        const file = join(dir, 'cloud.json');
        writeFileSync(file, JSON.stringify(doc()));
        const put = eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', file, '--json']);
        expect(put.stderr).toBe('');
        expect(put.status).toBe(0);
        const client = new Etcd3({ hosts: etcd.url });
        try {
          const keys = Object.keys(await client.getAll().prefix(statePrefix('default')).strings());
          expect(keys.filter((k) => k.includes('/clusters/')).sort()).toEqual([`${statePrefix('default')}clusters/c1`, `${statePrefix('default')}clusters/c2`]);
        } finally {
          client.close();
        }
        const agent = (...args: string[]) => {
          const a = AgentProcess.start([...args, '--etcd', etcd.url, '--resync', '0']);
          agents.push(a);
          return a;
        };
        const cc2 = agent('--role', 'cc', '--cluster', 'c2', '--netns', topo.cc('c2'), '--host', 'cc-c2');
        const nc3 = agent('--role', 'nc', '--node', 'nc3', '--netns', topo.nc('nc3'), '--host', 'nc3');
        for (const a of [cc2, nc3]) expect(await a.waitFor((l) => l.event === 'sync', 60_000)).toMatchObject({ trigger: 'start', result: 'ok' });

        // c2's CC joins group a's segment to c1's CC: its tunnel floods to 192.168.32.20 only.
        const tunnels = ifnames(topo.cc('c2')).filter((n) => n.startsWith('eucatun'));
        expect(tunnels).toHaveLength(1);
        const fdb = JSON.parse(nsExec(topo.cc('c2'), 'bridge', ['-j', 'fdb', 'show', 'dev', tunnels[0]])) as { mac: string; dst?: string }[];
        expect(fdb.filter((e) => e.mac === '00:00:00:00:00:00').map((e) => e.dst)).toEqual(['192.168.32.20']);

        const wait = eucanet(['status', '--etcd', etcd.url, '--wait', '--timeout', '30', '--json']);
        expect(wait.status).toBe(0);
        const out = JSON.parse(wait.stdout) as { revision: number; hosts: Record<string, unknown>[] };
        expect(out.hosts.map((h) => [h.host, h.role, h.cluster ?? null, h.node ?? null, h.converged])).toEqual([
          ['cc-c2', 'cc', 'c2', null, true],
          ['nc3', 'nc', null, 'nc3', true],
        ]);

        // An operation written to etcd reaches the NC of the instance's cluster.
        const before = ifnames(topo.nc('nc3')).length;
        const run = eucanet(['run-instance', '--etcd', etcd.url, '--id', 'i-a3', '--group', 'admin/a', '--node', 'nc3', '--port', 'vnet9']);
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        await nc3.waitFor((l) => l.event === 'sync' && l.trigger === 'store' && l.result === 'ok', 30_000);
        expect(ifnames(topo.nc('nc3'))).toContain('vnet9');
        expect(ifnames(topo.nc('nc3')).length).toBe(before + 1);
        await Promise.all(agents.map((a) => a.stop()));
      });
    } finally {
      await Promise.all(agents.map((a) => a.kill()));
      await dhcpServerFor(topo.cc('c2'))
        .stop()
        .catch(() => undefined);
      rmSync(`/run/eucanet/${topo.cc('c2')}`, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
      await topo.teardown();
    }
  }, 180_000);
});
