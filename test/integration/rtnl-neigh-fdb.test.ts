// Neighbours and the bridge / vxlan FDB against the real kernel, through the
// handle's verbs and transactions, read back with the library (h.neighbors.list,
// h.fdb.list) and with `ip -j neigh` / `bridge -j fdb` as the independent
// oracle. A fresh namespace per test, removed even on failure. Needs root.
import { execFileSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { NetlinkError, TransactionError, ValidationError } from '../../src/errors.js';
import type { Handle } from '../../src/handle.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { reconcile } from '../../src/tx/reconcile.js';
import { isRoot, withHandle } from '../helpers/netns.js';
import { withNeighRoom } from '../helpers/neigh-room.js';

if (!isRoot) console.warn('test/integration/rtnl-neigh-fdb.test.ts: skipped, needs root (network namespaces)');

const run = (ns: string, tool: string, ...args: string[]): any[] =>
  JSON.parse(execFileSync('ip', ['netns', 'exec', ns, tool, '-j', ...args], { encoding: 'utf8' }) || '[]');

/** Multicast addresses: the kernel keeps noarp entries for the groups a link joins. */
const multicast = (ip: string) => /^(22[4-9]|23\d)\./.test(ip) || /^ff/i.test(ip);

/** `ip -j neigh show dev DEV nud all` as {dst, lladdr, state}, unicast only, sorted by address text. */
const ipNeigh = (ns: string, dev: string) =>
  run(ns, 'ip', 'neigh', 'show', 'dev', dev, 'nud', 'all')
    .filter((n) => !multicast(n.dst))
    .map((n) => ({ dst: n.dst, lladdr: n.lladdr, state: n.state.map((s: string) => s.toLowerCase()) }))
    .sort((a, b) => (a.dst < b.dst ? -1 : 1));

/** `bridge -j fdb show dev DEV` of the entries eucanet would make: MAC, dst, port, vni, flags, state. */
const bridgeFdb = (ns: string, dev: string) =>
  run(ns, 'bridge', 'fdb', 'show', 'dev', dev)
    .filter((e) => !e.mac.startsWith('33:33:') && !e.mac.startsWith('01:00:5e:'))
    .map((e) => ({ mac: e.mac, dst: e.dst, port: e.port, vni: e.vni, flags: e.flags, state: e.state }))
    .sort((a, b) => `${a.mac} ${a.dst}`.localeCompare(`${b.mac} ${b.dst}`));

async function underlay(h: Handle): Promise<void> {
  await h.links.add({ name: 'u0', kind: 'veth', peer: 'u1', up: true });
  await h.links.set('u1', { up: true });
  await h.addresses.add({ dev: 'u0', address: '10.0.0.1/24' });
  await h.links.add({ name: 'vx0', kind: 'vxlan', vni: 10, local: '10.0.0.1', device: 'u0', port: 4789, learning: false, up: true });
}

describe.skipIf(!isRoot)('neighbours (root)', () => {
  // The noarp entries below are not permanent: they need room in the host's neighbour table (helpers/neigh-room.ts).
  it('add permanent / noarp / IPv6, replace to reachable, list by device and family, delete; ip -j neigh agrees', async () => {
    await withNeighRoom(() =>
      withHandle(async (h, ns) => {
        await h.links.add({ name: 'br0', kind: 'bridge', up: true });
        await h.links.add({ name: 'br1', kind: 'bridge', up: true });
        await h.neighbors.add({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05' });
        await h.neighbors.add({ dev: 'br0', address: '10.1.2.10', lladdr: '02:00:00:00:00:0a', state: 'noarp' });
        await h.neighbors.add({ dev: 'br0', address: 'fd00::5', lladdr: '02:00:00:00:00:05', router: true });
        await h.neighbors.add({ dev: 'br1', address: '10.9.0.1', lladdr: '02:00:00:00:09:01' });
        // add refuses an existing entry; replace overwrites it.
        await expect(h.neighbors.add({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:06' })).rejects.toMatchObject({ code: 'EEXIST' });
        await h.neighbors.replace({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:06', state: 'reachable' });

        const br0 = (await h.links.get('br0'))!.index;
        const v4 = (await h.neighbors.list({ dev: 'br0', family: 4 })).filter((n) => !multicast(n.dst!));
        // Numeric order: .5 before .10.
        expect(v4.map((n) => [n.dst, n.lladdr, n.state])).toEqual([
          ['10.1.2.5', '02:00:00:00:00:06', ['reachable']],
          ['10.1.2.10', '02:00:00:00:00:0a', ['noarp']],
        ]);
        for (const n of v4) expect(n).toMatchObject({ family: 4, index: br0 });
        const v6 = (await h.neighbors.list({ dev: 'br0', family: 6 })).filter((n) => n.dst === 'fd00::5');
        expect(v6).toMatchObject([{ family: 6, lladdr: '02:00:00:00:00:05', state: ['permanent'], flags: ['router'] }]);
        expect((await h.neighbors.list({ dev: 'br1' })).map((n) => n.dst).filter((d) => !multicast(d!))).toEqual(['10.9.0.1']);
        expect((await h.neighbors.list()).map((n) => n.dst)).toEqual(expect.arrayContaining(['10.1.2.5', '10.1.2.10', 'fd00::5', '10.9.0.1']));

        const ours = (await h.neighbors.list({ dev: 'br0' })).filter((n) => !multicast(n.dst!)).map((n) => ({ dst: n.dst, lladdr: n.lladdr, state: n.state }));
        expect(ours.sort((a, b) => (a.dst! < b.dst! ? -1 : 1))).toEqual(ipNeigh(ns, 'br0'));

        await h.neighbors.delete({ dev: 'br0', address: '10.1.2.5' });
        await h.neighbors.delete({ dev: 'br0', address: 'fd00::5' });
        expect(ipNeigh(ns, 'br0').map((n) => n.dst)).not.toContain('10.1.2.5');
        await expect(h.neighbors.delete({ dev: 'br0', address: '10.1.2.5' })).rejects.toMatchObject({ code: 'ENOENT' });
      }),
    );
  });

  it('refusals leave nothing behind: an unknown device, a bad state, a bad MAC', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', up: true });
      const e1 = await h.neighbors.add({ dev: 'nosuch0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05' }).catch((e) => e);
      expect(e1).toBeInstanceOf(NetlinkError);
      expect(e1.code).toBe('ENODEV');
      expect(e1.message).toContain('nosuch0');
      const e2 = await h.neighbors.add({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05', state: 'forever' as never }).catch((e) => e);
      expect(e2).toBeInstanceOf(ValidationError);
      expect(e2.message).toMatch(/neigh add 10\.1\.2\.5.*state "?forever/);
      const e3 = await h.neighbors.add({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00' }).catch((e) => e);
      expect(e3).toMatchObject({ field: 'lladdr', value: '02:00' });
      expect(ipNeigh(ns, 'br0')).toEqual([]);
    });
  });

  it('a failed transaction puts a replaced and a deleted neighbour back as they were', async () => {
    await withNeighRoom(() =>
      withHandle(async (h, ns) => {
        await h.links.add({ name: 'br0', kind: 'bridge', up: true });
        await h.neighbors.add({ dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05' });
        await h.neighbors.add({ dev: 'br0', address: '10.1.2.6', lladdr: '02:00:00:00:00:06', state: 'noarp' });
        const before = ipNeigh(ns, 'br0');
        const tx = h
          .transaction()
          .add({ op: 'neigh.replace', spec: { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:99', state: 'stale' } })
          .add({ op: 'neigh.delete', spec: { dev: 'br0', address: '10.1.2.6' } })
          .add({ op: 'neigh.add', spec: { dev: 'br0', address: '10.1.2.7', lladdr: '02:00:00:00:00:07' } })
          // Refused by the kernel (the address exists), after the others were applied.
          .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'br0' } })
          .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'br0' } });
        const err = await tx.commit().catch((e) => e);
        expect(err).toBeInstanceOf(TransactionError);
        expect(err.leftBehind).toEqual([]);
        expect(err.rolledBack).toBe(true);
        expect(ipNeigh(ns, 'br0')).toEqual(before);
      }),
    );
  });
});

describe.skipIf(!isRoot)('bridge FDB (root)', () => {
  it('vxlan flood list: append all-zeros entries per remote, with vni and port; delete one; bridge -j fdb agrees', async () => {
    await withHandle(async (h, ns) => {
      await underlay(h);
      const zero = '00:00:00:00:00:00';
      await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.2', self: true });
      await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.3', self: true, vni: 11, port: 4790 });
      await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.10', self: true });
      await h.fdb.add({ dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.2', self: true });
      await expect(h.fdb.add({ dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.3', self: true })).rejects.toMatchObject({ code: 'EEXIST' });
      await h.fdb.replace({ dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.3', self: true });

      const list = await h.fdb.list({ dev: 'vx0' });
      // Sorted by MAC, then numerically by destination (.2, .3, .10).
      expect(list.map((e) => [e.lladdr, e.dst, e.vni, e.port])).toEqual(
        [
          [zero, '10.0.0.2', undefined, undefined],
          [zero, '10.0.0.3', 11, 4790],
          [zero, '10.0.0.10', undefined, undefined],
          ['02:00:00:00:00:08', '10.0.0.3', undefined, undefined],
        ].sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)),
      );
      const ours = list.map((e) => ({
        mac: e.lladdr,
        dst: e.dst,
        port: e.port,
        vni: e.vni,
        flags: e.flags,
        state: e.state.includes('permanent') ? 'permanent' : '',
      }));
      expect(ours.sort((a, b) => `${a.mac} ${a.dst}`.localeCompare(`${b.mac} ${b.dst}`))).toEqual(bridgeFdb(ns, 'vx0'));

      // A destination is deleted by its whole remote: dst, and port and VNI where they are not the device's.
      await h.fdb.delete({ dev: 'vx0', lladdr: zero, dst: '10.0.0.3', self: true, vni: 11, port: 4790 });
      await h.fdb.delete({ dev: 'vx0', lladdr: zero, dst: '10.0.0.10', self: true });
      expect(
        bridgeFdb(ns, 'vx0')
          .filter((e) => e.mac === zero)
          .map((e) => e.dst),
      ).toEqual(['10.0.0.2']);
    });
  });

  it('bridge port entries: master static, listed with the bridge as master', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'br0', kind: 'bridge', up: true });
      await h.links.add({ name: 'p0', kind: 'veth', peer: 'p1', master: 'br0', up: true });
      await h.fdb.add({ dev: 'p0', lladdr: '02:00:00:00:00:07', master: true, state: 'static' });
      const e = (await h.fdb.list({ dev: 'p0' })).find((x) => x.lladdr === '02:00:00:00:00:07')!;
      expect(e).toMatchObject({ family: 'bridge', flags: [], state: ['noarp'], master: (await h.links.get('br0'))!.index });
      expect(bridgeFdb(ns, 'p0')).toContainEqual({ mac: '02:00:00:00:00:07', dst: undefined, port: undefined, vni: undefined, flags: [], state: 'static' });
      await h.fdb.delete({ dev: 'p0', lladdr: '02:00:00:00:00:07', master: true });
      expect(bridgeFdb(ns, 'p0').map((x) => x.mac)).not.toContain('02:00:00:00:00:07');
    });
  });

  it('refusals leave nothing behind: an unknown device, VNI 2^24, port 0', async () => {
    await withHandle(async (h, ns) => {
      await underlay(h);
      const zero = '00:00:00:00:00:00';
      const e1 = await h.fdb.append({ dev: 'nosuch0', lladdr: zero, dst: '10.0.0.2', self: true }).catch((e) => e);
      expect(e1).toMatchObject({ code: 'ENODEV' });
      const e2 = await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.2', self: true, vni: 1 << 24 }).catch((e) => e);
      expect(e2).toMatchObject({ field: 'vni', value: 1 << 24 });
      expect(e2.message).toContain('fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2');
      const e3 = await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.2', self: true, port: 0 }).catch((e) => e);
      expect(e3).toMatchObject({ field: 'port', value: 0 });
      expect(bridgeFdb(ns, 'vx0')).toEqual([]);
    });
  });

  it('a failed transaction removes appended entries and puts a deleted one back', async () => {
    await withHandle(async (h, ns) => {
      await underlay(h);
      const zero = '00:00:00:00:00:00';
      await h.fdb.append({ dev: 'vx0', lladdr: zero, dst: '10.0.0.2', self: true, vni: 12 });
      const before = bridgeFdb(ns, 'vx0');
      const tx = h
        .transaction()
        .add({ op: 'fdb.delete', spec: { dev: 'vx0', lladdr: zero, dst: '10.0.0.2', self: true, vni: 12 } })
        .add({ op: 'fdb.append', spec: { dev: 'vx0', lladdr: zero, dst: '10.0.0.3', self: true } })
        .add({ op: 'fdb.append', spec: { dev: 'vx0', lladdr: zero, dst: '10.0.0.4', self: true } })
        .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'u0' } })
        .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'u0' } });
      const err = await tx.commit().catch((e) => e);
      expect(err).toBeInstanceOf(TransactionError);
      expect(err.leftBehind).toEqual([]);
      expect(err.rolledBack).toBe(true);
      expect(bridgeFdb(ns, 'vx0')).toEqual(before);
    });
  });

  it('a known delete (its entry is the spec) reads no FDB, and a failed transaction appends it back', async () => {
    await withHandle(async (h, ns) => {
      await underlay(h);
      const mac = 'd0:0d:0a:01:02:05';
      // Many entries, as on a node of a big cloud: the pre-image dump would read them all.
      for (let i = 0; i < 50; i++) await h.fdb.append({ dev: 'vx0', lladdr: `d0:0d:0a:01:03:${i.toString(16).padStart(2, '0')}`, dst: '10.0.0.7', self: true });
      await h.fdb.append({ dev: 'vx0', lladdr: mac, dst: '10.0.0.2', self: true });
      const before = bridgeFdb(ns, 'vx0');
      const dumps = vi.spyOn(h.rtnl, 'dump');
      const del = {
        op: 'fdb.delete' as const,
        spec: { dev: 'vx0', lladdr: mac, dst: '10.0.0.2', self: true, state: 'permanent' as const },
        known: true as const,
      };
      const err = await h
        .transaction()
        .add(del)
        .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'u0' } })
        .add({ op: 'route.add', spec: { dst: '10.9.0.0/16', dev: 'u0' } })
        .commit()
        .catch((e) => e);
      expect(err).toBeInstanceOf(TransactionError);
      expect(err.rolledBack).toBe(true);
      expect(bridgeFdb(ns, 'vx0')).toEqual(before);
      // And committed: the entry goes, with no dump of the FDB.
      await h.transaction().add(del).commit();
      expect(dumps.mock.calls.map(([r]) => r.constructor.name).filter((n) => n !== 'LinkDumpRequest')).toEqual([]);
      expect(bridgeFdb(ns, 'vx0')).toEqual(before.filter((e) => e.mac !== mac));
    });
  });

  it('dry run renders bridge and ip commands', async () => {
    await withHandle(async (h) => {
      const r = h
        .transaction()
        .add({ op: 'fdb.append', spec: { dev: 'vx0', lladdr: '00:00:00:00:00:00', dst: '10.0.0.2', vni: 10, port: 4789, self: true } })
        .add({ op: 'neigh.replace', spec: { dev: 'br0', address: '10.1.2.5', lladdr: '02:00:00:00:00:05', state: 'reachable' } })
        .render();
      expect(r.bridge).toEqual(['fdb append 00:00:00:00:00:00 dev vx0 dst 10.0.0.2 port 4789 vni 10 self permanent']);
      expect(r.ip).toEqual(['neigh replace 10.1.2.5 lladdr 02:00:00:00:00:05 dev br0 nud reachable']);
      expect(r.text).toContain('bridge fdb append 00:00:00:00:00:00 dev vx0');
    });
  });
});

describe.skipIf(!isRoot)('reconcile of FDB entries (root)', () => {
  it('adds flood entries and static MACs, sends nothing the second time, takes over a learned MAC, deletes stale entries', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ name: 'u0', kind: 'veth', peer: 'u1', up: true });
      await h.addresses.add({ dev: 'u0', address: '10.0.0.1/24' });
      const zero = '00:00:00:00:00:00';
      const vx = { kind: 'vxlan' as const, name: 'vx1', vni: 20, local: '10.0.0.1', device: 'u0', port: 4789, up: true };
      const want: DesiredState = {
        links: [vx],
        fdb: [
          { dev: 'vx1', lladdr: zero, dst: '10.0.0.2' },
          { dev: 'vx1', lladdr: zero, dst: '10.0.0.3' },
          { dev: 'vx1', lladdr: '02:00:00:00:00:01', dst: '10.0.0.3' },
        ],
      };
      await reconcile(h, want);
      const view = () => bridgeFdb(ns, 'vx1').map((e) => `${e.mac} ${e.dst} ${e.state}`);
      expect(view()).toEqual(['00:00:00:00:00:00 10.0.0.2 permanent', '00:00:00:00:00:00 10.0.0.3 permanent', '02:00:00:00:00:01 10.0.0.3 permanent']);
      expect((await reconcile(h, want)).ops).toBe(0);

      // A MAC the device learned (dynamic) pointing elsewhere, now wanted static: replaced, not kept.
      await h.fdb.add({ dev: 'vx1', lladdr: '02:00:00:00:00:02', dst: '10.0.0.7', self: true, state: 'dynamic' });
      // A stale flood entry (a host that left), made by hand in eucanet's shape.
      await h.fdb.append({ dev: 'vx1', lladdr: zero, dst: '10.0.0.9', self: true });
      const next: DesiredState = {
        links: [vx],
        fdb: [
          { dev: 'vx1', lladdr: zero, dst: '10.0.0.3' },
          { dev: 'vx1', lladdr: '02:00:00:00:00:01', dst: '10.0.0.3' },
          { dev: 'vx1', lladdr: '02:00:00:00:00:02', dst: '10.0.0.4' },
        ],
      };
      const r = await reconcile(h, next);
      expect(view()).toEqual(['00:00:00:00:00:00 10.0.0.3 permanent', '02:00:00:00:00:01 10.0.0.3 permanent', '02:00:00:00:00:02 10.0.0.4 permanent']);
      expect(r.plan.changes.toString()).toContain('bridge fdb replace 02:00:00:00:00:02 dev vx1 dst 10.0.0.4 self permanent');
      expect((await reconcile(h, next)).ops).toBe(0);
    });
  });
});
