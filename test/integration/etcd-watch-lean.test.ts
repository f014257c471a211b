// The lean watch (src/store/etcd-watch-lean.ts: etcd's Watch over our own
// HTTP/2 gRPC channel) against a real etcd on loopback: it delivers every
// change under its prefix from its start revision (history included) and
// nothing outside it; it resumes after etcd is stopped and started again
// from the revision after the last event it delivered (a change made before
// it reconnected is not lost, none is delivered twice); a start revision that
// was compacted ends it with a WatchCancelledError naming the compaction. What
// etcd holds is written through etcd's JSON gateway (the oracle's putKey), not
// through the code under test.
import { describe, expect, it } from 'vitest';
import type { CacheEvent } from '../../src/store/etcd-cache.js';
import { EtcdRangeClient } from '../../src/store/etcd-range.js';
import { LeanWatch, WatchCancelledError } from '../../src/store/etcd-watch-lean.js';
import { compact, etcdRevision, putKey } from '../helpers/etcd-oracle.js';
import { withEtcd } from '../helpers/etcd.js';

/** A lean watch of `prefix` from `from`, recording what it emits. */
function recorded(client: EtcdRangeClient, prefix: string, from: number) {
  const events: CacheEvent[] = [];
  const said: string[] = [];
  let error: unknown;
  const w = new LeanWatch(client, prefix, from);
  w.on('data', (evs) => events.push(...evs));
  w.on('connected', () => said.push('connected'));
  w.on('disconnected', () => said.push('disconnected'));
  w.on('error', (err) => (error = err));
  const until = async (ok: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: events ${JSON.stringify(events)}, said ${said.join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { w, events, said, until, error: () => error };
}

const keys = (evs: CacheEvent[]) => evs.map((e) => `${e.type} ${String(e.kv.key)}=${String(e.kv.value)}@${String(e.kv.mod_revision)}`);

describe('the lean etcd watch', () => {
  it('delivers every change under its prefix from its start revision (history first), nothing outside it', () =>
    withEtcd(async (etcd) => {
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      const r1 = await putKey(etcd.url, '/w/a', '1');
      await putKey(etcd.url, '/other', 'x');
      const r3 = await putKey(etcd.url, '/w/b', 'é');
      const rec = recorded(client, '/w/', r1);
      try {
        await rec.until(() => rec.events.length >= 2);
        const r4 = await putKey(etcd.url, '/w/a', '2');
        await rec.until(() => rec.events.length >= 3);
        expect(keys(rec.events)).toEqual([`Put /w/a=1@${r1}`, `Put /w/b=é@${r3}`, `Put /w/a=2@${r4}`]);
        expect(rec.said).toEqual(['connected']);
        expect(rec.w.next).toBe(r4 + 1);
      } finally {
        await rec.w.cancel();
        client.close();
      }
    }));

  it('resumes after etcd is stopped and started again: from the last event on, none lost (even one made before it reconnected), none twice', () =>
    withEtcd(async (etcd) => {
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      const rec = recorded(client, '/w/', (await etcdRevision(etcd.url)) + 1);
      try {
        await rec.until(() => rec.said.includes('connected'));
        const r1 = await putKey(etcd.url, '/w/a', '1');
        await rec.until(() => rec.events.length === 1);
        await etcd.stop();
        await rec.until(() => rec.said.includes('disconnected'));
        await etcd.start();
        // Written at once: the watch is likely still waiting to reconnect.
        const r2 = await putKey(etcd.url, '/w/b', '2');
        await rec.until(() => rec.events.length >= 2);
        await etcd.stop();
        await etcd.start();
        const r3 = await putKey(etcd.url, '/w/c', '3');
        await rec.until(() => rec.events.length >= 3, 15_000);
        await new Promise((r) => setTimeout(r, 300));
        expect(keys(rec.events)).toEqual([`Put /w/a=1@${r1}`, `Put /w/b=2@${r2}`, `Put /w/c=3@${r3}`]);
        expect(rec.said.slice(0, 3)).toEqual(['connected', 'disconnected', 'connected']);
        expect(rec.said.filter((s) => s === 'disconnected').length).toBe(2);
        expect(rec.said.at(-1)).toBe('connected');
        expect(rec.error()).toBeUndefined();
      } finally {
        await rec.w.cancel();
        client.close();
      }
    }));

  it('a start revision that was compacted ends the watch with a WatchCancelledError naming the compaction', () =>
    withEtcd(async (etcd) => {
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      const r1 = await putKey(etcd.url, '/w/a', '1');
      await putKey(etcd.url, '/w/a', '2');
      const r3 = await putKey(etcd.url, '/w/a', '3');
      await compact(etcd.url, r3);
      const rec = recorded(client, '/w/', r1);
      try {
        await rec.until(() => rec.error() !== undefined);
        const err = rec.error() as WatchCancelledError;
        expect(err).toBeInstanceOf(WatchCancelledError);
        expect(err.compactRevision).toBe(r3);
        expect(err.message).toMatch(/compacted/);
        expect(rec.events).toEqual([]);
      } finally {
        await rec.w.cancel();
        client.close();
      }
    }));

  it('the newest mod revision under a prefix (the feed restart asks it) is the newest key write, not the store revision', () =>
    withEtcd(async (etcd) => {
      const client = new EtcdRangeClient({ urls: [etcd.url], timeoutMs: 5000 });
      try {
        expect(await client.newest('/w/')).toEqual({ newest: 0, revision: 1 });
        await putKey(etcd.url, '/w/a', '1');
        const r2 = await putKey(etcd.url, '/w/b', '1');
        const r3 = await putKey(etcd.url, '/other', '1');
        expect(await client.newest('/w/')).toEqual({ newest: r2, revision: r3 });
      } finally {
        client.close();
      }
    }));
});
