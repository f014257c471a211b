// An agent's status in a real etcd (test/helpers/etcd.ts): put under a lease
// after every sync, gone when the agent stops (revoked) or dies (expired),
// and put again under a new lease when etcd comes back after the old one was
// lost, with one 'reachable' change each way. The agent runs in a throw-away
// namespace over a state file; what is checked is read back from etcd.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StatusPublisher, type StatusPublisherOptions } from '../../src/agent/status-publisher.js';
import type { HostStatus } from '../../src/store/etcd-status.js';
import { EtcdRangeClient } from '../../src/store/etcd-range.js';
import { StoreSource } from '../../src/agent/store-source.js';
import { readCloudStatus, statusKey } from '../../src/store/etcd-status.js';
import { FileStore } from '../../src/store/file.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { repoRoot } from '../helpers/cli.js';
import { withEtcd, type TestEtcd } from '../helpers/etcd.js';
import { isRoot, withNetns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-status-pub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean | Promise<boolean>, ms: number, what: string) => {
  for (const t0 = Date.now(); !(await cond()); await sleep(50)) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
};

async function withPublisher(
  etcd: TestEtcd,
  ttlSeconds: number,
  fn: (p: StatusPublisher, a: Agent, client: Etcd3, events: string[]) => Promise<void>,
  extra: Partial<StatusPublisherOptions> = {},
): Promise<void> {
  const file = join(dir, `cloud-${Math.random().toString(16).slice(2)}.json`);
  await writeFileAtomic(file, JSON.stringify(seed));
  const client = new Etcd3({ hosts: etcd.url });
  try {
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const store = new FileStore(file);
      const a = new Agent({ role: { role: 'nc', node: 'nc1' }, netns: ns, source: new StoreSource(store), drift: false, resyncSeconds: 0 });
      const p = new StatusPublisher(a, { client, cloud: 'pub', host: 'host-a', ttlSeconds, retryMs: { initial: 50, max: 200 }, ...extra });
      const events: string[] = [];
      p.on('reachable', (up) => events.push(up ? 'up' : 'down'));
      p.on('new-lease', () => events.push('new-lease'));
      try {
        await fn(p, a, client, events);
      } finally {
        await p.stop();
        await a.stop();
        await store.close();
      }
    }, 'eustp');
  } finally {
    client.close();
  }
}

describe.skipIf(!isRoot)('the status publisher (root, a real etcd)', () => {
  it("whenPut() resolves once the last sync's status is in etcd; with etcd down, after its maxMs", async () => {
    await withEtcd(async (etcd) => {
      await withPublisher(etcd, 10, async (p, a, client) => {
        await p.start();
        await p.whenPut(50); // no sync yet: at once
        const first = await a.start();
        const t0 = Date.now();
        await p.whenPut(5000);
        expect(Date.now() - t0).toBeLessThan(4000);
        const v = JSON.parse((await client.get(statusKey('pub', 'host-a')).string()) ?? '{}') as HostStatus;
        expect(v).toMatchObject({ result: first.result, ops: first.ops, converged: true });
        expect(v.syncAt).toBeGreaterThan(0);
        await etcd.stop('SIGKILL');
        await a.sync('sighup');
        const t1 = Date.now();
        await p.whenPut(600);
        expect(Date.now() - t1).toBeGreaterThanOrEqual(550);
        await etcd.start();
      });
    });
  }, 30_000);

  it('with a lean channel: the statuses up to the first sync go through it, etcd3 untouched; then the status moves under a kept-alive etcd3 lease and the lean one is revoked', async () => {
    await withEtcd(async (etcd) => {
      const lean = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      const calls: string[] = [];
      const published: [HostStatus, string, number][] = [];
      try {
        let etcd3: Etcd3 | undefined;
        await withPublisher(
          etcd,
          10,
          async (p, a, client) => {
            etcd3 = client;
            // Each status with its lease and how many times etcd3's client had been asked for by then.
            p.on('published', (s, lease) => published.push([s, lease, calls.length]));
            await p.start();
            await a.start();
            await until(() => published.some(([s]) => s.syncAt !== undefined), 5000, "the first sync's status");
            const at = published.findIndex(([s]) => s.syncAt !== undefined);
            const [first, leanId, asked] = published[at];
            expect(first.result).toBe('ok');
            // Until then only the lean channel was used: etcd3's client was never asked for.
            expect(asked).toBe(0);
            await until(() => published.length > at + 1, 5000, 'the status under the etcd3 lease');
            expect(calls.length).toBe(1);
            const kv = (await client.get(statusKey('pub', 'host-a')).exec()).kvs[0];
            expect(kv.lease).toBe(published[at + 1][1]);
            expect(kv.lease).not.toBe(leanId);
            expect(Number((await client.leaseClient.leaseTimeToLive({ ID: kv.lease })).TTL)).toBeGreaterThan(0);
            await until(async () => Number((await client.leaseClient.leaseTimeToLive({ ID: leanId })).TTL) === -1, 3000, 'the lean lease revoked');
          },
          {
            lean,
            client: () => {
              calls.push('client');
              return etcd3 as Etcd3;
            },
          },
        );
      } finally {
        lean.close();
      }
    });
  });

  it('with a lean channel and a first sync longer than the TTL: the status stays, moved under a kept-alive etcd3 lease at half the TTL', async () => {
    await withEtcd(async (etcd) => {
      const lean = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      const leases: string[] = [];
      try {
        let etcd3: Etcd3 | undefined;
        await withPublisher(
          etcd,
          2,
          async (p, _a, client) => {
            etcd3 = client;
            p.on('published', (_s, lease) => leases.push(lease));
            await p.start(); // the agent's first sync never ends here
            await sleep(5000);
            const kv = (await client.get(statusKey('pub', 'host-a')).exec()).kvs[0];
            expect(kv).toBeDefined();
            expect(leases.length).toBeGreaterThanOrEqual(2);
            expect(kv.lease).toBe(leases.at(-1));
            expect(kv.lease).not.toBe(leases[0]);
          },
          { lean, client: () => etcd3 as Etcd3 },
        );
      } finally {
        lean.close();
      }
    });
  });

  it('puts the status after each sync under a lease with the TTL asked; a stop revokes it', async () => {
    await withEtcd(async (etcd) => {
      await withPublisher(etcd, 10, async (p, a, client) => {
        await p.start();
        const r = await a.start();
        expect(r.result).toBe('ok');
        await until(
          async () => (await client.get(statusKey('pub', 'host-a')).json()) !== null && (await readCloudStatus(client, 'pub')).hosts[0]?.result === 'ok',
          5000,
          'the status after the first sync',
        );
        const raw = await client.get(statusKey('pub', 'host-a')).exec();
        const kv = raw.kvs[0];
        const ttl = await client.leaseClient.leaseTimeToLive({ ID: kv.lease });
        expect(Number(ttl.grantedTTL)).toBe(10);
        expect(JSON.parse(kv.value.toString())).toMatchObject({ host: 'host-a', role: 'nc', node: 'nc1', result: 'ok', converged: true, pid: process.pid });
        const cloud = await readCloudStatus(client, 'pub');
        expect(cloud.hosts).toEqual([expect.objectContaining({ host: 'host-a', role: 'nc', node: 'nc1', error: null, seenMsAgo: expect.any(Number) })]);
        expect(cloud.hosts[0].syncMs).toBe(r.ms);
        await p.stop(true);
        expect(await client.get(statusKey('pub', 'host-a')).exec()).toMatchObject({ kvs: [] });
      });
    });
  }, 30_000);

  it('a publisher that dies (no revoke) is gone when its lease expires', async () => {
    await withEtcd(async (etcd) => {
      await withPublisher(etcd, 2, async (p, a, client) => {
        await p.start();
        await a.start();
        await until(async () => (await readCloudStatus(client, 'pub')).hosts.length === 1, 5000, 'the status');
        await p.stop(false);
        const t0 = Date.now();
        await until(async () => (await readCloudStatus(client, 'pub')).hosts.length === 0, 6000, 'the lease to expire');
        expect(Date.now() - t0).toBeGreaterThan(500);
      });
    });
  }, 30_000);

  it('etcd SIGKILLed longer than the lease: one "down", then one "up", a new lease and the status put again', async () => {
    await withEtcd(async (etcd) => {
      await withPublisher(etcd, 2, async (p, a, client, events) => {
        await p.start();
        await a.start();
        await until(async () => (await readCloudStatus(client, 'pub')).hosts[0]?.result === 'ok', 5000, 'the status');
        const lease1 = p.currentLease;
        await etcd.stop('SIGKILL');
        await until(() => events.includes('down'), 5000, '"down"');
        await sleep(5000); // past twice the TTL: the lease is given up
        await etcd.start();
        await until(() => events.includes('new-lease') && p.reachable === true, 15_000, 'a new lease');
        await until(async () => (await readCloudStatus(client, 'pub')).hosts[0]?.result === 'ok', 10_000, 'the status again');
        expect(p.currentLease).not.toBe(lease1);
        const kv = (await client.get(statusKey('pub', 'host-a')).exec()).kvs[0];
        expect(kv.lease).toBe(p.currentLease);
        expect(events.filter((e) => e === 'down').length).toBe(1);
        expect(events.filter((e) => e === 'up').length).toBe(2); // the first put, and the return
      });
    });
  }, 60_000);
});
