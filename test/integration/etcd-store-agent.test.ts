// `eucanet agent --etcd`: a node controller's agent whose state is in etcd
// applies it at start (the version it reports is the cloud's revision) and
// applies an operation made with `--etcd` from its watch. `ip -j link` is the
// oracle. (Agents on etcd in depth, status and restarts: the agents' tests.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess } from '../helpers/agent-process.js';
import { eucanetAsync as eucanet } from '../helpers/cli-async.js';
import { repoRoot } from '../helpers/cli.js';
import { withEtcd } from '../helpers/etcd.js';
import { ipLinks, isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/etcd-store-agent.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-agent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// This kernel has no 802.1Q: the seed over vxlan, as the other agent tests run it.
const statePath = join(dir, 'cloud.json');
writeFileSync(statePath, JSON.stringify({ ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' }));

describe.skipIf(!isRoot)('eucanet agent --etcd (root)', () => {
  it('applies the state in etcd at start, then an operation written to etcd; show and apply read it too', () =>
    withEtcd(async (etcd) => {
      const put = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', statePath, '--json']);
      expect(put.status, put.stderr).toBe(0);
      const rev = String((JSON.parse(put.stdout) as { revision: number }).revision);
      await withNetns(async (ns) => {
        execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
        const agent = AgentProcess.start(['--role', 'nc', '--node', 'nc1', '--netns', ns, '--etcd', etcd.url]);
        try {
          const first = await agent.waitFor((l) => l.event === 'sync', 30_000);
          expect(first, JSON.stringify(first)).toMatchObject({ trigger: 'start', result: 'ok', version: rev });
          expect(ipLinks(ns).map((l) => l.ifname)).toContain('vnet1');
          const run = await eucanet(['run-instance', '--etcd', etcd.url, '--id', 'i-9', '--group', 'admin/web', '--node', 'nc1', '--port', 'vnet7', '--json']);
          expect(run.status, run.stderr).toBe(0);
          const version = (JSON.parse(run.stdout) as { version: string }).version;
          const applied = await agent.waitFor((l) => l.event === 'sync' && l.version === version && l.result === 'ok', 30_000);
          expect(applied.trigger).toBe('store');
          expect(ipLinks(ns).map((l) => l.ifname)).toContain('vnet7');
          // show and apply read the same state from etcd.
          const show = await eucanet(['show', '--etcd', etcd.url, '--netns', ns, '--json']);
          expect(show.status, show.stderr).toBe(0);
          expect(show.stdout).toContain('"i-9"');
          const dry = await eucanet(['apply', '--etcd', etcd.url, '--role', 'nc', '--node', 'nc1', '--netns', ns, '--dry-run', '--json']);
          expect(dry.status, dry.stderr).toBe(0);
          expect((JSON.parse(dry.stdout) as { ops: number }).ops).toBe(0);
          const conf = await eucanet(['apply', '--etcd', etcd.url, '--role', 'nc', '--node', 'nc1', '--netns', ns, '--conf', statePath]);
          expect(conf.status).toBe(2);
          expect(conf.stderr).toMatch(/--conf works only with --state/);
        } finally {
          await agent.kill();
        }
      }, 'eues');
    }));
});
