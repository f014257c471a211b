// The etcd store's watch-fed cache (src/store/etcd-cache.ts, etcd-watch.ts)
// against a real etcd on loopback. The cached store reaches etcd through a
// TCP proxy (helpers/tcp-proxy.ts) that counts the bytes etcd sends it and
// can cut the connection. After every random operation the cached read must
// equal a fresh range read (a store without a cache) at the same version,
// across an etcd restart and a compaction of the revision the cached store's
// watch was at; and while the watch is connected a read makes no range request.
import { describe, expect, it, vi } from 'vitest';
import { authorize, createGroup, deleteGroup, revoke, runInstance, terminateInstance } from '../../src/managed/ops/index.js';
import type { OpResult } from '../../src/managed/ops/index.js';
import type { State } from '../../src/managed/types.js';
import { openEtcdStore, type EtcdStore } from '../../src/store/etcd.js';
import { update } from '../../src/store/update.js';
import { bigState } from '../helpers/big-state.js';
import { withEtcd, type TestEtcd } from '../helpers/etcd.js';
import { compact } from '../helpers/etcd-oracle.js';
import { startProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { uniform } from '../fuzz/prng.js';

const rng = uniform;

type Change = { name: string; op: (s: State) => State };

/** One random change that the state allows: run/terminate, authorize/revoke, group create/delete, node and settings keys, cluster form. */
function randomChange(s: State, r: () => number, n: number): Change {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const groups = (s.groups ?? []).map((g) => `${g.owner}/${g.name}`);
  const insts = s.instances ?? [];
  const nodes = Object.keys(s.nodes ?? Object.assign({}, ...Object.values(s.clusters ?? {}).map((c) => c.nodes)));
  const res = (f: (s: State) => OpResult) => (x: State) => f(x).state;
  const k = Math.floor(r() * 9);
  if (k <= 1 || !insts.length) {
    const inst = { id: `i-r${n}`, group: pick(groups), node: pick(nodes), port: `vnet${100 + n}`, ...(r() < 0.3 ? { publicIp: true } : {}) };
    return { name: `run ${inst.id}`, op: res((x) => runInstance(x, inst)) };
  }
  if (k === 2) {
    const id = pick(insts).id;
    return { name: `terminate ${id}`, op: res((x) => terminateInstance(x, id)) };
  }
  if (k === 3) {
    const g = pick(groups);
    const rule = { protocol: 'tcp' as const, from: 1000 + n, to: 1000 + n, cidr: '0.0.0.0/0' };
    return { name: `authorize ${g} ${rule.from}`, op: res((x) => authorize(x, g, rule)) };
  }
  if (k === 4) {
    const g = pick(s.groups ?? []);
    if (!g.rules?.length) return randomChange(s, r, n);
    const rule = pick(g.rules);
    return { name: `revoke ${g.owner}/${g.name}`, op: res((x) => revoke(x, `${g.owner}/${g.name}`, rule)) };
  }
  if (k === 5) return { name: `create-group admin/r${n}`, op: res((x) => createGroup(x, `admin/r${n}`)) };
  if (k === 6) {
    const empty = groups.filter((g) => g !== 'admin/default' && !insts.some((i) => i.group === g));
    if (!empty.length) return randomChange(s, r, n);
    const g = pick(empty);
    return { name: `delete-group ${g}`, op: res((x) => deleteGroup(x, g)) };
  }
  if (k === 7) return { name: `settings dns ${n}`, op: (x) => ({ ...x, dns: `192.168.32.${1 + (n % 200)}` }) };
  // The cluster keys: the single-cluster form (cc + nodes/*) to the multi-cluster one (clusters/*) and back.
  return {
    name: s.clusters ? 'to nodes form' : 'to clusters form',
    op: (x) => {
      if (x.clusters) {
        const { clusters, ...rest } = x;
        const c = Object.values(clusters)[0];
        const { tunnelAddress: _t, ...cc } = c.cc as typeof c.cc & { tunnelAddress?: string };
        return { ...rest, cc, nodes: c.nodes };
      }
      const { cc, nodes: ns, ...rest } = x;
      return { ...rest, clusters: { east: { cc: { ...cc!, tunnelAddress: '172.30.0.1' }, nodes: ns! } } };
    },
  };
}

interface Rig {
  etcd: TestEtcd;
  proxy: TcpProxy;
  /** The store under test: cached, through the proxy. */
  cached: EtcdStore;
  /** The oracle: every read a range read, straight to etcd. */
  fresh: EtcdStore;
  /** Another operator (cached too), straight to etcd. */
  writer: EtcdStore;
}

async function withRig(fn: (r: Rig) => Promise<void>, args?: string[]): Promise<void> {
  await withEtcd(
    async (etcd) => {
      const proxy = await startProxy(etcd.url);
      const cached = openEtcdStore({ urls: [proxy.url] });
      const fresh = openEtcdStore({ urls: [etcd.url], cache: false });
      const writer = openEtcdStore({ urls: [etcd.url] });
      try {
        await fn({ etcd, proxy, cached, fresh, writer });
      } finally {
        await Promise.all([cached.close(), fresh.close(), writer.close()]);
        await proxy.close();
      }
    },
    { args },
  );
}

/** Waits until the cached store reads `version`, then checks it against a fresh range read. */
async function sameAsFresh(r: Rig, version: string, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  let got = await r.cached.read().catch(() => undefined);
  while (got?.version !== version && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 10));
    got = await r.cached.read().catch(() => undefined);
  }
  const want = await r.fresh.read();
  expect(want.version, what).toBe(version);
  expect(got?.version, what).toBe(version);
  expect(got?.state, what).toEqual(want.state);
  // Same order too (groups, instances, nodes, reserved addresses).
  expect(JSON.stringify(got?.state), what).toBe(JSON.stringify(want.state));
}

async function randomOps(r: Rig, rand: () => number, count: number, start: number): Promise<void> {
  for (let n = start; n < start + count; n++) {
    // Half the changes through the cached store itself (its own transactions move its cache), half through another operator.
    const by = rand() < 0.5 ? r.cached : r.writer;
    const c = randomChange((await r.fresh.read()).state, rand, n);
    const res = await update(by, (s) => {
      const next = c.op(s);
      return { state: next, changes: [], allocated: undefined as never };
    });
    await sameAsFresh(r, res.version, `#${n} ${c.name}`);
  }
}

const seedState = (): State => ({ ...bigState(40, { groups: 4, nodes: 3 }), dns: '192.168.32.1' });

describe('etcd store: the watch-fed cache', () => {
  it('the cached read equals a fresh range read after random operations, across an etcd restart and a compaction; cached reads make no range request', async () => {
    await withRig(async (r) => {
      const rand = rng(17);
      const seed = seedState();
      seed.groups![0] = { ...seed.groups![0], owner: 'admin', name: 'default' };
      seed.instances = seed.instances!.map((i) => (i.group === 'u/g0' ? { ...i, group: 'admin/default' } : i));
      await r.writer.write(seed, { ifVersion: '' });
      const resyncs: string[] = [];
      r.cached.on('watch-resync', (why) => resyncs.push(why));
      await r.cached.read();
      const ranges = vi.spyOn(r.cached.client.kv, 'range');
      // Full reads go over their own channel (src/store/etcd-range.ts).
      const lean = vi.spyOn(r.cached.fullReads!, 'range');
      const fullReads = () => ranges.mock.calls.filter(([req]) => !req.keys_only).length + lean.mock.calls.length;
      await randomOps(r, rand, 60, 0);
      // Reads of the cached store at the watch's newest version went to no etcd range
      // (its writes' conflicts may ask for the newest revision: a one-key, keys-only range).
      expect(fullReads(), 'range reads of the whole state by the cached store').toBe(0);
      // A fresh read (an agent's resync or SIGHUP) goes to etcd: one range read, the same state.
      const cachedNow = await r.cached.read();
      const fresh = await r.cached.read({ fresh: true });
      expect(fullReads(), 'a fresh read').toBe(1);
      expect(fresh.version).toBe(cachedNow.version);
      expect(fresh.state).toEqual(cachedNow.state);

      // etcd restarted under the cached store: the watch resumes, the cache stays right.
      await r.etcd.stop();
      await r.etcd.start();
      await randomOps(r, rand, 20, 100);

      // Cut off while others write and the revision its watch was at is compacted: the cache is dropped, one full read.
      r.proxy.cut();
      let last = '';
      for (let n = 200; n < 205; n++)
        last = (await update(r.writer, (s) => authorize(s, 'admin/default', { protocol: 'udp', from: n, to: n, cidr: '0.0.0.0/0' }))).version;
      await compact(r.etcd.url, Number(last));
      r.proxy.restore();
      ranges.mockClear();
      lean.mockClear();
      await sameAsFresh(r, last, 'after the compaction');
      // The watch comes back from the compacted revision: etcd cancels it, the cache is dropped and read again.
      for (const t = Date.now(); !resyncs.length && Date.now() - t < 15_000;) await new Promise((res) => setTimeout(res, 50));
      expect(resyncs.length, 'a resync after the compaction').toBeGreaterThan(0);
      await sameAsFresh(r, last, 'after the resync');
      await randomOps(r, rand, 20, 300);
    });
  }, 180_000);

  it("a run-instance costs a watching store about the key's size, not the state's", async () => {
    await withRig(
      async (r) => {
        await r.writer.write(bigState(2000), { ifVersion: '' });
        // Allocated (addresses, VLANs, MACs written into every instance's key) as a cloud put leaves it.
        await update(r.writer, (s) => authorize(s, 'u/g0', { protocol: 'tcp', from: 80, to: 80, cidr: '0.0.0.0/0' }));
        const whole = (await r.fresh.read()).state;
        const stateBytes = JSON.stringify(whole).length;
        const w = r.cached.watch();
        await r.cached.read();
        const before = r.proxy.down();
        const res = await update(r.writer, (s) => runInstance(s, { id: 'i-new', group: 'u/g1', node: 'nc2' }));
        expect((await w.next()).value).toBe(res.version);
        const got = await r.cached.read();
        const bytes = r.proxy.down() - before;
        await w.return?.();
        console.log(`run-instance at 2000 instances: ${bytes} bytes to the watching store (the state is ${stateBytes} bytes)`);
        expect(got.version).toBe(res.version);
        expect(got.state.instances?.some((i) => i.id === 'i-new')).toBe(true);
        expect(bytes).toBeLessThan(4096);
        expect(stateBytes).toBeGreaterThan(100_000);
      },
      ['--max-txn-ops', '65536', '--max-request-bytes', String(16 << 20)],
    );
  }, 120_000);
});
