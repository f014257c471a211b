// `eucanet status` against a real etcd (test/helpers/etcd.ts): the hosts'
// status keys (as agents put them, under a lease) judged against the cloud's
// state revision; --json's interface keys; --wait returning 0 once the last
// host catches up (seen through the watch) and 1 at the timeout naming the
// host that has not; bad input named before anything connects.
import { spawn } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { statePrefix } from '../../src/store/etcd-layout.js';
import { statusKey, type HostStatus } from '../../src/store/etcd-status.js';
import { cliPath, eucanet } from '../helpers/cli.js';
import { withEtcd } from '../helpers/etcd.js';

const status = (host: string, role: 'cc' | 'nc', revision: number, extra: Partial<HostStatus> = {}): HostStatus => ({
  host,
  role,
  ...(role === 'nc' ? { node: host } : {}),
  revision,
  syncAt: Date.now(),
  result: 'ok',
  syncMs: 3.5,
  ops: 0,
  converged: true,
  pid: 1,
  startedAt: Date.now(),
  ...extra,
});

async function cloudWith(client: Etcd3, cloud: string): Promise<{ revision: number; lease: string }> {
  const lease = client.lease(10);
  const id = await lease.grant();
  await client.put(`${statePrefix(cloud)}settings`).value('{}');
  const r = await client.put(`${statePrefix(cloud)}instances/i-1`).value('{}');
  return { revision: Number(r.header.revision), lease: id };
}

function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  const p = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => p.on('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - t0 })));
}

describe('eucanet status (a real etcd)', () => {
  it('lists every host judged against the state revision; --json has the interface keys', async () => {
    await withEtcd(async (etcd) => {
      const client = new Etcd3({ hosts: etcd.url });
      try {
        const { revision, lease } = await cloudWith(client, 'c1');
        await client
          .put(statusKey('c1', 'cc'))
          .value(JSON.stringify(status('cc', 'cc', revision)))
          .lease(lease);
        await client
          .put(statusKey('c1', 'nc1'))
          .value(JSON.stringify(status('nc1', 'nc', revision - 1)))
          .lease(lease);
        await client
          .put(statusKey('c1', 'nc2'))
          .value(JSON.stringify(status('nc2', 'nc', revision + 5, { result: 'error', error: 'EPERM on tap', converged: false })))
          .lease(lease);
        // Another cloud's hosts are not listed.
        await client
          .put(statusKey('other', 'x'))
          .value(JSON.stringify(status('x', 'nc', 1)))
          .lease(lease);
        const r = eucanet(['status', '--etcd', etcd.url, '--cloud', 'c1', '--json']);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout) as { revision: number; hosts: Record<string, unknown>[] };
        expect(out.revision).toBe(revision);
        expect(out.hosts.map((h) => [h.host, h.role, h.node ?? null, h.revision, h.converged, h.error])).toEqual([
          ['cc', 'cc', null, revision, true, null],
          ['nc1', 'nc', 'nc1', revision - 1, false, null],
          ['nc2', 'nc', 'nc2', revision + 5, false, 'EPERM on tap'],
        ]);
        for (const h of out.hosts) {
          expect(Object.keys(h)).toEqual(
            expect.arrayContaining(
              ['host', 'role', 'node', 'revision', 'converged', 'syncMs', 'error', 'seenMsAgo'].filter((k) => k !== 'node' || h.role === 'nc'),
            ),
          );
          expect(h.syncMs).toBe(3.5);
          expect(h.seenMsAgo).toBeGreaterThanOrEqual(0);
          expect(h.seenMsAgo).toBeLessThan(10_000);
        }
        const text = eucanet(['status', '--etcd', etcd.url, '--cloud', 'c1']);
        expect(text.status).toBe(0);
        expect(text.stdout).toContain(`cloud c1: state revision ${revision}; 1/3 hosts converged`);
        expect(text.stdout).toMatch(/nc2\s+nc\s+nc2\s+\d+\s+no\s.*EPERM on tap/);
      } finally {
        client.close();
      }
    });
  }, 30_000);

  it('--wait: exit 1 at the timeout naming the host behind; exit 0 as soon as it catches up', async () => {
    await withEtcd(async (etcd) => {
      const client = new Etcd3({ hosts: etcd.url });
      try {
        const { revision, lease } = await cloudWith(client, 'default');
        await client
          .put(statusKey('default', 'cc'))
          .value(JSON.stringify(status('cc', 'cc', revision)))
          .lease(lease);
        await client
          .put(statusKey('default', 'nc1'))
          .value(JSON.stringify(status('nc1', 'nc', revision - 1)))
          .lease(lease);
        const late = await run(['status', '--etcd', etcd.url, '--wait', '--timeout', '1']);
        expect(late.status).toBe(1);
        expect(late.stderr).toContain(`not converged after 1 s at state revision ${revision}: nc1 (revision ${revision - 1} < ${revision})`);
        expect(late.stderr).not.toMatch(/\bcc \(/);
        expect(late.ms).toBeGreaterThanOrEqual(1000);

        const waiting = run(['status', '--etcd', etcd.url, '--wait', '--timeout', '20', '--json']);
        await new Promise((r) => setTimeout(r, 1500));
        const caughtUp = Date.now();
        await client
          .put(statusKey('default', 'nc1'))
          .value(JSON.stringify(status('nc1', 'nc', revision)))
          .lease(lease);
        const ok = await waiting;
        expect(ok.status).toBe(0);
        expect(Date.now() - caughtUp).toBeLessThan(3000);
        const out = JSON.parse(ok.stdout) as { converged: boolean; hosts: { converged: boolean }[] };
        expect(out.converged).toBe(true);
        expect(out.hosts.every((h) => h.converged)).toBe(true);
      } finally {
        client.close();
      }
    });
  }, 40_000);

  it('bad input: exit 2 naming the option and its value, before connecting', () => {
    const bad = eucanet(['status', '--etcd', 'localhost:2379']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--etcd');
    expect(bad.stderr).toContain('localhost:2379');
    const cloud = eucanet(['status', '--etcd', 'http://127.0.0.1:9', '--cloud', 'a/b']);
    expect(cloud.status).toBe(2);
    expect(cloud.stderr).toContain('--cloud');
    const timeout = eucanet(['status', '--etcd', 'http://127.0.0.1:9', '--wait', '--timeout', 'soon']);
    expect(timeout.status).toBe(2);
    expect(timeout.stderr).toContain('--timeout');
  });
});
