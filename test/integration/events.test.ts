// h.events(): kernel notifications as typed, decoded events, in throw-away
// namespaces. Every kind arrives for changes made by another handle and by
// `ip` / `nft`; changes made through a handle carry its port id, `ip`'s and
// `nft`'s do not; dump-then-subscribe misses nothing that races the dump;
// ENOBUFS is a 'resync' (followed by a fresh dump with dump: true); close()
// ends the iteration and frees its sockets; namespaces are isolated.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/handle.js';
import type { EventStream } from '../../src/events/stream.js';
import type { AddressEvent, NeighborEvent, NetEvent, RouteEvent } from '../../src/events/types.js';
import { NeighborAddRequest } from '../../src/rtnl/neigh.js';
import { addressBurst } from '../helpers/subscribe.js';
import { isRoot, nsExec, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/events.test.ts: skipped, needs root (network namespaces)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fdCount = () => readdirSync('/proc/self/fd').length;

/** Reads events into `into` until `done(into)` holds (or the time is up: then throws, saying what came). */
async function readUntil(s: EventStream, into: NetEvent[], done: (evs: NetEvent[]) => boolean, ms = 5000): Promise<NetEvent[]> {
  const end = Date.now() + ms;
  while (!done(into)) {
    const left = end - Date.now();
    const r = await Promise.race([s.next(), sleep(Math.max(left, 0)).then(() => 'timeout' as const)]);
    if (r === 'timeout') throw new Error(`timed out; got ${into.map((e) => e.type).join(',')}`);
    if (r.done) break;
    into.push(r.value);
  }
  return into;
}

const addrs = (evs: NetEvent[]) => evs.filter((e): e is AddressEvent => e.type === 'address');

describe.skipIf(!isRoot)('events (root)', () => {
  it('each rtnetlink kind arrives typed and decoded, for changes by another handle and by ip', async () => {
    await withHandle(async (h, ns) => {
      const sub = h.events();
      const other = open({ netns: ns });
      try {
        nsExec(ns, 'ip', ['link', 'add', 'evbr0', 'type', 'bridge']);
        await other.links.set('evbr0', { up: true });
        await other.addresses.add({ dev: 'evbr0', address: '10.5.0.1/24' });
        await other.routes.add({ dst: '10.50.0.0/16', gateway: '10.5.0.254' });
        nsExec(ns, 'ip', ['route', 'del', '10.50.0.0/16']);
        nsExec(ns, 'ip', ['link', 'del', 'evbr0']);
        const evs = await readUntil(sub, [], (e) => e.some((x) => x.type === 'link' && x.action === 'del'));
        const link = evs.find((e) => e.type === 'link' && e.action === 'new');
        expect(link).toMatchObject({ type: 'link', action: 'new', link: { name: 'evbr0', kind: 'bridge' } });
        expect(evs.find((e) => e.type === 'link' && e.action === 'new' && e.link.up)).toBeDefined();
        expect(addrs(evs).find((e) => e.address.address === '10.5.0.1')).toMatchObject({ action: 'new', address: { prefix: 24, family: 4 } });
        const routes = evs.filter((e): e is RouteEvent => e.type === 'route' && e.route.dst === '10.50.0.0/16');
        expect(routes.map((e) => e.action)).toEqual(['new', 'del']);
        expect(routes[0]).toMatchObject({ route: { gateway: '10.5.0.254', table: 254 } });
        expect(evs.at(-1)).toMatchObject({ type: 'link', action: 'del', link: { name: 'evbr0' } });
        expect(evs.filter((e) => e.type === 'undecoded')).toEqual([]);
      } finally {
        other.close();
        sub.close();
      }
    });
  });

  it('nftables objects arrive typed and decoded, with the generation that ends each batch', async () => {
    await withHandle(async (h, ns) => {
      const sub = h.events({ nft: true });
      try {
        nsExec(
          ns,
          'nft',
          ['-f', '-'],
          [
            'table inet evt {',
            '  set allowed { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }',
            '  chain input { type filter hook input priority 0; policy accept; ip saddr @allowed counter accept; }',
            '}',
          ].join('\n'),
        );
        nsExec(ns, 'nft', ['delete', 'table', 'inet', 'evt']);
        const evs = await readUntil(sub, [], (e) => e.filter((x) => x.type === 'generation').length >= 2);
        const types = evs.map((e) => `${e.type}:${'action' in e ? e.action : ''}`);
        // The batch's objects in the order nft sent them, then its generation.
        const first = types.indexOf('generation:new');
        expect(types.slice(0, first).sort()).toEqual(['chain:new', 'element:new', 'element:new', 'rule:new', 'set:new', 'table:new']);
        const find = <T extends NetEvent['type']>(t: T) => evs.find((e) => e.type === t) as Extract<NetEvent, { type: T }>;
        expect(find('table')).toMatchObject({ table: { family: 'inet', name: 'evt' } });
        expect(find('set')).toMatchObject({ set: { name: 'allowed', key: 'ipv4_addr' } });
        // One notification per element, decoded with the set's definition
        // (learnt from the set event before them).
        const els = evs.filter((e) => e.type === 'element' && e.action === 'new');
        expect(els.map((e) => e.type === 'element' && e.set)).toEqual([0, 1].map(() => ({ family: 'inet', table: 'evt', name: 'allowed' })));
        expect(els.flatMap((e) => (e.type === 'element' ? (e.elements ?? []).map((x) => x.key.toString('hex')) : []))).toEqual(['0a000001', '0a000002']);
        expect(find('chain')).toMatchObject({ chain: { name: 'input', hook: 'input', type: 'filter' } });
        expect(find('rule')).toMatchObject({ rule: { table: 'evt', chain: 'input' } });
        // NEWGEN names the process that committed: nft, not us.
        const gen = find('generation');
        expect(gen).toMatchObject({ type: 'generation', process: 'nft' });
        expect(gen.pid).toBeGreaterThan(0);
        expect(gen.pid).not.toBe(process.pid);
        expect(types).toContain('table:del');
      } finally {
        sub.close();
      }
    });
  });
});

describe.skipIf(!isRoot)('events: neighbours and the FDB (root)', () => {
  it("neighbours and FDB entries arrive typed and decoded; a handle's own carry its port id", async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'evbr0', kind: 'bridge', up: true });
      await h.links.add({ name: 'evtap0', kind: 'veth', peer: 'evtap1', master: 'evbr0', up: true });
      const idx = (await h.links.get('evbr0'))!.index;
      const sub = h.events({ neighbors: true });
      try {
        const byIndex = { index: (ref: string | number) => ref as number };
        await h.rtnl.runAll([new NeighborAddRequest({ dev: idx, address: '10.5.0.8', lladdr: '02:00:00:00:00:08' }, byIndex as never)]);
        nsExec(ns, 'ip', ['neigh', 'add', '10.5.0.9', 'lladdr', '02:00:00:00:00:09', 'dev', 'evbr0', 'nud', 'permanent']);
        nsExec(ns, 'bridge', ['fdb', 'add', '02:00:00:00:00:0a', 'dev', 'evtap0', 'master', 'static']);
        nsExec(ns, 'ip', ['neigh', 'del', '10.5.0.9', 'dev', 'evbr0']);
        const evs = await readUntil(sub, [], (e) => e.some((x) => x.type === 'neighbor' && x.action === 'del'));
        const nb = (f: (e: NeighborEvent) => boolean) => evs.find((e): e is NeighborEvent => e.type === 'neighbor' && f(e));
        const mine = nb((e) => e.neighbor.dst === '10.5.0.8')!;
        expect(mine).toMatchObject({
          action: 'new',
          port: h.rtnl.port,
          neighbor: { family: 4, index: idx, lladdr: '02:00:00:00:00:08', state: ['permanent'] },
        });
        const theirs = nb((e) => e.neighbor.dst === '10.5.0.9' && e.action === 'new')!;
        expect(theirs.port).not.toBe(h.rtnl.port);
        expect(theirs.port).not.toBe(0);
        const fdb = nb((e) => e.neighbor.family === 'bridge' && e.neighbor.lladdr === '02:00:00:00:00:0a')!;
        expect(fdb).toMatchObject({ action: 'new', neighbor: { master: idx, state: ['noarp'] } });
        expect(evs.at(-1)).toMatchObject({ type: 'neighbor', action: 'del', neighbor: { dst: '10.5.0.9' } });
      } finally {
        sub.close();
      }
    });
  });
});

describe.skipIf(!isRoot)('events: who, gaps, losses, close (root)', () => {
  it("changes made through handle A carry A's port id; those of ip, nft and handle B do not", async () => {
    await withHandle(async (a, ns) => {
      const b = open({ netns: ns });
      const sub = a.events({ addresses: true, routes: true, nft: true });
      try {
        await a.links.add({ name: 'evbr0', kind: 'bridge', up: true });
        await a.addresses.add({ dev: 'evbr0', address: '10.4.0.1/24' });
        await b.addresses.add({ dev: 'evbr0', address: '10.4.0.2/24' });
        nsExec(ns, 'ip', ['addr', 'add', '10.4.0.3/24', 'dev', 'evbr0']);
        await a.routes.add({ dst: '10.40.0.0/16', gateway: '10.4.0.254' });
        await a.nft.batch().addTable({ family: 'ip', name: 'mine' }).commit();
        nsExec(ns, 'nft', ['add', 'table', 'ip', 'theirs']);
        const evs = await readUntil(sub, [], (e) => e.filter((x) => x.type === 'generation').length === 2);
        const mine = new Set(a.ports);
        const own = (e: NetEvent) => 'port' in e && mine.has(e.port);
        const by = (addr: string) => addrs(evs).find((e) => e.address.address === addr)!;
        expect(own(by('10.4.0.1'))).toBe(true);
        expect(own(by('10.4.0.2'))).toBe(false);
        expect(by('10.4.0.2').port).toBe(b.rtnl.port);
        expect(own(by('10.4.0.3'))).toBe(false);
        expect(by('10.4.0.3').port).not.toBe(0);
        expect(own(evs.find((e) => e.type === 'route' && e.route.dst === '10.40.0.0/16')!)).toBe(true);
        expect(own(evs.find((e) => e.type === 'table' && e.table.name === 'theirs')!)).toBe(false);
        expect(own(evs.find((e) => e.type === 'table' && e.table.name === 'mine')!)).toBe(true);
        const gens = evs.filter((e) => e.type === 'generation');
        // NFTA_GEN_PROC_PID is the committing thread's id (for us a libuv worker thread).
        const ourThread = (pid?: number) => pid !== undefined && existsSync(`/proc/self/task/${pid}`);
        expect(gens.map((g) => [own(g), g.type === 'generation' && ourThread(g.pid)])).toEqual([
          [true, true],
          [false, false],
        ]);
      } finally {
        sub.close();
        b.close();
      }
    });
  });
});

describe.skipIf(!isRoot)('events: close, namespaces, bad input (root)', () => {
  it('close() ends the iteration (a pending next() too), stops delivery and frees the sockets; break closes too', async () => {
    await withHandle(async (h, ns) => {
      expect(h.ports).toHaveLength(2); // opens the session's own sockets first, so that only the stream's are counted
      const before = fdCount();
      const sub = h.events();
      expect(fdCount()).toBe(before + 2); // rtnetlink and nftables
      const pending = sub.next();
      sub.close();
      expect(await pending).toEqual({ value: undefined, done: true });
      nsExec(ns, 'ip', ['link', 'add', 'evbr0', 'type', 'bridge']);
      await sleep(50);
      expect(await sub.next()).toEqual({ value: undefined, done: true });
      expect(fdCount()).toBe(before);

      const sub2 = h.events({ links: true });
      nsExec(ns, 'ip', ['link', 'add', 'evbr1', 'type', 'bridge']);
      for await (const ev of sub2) {
        expect(ev.type).toBe('link');
        break; // return(): closes
      }
      expect(fdCount()).toBe(before);
      for (let i = 0; i < 500; i++) h.events().close();
      expect(fdCount()).toBe(before);

      // `await using` (Node 20.4+ has Symbol.asyncDispose): disposing closes.
      const sub3 = h.events();
      const dispose = (sub3 as unknown as Record<symbol, () => Promise<void>>)[Symbol.asyncDispose];
      expect(typeof dispose).toBe('function');
      await dispose.call(sub3);
      expect(await sub3.next()).toEqual({ value: undefined, done: true });
      expect(fdCount()).toBe(before);
    });
  });

  it('a stream on one namespace sees nothing of another', async () => {
    await withHandle(async (h) => {
      await withHandle(async (other, otherNs) => {
        const sub = other.events({ dump: true });
        try {
          const evs = await readUntil(sub, [], (e) => e.some((x) => x.type === 'synced'));
          await h.links.add({ name: 'evbr0', kind: 'bridge', up: true });
          await h.addresses.add({ dev: 'evbr0', address: '10.7.0.1/24' });
          await h.nft.batch().addTable({ family: 'ip', name: 'elsewhere' }).commit();
          nsExec(otherNs, 'ip', ['link', 'add', 'marker0', 'type', 'bridge']);
          await readUntil(sub, evs, (e) => e.some((x) => x.type === 'link' && x.link.name === 'marker0'));
          await sleep(50);
          const live = evs.slice(evs.findIndex((e) => e.type === 'synced') + 1);
          // Only marker0: its link and the FDB entry of its own MAC.
          const marker = live.find((e) => e.type === 'link')!;
          const index = marker.type === 'link' ? marker.link.index : -1;
          const about = (e: NetEvent) => (e.type === 'link' && e.link.name === 'marker0') || (e.type === 'neighbor' && e.neighbor.index === index);
          expect(live.filter((e) => !about(e))).toEqual([]);
          expect(evs.some((e) => e.type === 'link' && e.link.name === 'evbr0')).toBe(false);
        } finally {
          sub.close();
        }
      });
    });
  });

  it('a dump that fails ends the stream: next() rejects with the error, and the sockets are closed', async () => {
    await withHandle(async (_h, ns) => {
      const other = open({ netns: ns });
      other.close(); // its request sockets are closed: the dump cannot run
      const before = fdCount();
      const sub = other.events({ links: true, dump: true });
      const err = await sub.next().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'EBADF' });
      expect(fdCount()).toBe(before);
      sub.close();
    });
  });

  it('bad options are refused before any socket is opened, naming the field and the value', async () => {
    await withHandle(async (h) => {
      expect(h.ports).toHaveLength(2);
      const before = fdCount();
      expect(() => h.events({ links: 'yes' as never })).toThrow(/invalid links "yes": must be true or false/);
      expect(() => h.events({ rcvbuf: -5 })).toThrow(/invalid rcvbuf -5/);
      expect(() => h.events({ highWater: 0 })).toThrow(/invalid highWater 0/);
      expect(() => h.events({ links: false })).toThrow(/no kind of event chosen/);
      expect(fdCount()).toBe(before);
    });
  });

  it('a slow consumer: past highWater the stream stops reading, the kernel buffer overflows, and a resync says so', async () => {
    await withHandle(async (h) => {
      await h.links.add({ name: 'evbr0', kind: 'bridge', up: true });
      const idx = (await h.links.get('evbr0'))!.index;
      // 16 KiB (the kernel doubles it): room for a burst of 20 notifications, not for 40.
      const sub = h.events({ addresses: true, highWater: 50, rcvbuf: 16384 });
      try {
        for (let round = 0; round < 6; round++) {
          h.rtnl.runSync(addressBurst(idx, 20, 20 + round));
          await sleep(30); // the loop drains the socket into the queue (until highWater); nobody reads it
        }
        // Reading stopped at highWater (plus what the drain that crossed it brought).
        expect(sub.queued).toBeGreaterThanOrEqual(50);
        expect(sub.queued).toBeLessThanOrEqual(70);
        const evs = await readUntil(sub, [], (e) => e.some((x) => x.type === 'resync'));
        expect(addrs(evs).length).toBeLessThan(120);
        // And reading resumed: a later change arrives.
        await h.addresses.add({ dev: 'evbr0', address: '10.30.0.1/24' });
        await readUntil(sub, evs, (e) => addrs(e).some((a) => a.address.address === '10.30.0.1'));
      } finally {
        sub.close();
      }
    });
  });
});
