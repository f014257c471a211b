// Reconcile of FDB entries (src/tx/fdb-diff.ts through diffState), no root:
// desired flood lists against fake dumps shaped as decodeNeighbor makes them.
import { describe, expect, it } from 'vitest';
import type { Link } from '../../src/rtnl/link.js';
import type { Neighbor } from '../../src/rtnl/neigh.js';
import { diffState, type KernelState } from '../../src/tx/diff.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { fdbLinks, isOwnedFdbEntry, roleScope } from '../../src/tx/owner.js';

const ZERO = '00:00:00:00:00:00';
const vx = (index: number, name: string, alias = 'eucanet', extra: Partial<Link> = {}): Link => ({
  index,
  name,
  kind: 'vxlan',
  flags: 0,
  up: true,
  operstate: 'up',
  mtu: 1450,
  group: 0,
  txqlen: 1000,
  alias,
  vxlan: { vni: 10, port: 4789, local: '10.0.0.1', device: 2 },
  ...extra,
});
const entry = (index: number, dst: string | undefined, extra: Partial<Neighbor> = {}): Neighbor => ({
  family: 'bridge',
  index,
  state: ['noarp', 'permanent'],
  flags: ['self'],
  ndmState: 0xc0,
  ndmFlags: 2,
  ndmType: 0,
  lladdr: ZERO,
  ...(dst !== undefined ? { dst } : {}),
  ...extra,
});
const eth0: Link = { index: 2, name: 'eth0', kind: 'veth', flags: 0, up: true, operstate: 'up', mtu: 1500, group: 0, txqlen: 1000 };
const kernel = (k: Partial<KernelState>): KernelState => ({ links: [], addresses: [], routes: [], sysctls: {}, ...k });
const vxSpec = { kind: 'vxlan' as const, name: 'eucavx10', vni: 10, local: '10.0.0.1', device: 'eth0', port: 4789 };
const flood = (dst: string) => ({ dev: 'eucavx10', lladdr: ZERO, dst });

describe("owner.ts: which FDB entries are eucanet's", () => {
  it('self + permanent + a remote, on a vxlan link the scope owns', () => {
    const l = vx(5, 'eucavx10');
    expect(isOwnedFdbEntry(entry(5, '10.0.0.2'), l)).toBe(true);
    expect(isOwnedFdbEntry(entry(5, undefined), l)).toBe(false); // the kernel's own (a device MAC, multicast)
    expect(isOwnedFdbEntry(entry(5, '10.0.0.2', { flags: ['master'] }), l)).toBe(false);
    expect(isOwnedFdbEntry(entry(5, '10.0.0.2', { state: ['reachable'] }), l)).toBe(false); // learned
    // The device's own default remote: the entry the kernel keeps for its multicast group.
    const mcast = vx(5, 'eucavx10', 'eucanet', { vxlan: { vni: 10, port: 4789, local: '10.0.0.1', device: 2, multicastGroup: '239.1.1.1' } });
    expect(isOwnedFdbEntry(entry(5, '239.1.1.1'), mcast)).toBe(false);
    expect(isOwnedFdbEntry(entry(5, '239.1.1.1'), l)).toBe(true);
    const links = [eth0, vx(5, 'eucavx10', 'eucanet/nc'), vx(6, 'eucavx11', 'eucanet/cc'), vx(7, 'theirs', 'x')];
    expect(fdbLinks(links, roleScope('nc')).map((l) => l.name)).toEqual(['eucavx10']);
    expect(fdbLinks(links).map((l) => l.name)).toEqual(['eucavx10', 'eucavx11']); // unscoped: every eucanet link, as for links
    expect(fdbLinks([eth0, vx(5, 'eucavx10')]).map((l) => l.name)).toEqual(['eucavx10']);
  });
});

describe('diffState: FDB', () => {
  const links = [eth0, vx(5, 'eucavx10')];
  it('no change: no op (so a re-apply sends nothing)', () => {
    const cur = kernel({ links, fdb: [entry(5, '10.0.0.2'), entry(5, '10.0.0.3')] });
    const want: DesiredState = { links: [vxSpec], fdb: [flood('10.0.0.3'), flood('10.0.0.2')] };
    expect(diffState(cur, want).changes).toEqual([]);
  });
  it('a new remote is appended (self, permanent), a stale one deleted by its whole remote', () => {
    const cur = kernel({ links, fdb: [entry(5, '10.0.0.2'), entry(5, '10.0.0.9', { vni: 77, port: 4790, ifindex: 2 })] });
    const want: DesiredState = { links: [vxSpec], fdb: [flood('10.0.0.2'), flood('10.0.0.3')] };
    expect(diffState(cur, want).changes).toEqual([
      { op: 'fdb.append', spec: { self: true, state: 'permanent', dev: 'eucavx10', lladdr: ZERO, dst: '10.0.0.3' } },
      { op: 'fdb.delete', spec: { dev: 'eucavx10', lladdr: ZERO, dst: '10.0.0.9', vni: 77, port: 4790, via: 'eth0', self: true, state: 'permanent' } },
    ]);
  });
  it('a static instance MAC is replaced (created, or a learned entry taken over), not appended', () => {
    const learned = entry(5, '10.0.0.7', { lladdr: '02:00:00:00:00:01', state: ['reachable'], ndmState: 2 });
    const cur = kernel({ links, fdb: [learned] });
    const want: DesiredState = { links: [vxSpec], fdb: [{ dev: 'eucavx10', lladdr: '02:00:00:00:00:01', dst: '10.0.0.2' }] };
    expect(diffState(cur, want).changes).toEqual([
      { op: 'fdb.replace', spec: { self: true, state: 'permanent', dev: 'eucavx10', lladdr: '02:00:00:00:00:01', dst: '10.0.0.2' } },
    ]);
  });
  it("the kernel's own and learned entries, and entries on links not eucanet's, are left alone", () => {
    const cur = kernel({
      links: [...links, vx(6, 'other', 'someone')],
      fdb: [
        entry(5, undefined, { lladdr: '33:33:00:00:00:01' }),
        entry(5, '10.0.0.8', { lladdr: '02:00:00:00:00:01', state: ['reachable'] }),
        entry(6, '10.0.0.2'),
      ],
    });
    expect(diffState(cur, { links: [vxSpec], fdb: [] }).changes).toEqual([]);
  });
  it('a vxlan link created or recreated (group -> none) gets every entry; its old entries are not deleted', () => {
    const mcast = vx(5, 'eucavx10', 'eucanet', { vxlan: { vni: 10, port: 4789, local: '10.0.0.1', device: 2, multicastGroup: '239.1.1.1' } });
    const cur = kernel({ links: [eth0, mcast], fdb: [entry(5, '10.0.0.2')] });
    const d = diffState(cur, { links: [vxSpec], fdb: [flood('10.0.0.2')] });
    expect(d.removals).toEqual([{ op: 'link.delete', ref: 'eucavx10' }]);
    expect(d.changes.filter((o) => o.op.startsWith('fdb.'))).toEqual([{ op: 'fdb.append', spec: { self: true, state: 'permanent', ...flood('10.0.0.2') } }]);
    // And back: a unicast device that should flood to a group is recreated too.
    const back = diffState(kernel({ links }), { links: [{ ...vxSpec, multicastGroup: '239.1.1.1' }] });
    expect(back.removals).toEqual([{ op: 'link.delete', ref: 'eucavx10' }]);
  });
  it("multicast flooding: the device's own group entry is left alone (no churn on re-apply)", () => {
    const mcast = vx(5, 'eucavx10', 'eucanet', { vxlan: { vni: 10, port: 4789, local: '10.0.0.1', device: 2, multicastGroup: '239.1.1.1' } });
    const cur = kernel({ links: [eth0, mcast], fdb: [entry(5, '239.1.1.1', { ifindex: 2 })] });
    expect(diffState(cur, { links: [{ ...vxSpec, multicastGroup: '239.1.1.1' }], fdb: [] })).toEqual({ removals: [], changes: [] });
  });
  it('entries of a link being deleted go with it: no delete of their own', () => {
    const cur = kernel({ links, fdb: [entry(5, '10.0.0.2')] });
    const d = diffState(cur, { links: [] });
    expect(d.changes).toEqual([{ op: 'link.delete', ref: 'eucavx10' }]);
  });
});
