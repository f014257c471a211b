// The etcd store's full reads on their own gRPC channel with the hand-written
// Range codec (src/store/etcd-range.ts) against a real etcd on loopback,
// checked against etcd's JSON gateway (helpers/etcd-oracle.ts): every key,
// value and mod revision of the prefix, in pages, at a past revision, through
// a list of URLs whose first is down, and an error naming the op and URLs
// when none answers.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { State } from '../../src/managed/types.js';
import { describe, expect, it, vi } from 'vitest';
import { EtcdError } from '../../src/store/errors.js';
import { rangeAll } from '../../src/store/etcd-client.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import { EtcdRangeClient, prefetchRange } from '../../src/store/etcd-range.js';
import { statePrefix } from '../../src/store/etcd-layout.js';
import { withEtcd } from '../helpers/etcd.js';
import { putKey, rangePrefix } from '../helpers/etcd-oracle.js';

const PREFIX = '/eucanet/r/state/';
const SMALL = JSON.parse(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8')) as State;

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('etcd store: full reads with the lean Range codec', () => {
  it('reads every key, value and mod revision of the prefix as etcd has them, in pages, at one revision, and at a past one', () =>
    withEtcd(async (etcd) => {
      // 300 keys (revisions past one varint byte), values multi-byte, empty and large; one key outside the prefix.
      for (let i = 0; i < 300; i++)
        await putKey(etcd.url, `${PREFIX}k${String(i).padStart(3, '0')}`, i % 50 === 0 ? '' : `{"n":${i},"s":"${'ü'.repeat(i % 7)}"}`);
      await putKey(etcd.url, `${PREFIX}big`, 'x'.repeat(200_000));
      await putKey(etcd.url, '/eucanet/r/state0', 'outside');
      const want = await rangePrefix(etcd.url, PREFIX);
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      try {
        for (const pageSize of [5000, 7]) {
          const got = await rangeAll(client.range, PREFIX, pageSize);
          expect(got.revision).toBe(want.revision);
          expect(got.kvs).toEqual(want.kvs);
        }
        // A page read at a past revision sees the keys as they were then.
        const past = want.kvs.find((kv) => kv.key === `${PREFIX}k100`)!.modRevision;
        await putKey(etcd.url, `${PREFIX}k000`, 'changed');
        const then = await rangeAll(client.range, PREFIX, 10, past);
        expect(then.revision).toBe(past);
        expect(then.kvs.map((kv) => kv.key)).toEqual(want.kvs.filter((kv) => kv.modRevision <= past).map((kv) => kv.key));
        expect(then.kvs.find((kv) => kv.key === `${PREFIX}k000`)?.value).toBe('');
      } finally {
        client.close();
      }
    }));

  it('passes a read to the next URL when the first is down; none up is an EtcdError naming the read and the URLs', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    await withEtcd(async (etcd) => {
      await putKey(etcd.url, `${PREFIX}settings`, '{}');
      const client = new EtcdRangeClient({ urls: [dead, etcd.url], timeoutMs: 3000 });
      try {
        const got = await rangeAll(client.range, PREFIX);
        expect(got.kvs).toEqual((await rangePrefix(etcd.url, PREFIX)).kvs);
      } finally {
        client.close();
      }
    });
    const store = openEtcdStore({ urls: [dead], cloud: 'r', timeoutMs: 1500 });
    try {
      const err = await store.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EtcdError);
      expect((err as EtcdError).code).toBe('EUNREACHABLE');
      expect((err as EtcdError).message).toContain(`etcd ${dead}: read ${PREFIX}: unreachable`);
    } finally {
      await store.close();
    }
  });

  it('with a prefetched read and a held watch, watch(), the first read and the watch create no etcd3 client; the watch opens when the hold ends and misses no change', () =>
    withEtcd(async (etcd) => {
      const writer = openEtcdStore({ urls: [etcd.url], cloud: 'h' });
      const opts = { urls: [etcd.url], cloud: 'h', timeoutMs: 5000 };
      try {
        await writer.write({ ...SMALL }, { ifVersion: '' });
        const prefetched = await prefetchRange(opts, statePrefix('h'));
        const store = openEtcdStore({ ...opts, prefetched });
        let release!: () => void;
        store.holdWatch(new Promise<void>((r) => (release = r)));
        try {
          const versions = store.watch();
          const snap = await store.read();
          expect(Reflect.get(store, 'etcd')).toBeUndefined(); // etcd3's client not made (nor the package loaded for it)
          // A change while the watch is held, then the hold ends: the watch starts from the read's revision and yields it.
          const next = await writer.write({ ...snap.state, dns: '192.168.40.1' });
          expect(Reflect.get(store, 'etcd')).toBeUndefined();
          release();
          const it = versions[Symbol.asyncIterator]();
          expect((await it.next()).value).toBe(next);
          expect((await store.read()).version).toBe(next);
          // The watch is the lean one (etcd-watch-lean.ts): etcd3 is not made for it either.
          expect(Reflect.get(store, 'etcd')).toBeUndefined();
          await it.return?.();
        } finally {
          await store.close();
        }
      } finally {
        await writer.close();
      }
    }));

  it("a prefetched read is the store's first read (no second full read); one of another cloud is not used; a failed one is read again", () =>
    withEtcd(async (etcd) => {
      const writer = openEtcdStore({ urls: [etcd.url], cloud: 'r' });
      try {
        await writer.write({ ...SMALL }, { ifVersion: '' });
      } finally {
        await writer.close();
      }
      const want = await rangePrefix(etcd.url, statePrefix('r'));
      const opts = { urls: [etcd.url], cloud: 'r', timeoutMs: 5000 };
      // Sent before the store exists: the store's first read takes it, and no other full read is made.
      const prefetched = await prefetchRange(opts, statePrefix('r'));
      const calls = vi.spyOn(prefetched.client, 'range');
      const store = openEtcdStore({ ...opts, cache: false, prefetched });
      try {
        expect(store.fullReads).toBe(prefetched.client);
        const snap = await store.read();
        expect(snap.revision).toBe(want.revision);
        expect(calls).toHaveBeenCalledTimes(0);
        // The next full read goes to etcd again, over the same channel.
        await store.read();
        expect(calls).toHaveBeenCalledTimes(1);
      } finally {
        await store.close();
      }
      // A prefetch of another prefix is not taken for this cloud's state.
      const other = await prefetchRange(opts, statePrefix('elsewhere'));
      const otherCalls = vi.spyOn(other.client, 'range');
      const s2 = openEtcdStore({ ...opts, cache: false, prefetched: other });
      try {
        expect((await s2.read()).revision).toBe(want.revision);
        expect(otherCalls).toHaveBeenCalledTimes(1);
      } finally {
        await s2.close();
      }
      // Sent while etcd was down: the store's first read makes it again once etcd is back.
      await etcd.stop();
      const failed = await prefetchRange({ ...opts, timeoutMs: 500 }, statePrefix('r'));
      await expect(failed.page).rejects.toThrow(/UNAVAILABLE|Deadline|No connection/);
      await etcd.start();
      const s3 = openEtcdStore({ ...opts, cache: false, prefetched: failed });
      try {
        expect((await s3.read()).revision).toBe(want.revision);
      } finally {
        await s3.close();
      }
    }));

  it("names etcd's refusal with its gRPC status and message, and a call with no answer by its deadline as DEADLINE_EXCEEDED (an EtcdError ETIMEDOUT)", async () => {
    await withEtcd(async (etcd) => {
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 3000 });
      try {
        // A lease etcd never granted: etcd answers NOT_FOUND (5) with its own message.
        const err = await client.revoke('12345').catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 5, details: 'etcdserver: requested lease not found' });
        // The channel is still usable after a refused call.
        const id = await client.grant(10);
        await client.put(`${PREFIX}leased`, 'v', id);
        expect((await rangePrefix(etcd.url, PREFIX)).kvs.map((kv) => kv.key)).toEqual([`${PREFIX}leased`]);
        await client.revoke(id);
        expect((await rangePrefix(etcd.url, PREFIX)).kvs).toEqual([]);
      } finally {
        client.close();
      }
    });
    // A listener that accepts and never answers: no HTTP/2 settings, no reply.
    let connections = 0;
    const silent = createServer(() => connections++).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const store = openEtcdStore({ urls: [url], cloud: 'r', timeoutMs: 700 });
    try {
      const t0 = Date.now();
      const err = await store.read().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EtcdError);
      expect((err as EtcdError).code).toBe('ETIMEDOUT');
      expect((err as EtcdError).message).toContain(`etcd ${url}: read ${PREFIX}: no answer in time`);
      expect(Date.now() - t0).toBeLessThan(3000);
      // The silent connection is given up: the next read connects again (a peer gone without a word is not waited on forever).
      expect(await store.read().catch((e: unknown) => (e as EtcdError).code)).toBe('ETIMEDOUT');
      expect(connections).toBe(2);
    } finally {
      await store.close();
      silent.close();
    }
  });
});
