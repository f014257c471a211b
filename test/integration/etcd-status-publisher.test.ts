// An agent's status in a real etcd (test/helpers/etcd.ts): put under a lease
// after every sync, gone when the agent stops (revoked) or dies (expired),
// and put again under a new lease when etcd comes back after the old one was
// lost, with one 'reachable' change each way. The agent runs in a throw-away
// namespace over a state file; what is checked is read back from etcd.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket as NetSocket } from 'node:net';
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

/** A proxied socket, marked dead by the proxy's blackhole(). */
type Socket = NetSocket & { dead?: boolean };

const dir = mkdtempSync(join(tmpdir(), 'eucanet-status-pub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (cond: () => boolean | Promise<boolean>, ms: number, what: string) => {
  for (const t0 = Date.now(); !(await cond()); await sleep(50)) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
};

/**
 * A TCP proxy to etcd whose connections can be made dead without a word
 * (blackhole(): the open ones, and those opened until heal(), forward
 * nothing and are never closed by it), as a peer gone behind a firewall is.
 */
async function blackholeProxy(url: string) {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  let dead = false;
  let count = 0;
  const server = createServer((d) => {
    const down: Socket = d;
    count++;
    sockets.add(down);
    down.on('close', () => sockets.delete(down));
    down.on('error', () => undefined);
    if (dead) return down.pause();
    const up: Socket = connect(Number(target.port), target.hostname);
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    up.on('error', () => down.destroy());
    down.on('error', () => up.destroy());
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (d: Buffer) => {
        if (!from.dead) to.write(d);
      });
    forward(down, up);
    forward(up, down);
    down.on('close', () => down.dead || up.destroy());
    up.on('close', () => up.dead || down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    blackhole: () => {
      dead = true;
      for (const s of sockets) s.dead = true;
    },
    heal: () => (dead = false),
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

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

  it("with a lean channel: the lease and every put go through it, etcd3's client is never asked for, and the status stays under one kept-alive lease past several TTLs", async () => {
    await withEtcd(async (etcd) => {
      const lean = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      let asked = 0;
      const leases = new Set<string>();
      try {
        await withPublisher(
          etcd,
          2,
          async (p, a, client) => {
            p.on('published', (_s, lease) => leases.add(lease));
            await p.start();
            await a.start();
            await until(async () => (await readCloudStatus(client, 'pub')).hosts[0]?.result === 'ok', 5000, "the first sync's status");
            await sleep(5000); // two and a half TTLs: only the keep-alives hold the status
            const kv = (await client.get(statusKey('pub', 'host-a')).exec()).kvs[0];
            expect(kv).toBeDefined();
            expect([...leases]).toEqual([kv.lease]);
            expect(kv.lease).toBe(p.currentLease);
            expect(Number((await client.leaseClient.leaseTimeToLive({ ID: kv.lease })).TTL)).toBeGreaterThan(0);
            expect(asked).toBe(0);
            await p.stop(true);
            expect((await client.get(statusKey('pub', 'host-a')).exec()).kvs).toEqual([]);
            expect(Number((await client.leaseClient.leaseTimeToLive({ ID: kv.lease })).TTL)).toBe(-1);
          },
          {
            lean,
            client: () => {
              asked++;
              throw new Error("etcd3's client asked for");
            },
          },
        );
      } finally {
        lean.close();
      }
    });
  }, 30_000);

  it('with a lean channel: a connection that stops answering without a word is dropped; on a new one, a new lease and the status again', async () => {
    await withEtcd(async (etcd) => {
      const proxy = await blackholeProxy(etcd.url);
      const lean = new EtcdRangeClient({ urls: [proxy.url], timeoutMs: 1500 });
      try {
        await withPublisher(
          etcd,
          3,
          async (p, a, client, events) => {
            await p.start();
            await a.start();
            await until(async () => (await readCloudStatus(client, 'pub')).hosts[0]?.result === 'ok', 5000, "the first sync's status");
            const lease1 = p.currentLease;
            proxy.blackhole(); // the connection in use is dead for good: no answer, no reset
            await until(() => events.includes('down'), 5000, '"down"');
            // Healed only once etcd itself has let the lease expire (its status gone, read past the proxy): healed
            // sooner, a keep-alive on the first new connection may still renew it (etcd renews a lease until its TTL
            // has passed since the last renewal), and the publisher then rightly keeps it, with no new lease to see.
            await until(async () => (await client.get(statusKey('pub', 'host-a')).exec()).kvs.length === 0, 10_000, "the lease's expiry in etcd");
            proxy.heal(); // new connections go through
            await until(() => events.includes('new-lease') && p.reachable === true, 15_000, 'a new lease over a new connection');
            const kv = (await client.get(statusKey('pub', 'host-a')).exec()).kvs[0];
            expect(kv?.lease).toBe(p.currentLease);
            expect(p.currentLease).not.toBe(lease1);
            expect(proxy.connections()).toBeGreaterThan(1);
          },
          {
            lean,
            client: () => {
              throw new Error("etcd3's client asked for");
            },
          },
        );
      } finally {
        lean.close();
        await proxy.close();
      }
    });
  }, 40_000);

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
