// The etcd store against a real etcd on loopback (test/helpers/etcd.ts): reads
// at one revision, compare-and-swap over the whole state prefix, writes of
// only the keys that changed, watches that survive an etcd restart and a
// compaction. What etcd holds is checked through etcd's own JSON gateway
// (helpers/etcd-oracle.ts), not through the client the store uses.
import { readFileSync } from 'node:fs';
import { Etcd3, type IKeyValue } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { runInstance, terminateInstance, authorize } from '../../src/managed/ops/index.js';
import type { State } from '../../src/managed/types.js';
import { ValidationError } from '../../src/errors.js';
import { ConflictError, EtcdError } from '../../src/store/errors.js';
import { openEtcdStore, type EtcdStore } from '../../src/store/etcd.js';
import { update } from '../../src/store/update.js';
import { withEtcd, type TestEtcd } from '../helpers/etcd.js';
import { compact, etcdRevision, putKey, rangePrefix } from '../helpers/etcd-oracle.js';

const seed = JSON.parse(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8')) as State;
const PREFIX = '/eucanet/default/state/';

async function withStore<T>(fn: (store: EtcdStore, etcd: TestEtcd) => Promise<T>): Promise<T> {
  return withEtcd(async (etcd) => {
    const store = openEtcdStore({ urls: [etcd.url] });
    try {
      return await fn(store, etcd);
    } finally {
      await store.close();
    }
  });
}

/** The next value of an async iterator, or "timeout" after `ms`. */
async function nextWithin<T>(it: AsyncIterator<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([it.next().then((r) => r.value as T), t]);
  } finally {
    clearTimeout(timer);
  }
}

describe('etcd store: reads and compare-and-swap', () => {
  it('puts a state as one key per object; reads it back at its revision; a stale version is a conflict that writes nothing', () =>
    withStore(async (store, etcd) => {
      const v1 = await store.write(seed, { ifVersion: '' });
      const seen = await rangePrefix(etcd.url, PREFIX);
      expect(seen.kvs.map((kv) => kv.key.slice(PREFIX.length)).sort()).toEqual(
        ['settings', 'nodes/nc1', 'nodes/nc2', 'groups/admin/default', 'groups/admin/web', ...(seed.instances ?? []).map((i) => `instances/${i.id}`)].sort(),
      );
      expect(v1).toBe(String(seen.revision));
      const snap = await store.read();
      expect(snap.version).toBe(v1);
      expect(snap.revision).toBe(Number(v1));
      expect(snap.state).toEqual(JSON.parse(JSON.stringify(seed)));
      // "" means: only if there is no state yet.
      await expect(store.write(seed, { ifVersion: '' })).rejects.toBeInstanceOf(ConflictError);
      const r1 = authorize(snap.state, 'admin/web', { protocol: 'tcp', from: 443, to: 443, cidr: '0.0.0.0/0' });
      const v2 = await store.write(r1.state, { ifVersion: v1 });
      // The same old version again: refused, and etcd is as it was.
      const before = await etcdRevision(etcd.url);
      const r2 = authorize(snap.state, 'admin/web', { protocol: 'tcp', from: 8080, to: 8080, cidr: '0.0.0.0/0' });
      const err = await store.write(r2.state, { ifVersion: v1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect((err as ConflictError).actual).toBe(v2);
      expect(await etcdRevision(etcd.url)).toBe(before);
    }));

  it('two run-instance from one snapshot pick the same free address: the second transaction fails, update() retries it on the new state', () =>
    withStore(async (store, etcd) => {
      await store.write(seed, { ifVersion: '' });
      // Two writers (two stores: each transaction is based on its own read).
      const other = openEtcdStore({ urls: [etcd.url] });
      try {
        const snap = await store.read();
        const snapB = await other.read();
        expect(snapB.version).toBe(snap.version);
        const a = runInstance(snap.state, { id: 'i-a', group: 'admin/web', node: 'nc1', publicIp: true });
        const b = runInstance(snapB.state, { id: 'i-b', group: 'admin/web', node: 'nc1', publicIp: true });
        const ia = a.allocated.instances.find((i) => i.id === 'i-a');
        const ib = b.allocated.instances.find((i) => i.id === 'i-b');
        // Both computed on the same state: the same private and public address.
        expect(ib?.privateIp).toBe(ia?.privateIp);
        expect(ib?.publicIp).toBe(ia?.publicIp);
        await store.write(a.state, { ifVersion: snap.version });
        // b writes a key a did not touch (instances/i-b): only the compare over the whole prefix catches it.
        const before = await etcdRevision(etcd.url);
        await expect(other.write(b.state, { ifVersion: snapB.version })).rejects.toBeInstanceOf(ConflictError);
        expect(await etcdRevision(etcd.url)).toBe(before);
        const r = await update(other, (s) => runInstance(s, { id: 'i-b', group: 'admin/web', node: 'nc1', publicIp: true }));
        expect(r.retries).toBe(0);
        const final = await store.read();
        const ips = final.state.instances?.map((i) => i.privateIp);
        expect(new Set(ips).size).toBe(ips?.length);
        const pubs = final.state.instances?.map((i) => i.publicIp).filter((p) => typeof p === 'string');
        expect(new Set(pubs).size).toBe(pubs?.length);
      } finally {
        await other.close();
      }
    }));

  it('a key put under the prefix by a writer other than eucanet is a conflict too', () =>
    withStore(async (store, etcd) => {
      await store.write(seed, { ifVersion: '' });
      const snap = await store.read();
      await putKey(etcd.url, `${PREFIX}reserved/192.168.32.250`, '');
      const r = authorize(snap.state, 'admin/web', { protocol: 'udp', from: 53, to: 53, cidr: '0.0.0.0/0' });
      await expect(store.write(r.state, { ifVersion: snap.version })).rejects.toBeInstanceOf(ConflictError);
    }));

  it('bad input is refused before etcd is touched: the revision does not move', () =>
    withStore(async (store, etcd) => {
      await store.write(seed, { ifVersion: '' });
      const before = await etcdRevision(etcd.url);
      const bad = { ...structuredClone(seed), addrsPerNet: 7 };
      const err = await store.write(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('addrsPerNet');
      await expect(update(store, (s) => runInstance(s, { id: 'i-1', group: 'admin/web', node: 'nc1' }))).rejects.toThrow(/i-1/);
      expect(await etcdRevision(etcd.url)).toBe(before);
    }));

  it('an unreachable etcd is an EtcdError naming the URL, within the timeout', async () => {
    const store = openEtcdStore({ urls: ['http://127.0.0.1:9'], timeoutMs: 1500 });
    const t0 = Date.now();
    const err = await store.read().catch((e: unknown) => e);
    await store.close();
    expect(err).toBeInstanceOf(EtcdError);
    expect((err as EtcdError).code).toBe('EUNREACHABLE');
    expect((err as Error).message).toContain('http://127.0.0.1:9');
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('etcd store: versions checked incrementally', () => {
  for (const warm of [false, true])
    it(`a version that duplicates another instance's address (one key changed) is refused naming the field, as a full check does; the next good version is read${warm ? ' (after the warm-up, which checks made-up versions in memory)' : ''}`, () =>
      withStore(async (store, etcd) => {
        const { allocate } = await import('../../src/managed/allocate.js');
        const { validateState } = await import('../../src/managed/validate.js');
        const full = allocate(seed);
        await store.write(full, { ifVersion: '' });
        const w = store.watch();
        try {
          await store.read();
          // The agent's warm-up (a terminate's and an authorize's versions checked, then the state read again).
          if (warm) store.warmUp();
          // A writer other than eucanet puts a bad instance (no validation on its way in).
          const bad = { ...full.instances[1], privateIp: full.instances[0].privateIp, order: 1 };
          const rev = await putKey(etcd.url, `${PREFIX}instances/${bad.id}`, JSON.stringify(bad));
          expect(await nextWithin(w, 5000)).toBe(String(rev));
          const err = (await store.read().catch((e: unknown) => e)) as ValidationError & { version?: string };
          expect(err).toBeInstanceOf(ValidationError);
          const expected = (() => {
            try {
              validateState({
                ...structuredClone(full),
                instances: full.instances.map((i, k) => (k === 1 ? { ...i, privateIp: full.instances[0].privateIp } : i)),
              });
            } catch (e) {
              return (e as Error).message;
            }
            return 'valid';
          })();
          expect(err.message).toBe(expected);
          expect(err.message).toMatch(/instances\[1\]\.privateIp/);
          expect(err.version).toBe(String(rev));
          // Put right again: read, and equal to what was written.
          const good = { ...full.instances[1], order: 1 };
          const rev2 = await putKey(etcd.url, `${PREFIX}instances/${good.id}`, JSON.stringify(good));
          expect(await nextWithin(w, 5000)).toBe(String(rev2));
          const snap = await store.read();
          expect(snap.version).toBe(String(rev2));
          expect(snap.state).toEqual(JSON.parse(JSON.stringify(full)));
        } finally {
          await w.return?.();
        }
      }));
});

describe('etcd store: what a write costs', () => {
  it('run-instance puts only its instance key; terminate-instance deletes only its key (and puts the deleted marker)', () =>
    withStore(async (store, etcd) => {
      await store.write(seed, { ifVersion: '' });
      await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 1, to: 1, cidr: '10.0.0.0/8' }));
      const events: { type: string; key: string; bytes: number; rev: number }[] = [];
      const client = new Etcd3({ hosts: etcd.url });
      try {
        const watcher = await client.watch().prefix(PREFIX).create();
        const record = (type: string) => (kv: IKeyValue) =>
          events.push({ type, key: kv.key.toString().slice(PREFIX.length), bytes: kv.key.length + kv.value.length, rev: Number(kv.mod_revision) });
        watcher.on('put', record('put')).on('delete', record('delete'));
        const run = await update(store, (s) => runInstance(s, { id: 'i-9', group: 'admin/web', node: 'nc2', publicIp: true }));
        // The first instance: removing it shifts every other one's position, but not their keys.
        const term = await update(store, (s) => terminateInstance(s, 'i-1'));
        const until = Date.now() + 3000;
        while (events.length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        await watcher.cancel();
        expect(events.map((e) => [e.type, e.key, e.rev])).toEqual([
          ['put', 'instances/i-9', Number(run.version)],
          ['delete', 'instances/i-1', Number(term.version)],
          ['put', 'deleted', Number(term.version)],
        ]);
        // One instance's size: a few hundred bytes.
        expect(events[0].bytes).toBeLessThan(400);
        console.log(`run-instance: 1 key, ${events[0].bytes} bytes in its watch event`);
      } finally {
        client.close();
      }
    }));
});

describe('etcd store: watch', () => {
  it('yields each new version; resumes after an etcd restart from the last revision seen', () =>
    withStore(async (store, etcd) => {
      const v1 = await store.write(seed, { ifVersion: '' });
      const w = store.watch();
      const other = openEtcdStore({ urls: [etcd.url] });
      try {
        const r2 = await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 2, to: 2, cidr: '0.0.0.0/0' }));
        expect(await nextWithin(w, 5000)).toBe(r2.version);
        await etcd.stop();
        await etcd.start();
        const r3 = await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 3, to: 3, cidr: '0.0.0.0/0' }));
        expect(Number(r3.version)).toBeGreaterThan(Number(v1));
        expect(await nextWithin(w, 15000)).toBe(r3.version);
        // A change made while the watch is down is not lost either.
        await etcd.stop();
        const restarted = etcd.start();
        await restarted;
        const r4 = await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 4, to: 4, cidr: '0.0.0.0/0' }));
        expect(await nextWithin(w, 15000)).toBe(r4.version);
      } finally {
        await w.return?.();
        await other.close();
      }
    }));

  it(
    'after a long outage (10 s) the watch is back within seconds of etcd, and says so (watch-disconnected, watch-connected)',
    () =>
      withStore(async (store, etcd) => {
        await store.write(seed, { ifVersion: '' });
        const seen: string[] = [];
        store.on('watch-disconnected', () => seen.push('disconnected'));
        store.on('watch-connected', () => seen.push('connected'));
        const w = store.watch();
        const other = openEtcdStore({ urls: [etcd.url] });
        try {
          await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 8, to: 8, cidr: '0.0.0.0/0' }));
          await nextWithin(w, 5000);
          await etcd.stop();
          await new Promise((r) => setTimeout(r, 10_000));
          await etcd.start();
          const r = await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 9, to: 9, cidr: '0.0.0.0/0' }));
          const t0 = Date.now();
          // etcd3's own reconnect delays grow to 30 s; the store's stop at 2 s.
          expect(await nextWithin(w, 4000)).toBe(r.version);
          console.log(`watch back ${Date.now() - t0} ms after the first write past a 10 s outage`);
          expect(seen).toContain('disconnected');
          expect(seen.lastIndexOf('connected')).toBeGreaterThan(seen.indexOf('disconnected'));
        } finally {
          await w.return?.();
          await other.close();
        }
      }),
    60_000,
  );

  it('a watch begun after a read yields a version written before etcd answered its revision query (the store knew its version)', () =>
    withStore(async (store, etcd) => {
      await store.write(seed, { ifVersion: '' });
      await store.read();
      const other = openEtcdStore({ urls: [etcd.url] });
      // etcd answers a revision query late, after another writer's change
      // landed (a busy etcd, a big prefix to sort): the watch must still
      // start from the version the store had when watch() was called.
      let written!: () => void;
      const landed = new Promise<void>((r) => (written = r));
      const revision = store.revision.bind(store);
      store.revision = async () => {
        await landed;
        return revision();
      };
      const w = store.watch();
      try {
        const r = await update(other, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 10, to: 10, cidr: '0.0.0.0/0' }));
        written();
        expect(await nextWithin(w, 5000)).toBe(r.version);
      } finally {
        written();
        await w.return?.();
        await other.close();
      }
    }));

  it("a watch begun before the first read, whose revision query etcd answers after a write: the read's older version does not hide the newer one", () =>
    withEtcd(async (etcd) => {
      const writer = openEtcdStore({ urls: [etcd.url] });
      const store = openEtcdStore({ urls: [etcd.url] });
      await writer.write(seed, { ifVersion: '' });
      let answer!: () => void;
      const released = new Promise<void>((r) => (answer = r));
      const revision = store.revision.bind(store);
      store.revision = async () => {
        await released;
        return revision();
      };
      // As an agent starts: watch, then read (the store knows no version yet).
      const w = store.watch();
      try {
        const first = await store.read();
        const r = await update(writer, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 11, to: 11, cidr: '0.0.0.0/0' }));
        expect(Number(r.version)).toBeGreaterThan(Number(first.version));
        // etcd's answer to the watch's revision query comes after the write, and after its event.
        await new Promise((res) => setTimeout(res, 300));
        answer();
        expect(await nextWithin(w, 5000)).toBe(r.version);
        expect((await store.read()).version).toBe(r.version);
      } finally {
        answer();
        await w.return?.();
        await store.close();
        await writer.close();
      }
    }));

  it('a watch from a compacted revision yields the current version (the consumer reads the whole state again)', () =>
    withStore(async (store, etcd) => {
      const v1 = await store.write(seed, { ifVersion: '' });
      await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 5, to: 5, cidr: '0.0.0.0/0' }));
      const r3 = await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 6, to: 6, cidr: '0.0.0.0/0' }));
      await compact(etcd.url, Number(r3.version));
      const w = store.watch({ since: v1 });
      try {
        expect(await nextWithin(w, 5000)).toBe(r3.version);
        // And it goes on watching from there.
        const r4 = await update(store, (s) => authorize(s, 'admin/web', { protocol: 'tcp', from: 7, to: 7, cidr: '0.0.0.0/0' }));
        expect(await nextWithin(w, 5000)).toBe(r4.version);
      } finally {
        await w.return?.();
      }
    }));
});
