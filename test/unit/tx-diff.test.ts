// diffState (src/tx/diff.ts), the pure half of reconcile, with no root: small
// desired states against fake kernel dumps (the objects the decoders make),
// one case per kind of change it can plan.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { Address } from '../../src/rtnl/address.js';
import type { Link } from '../../src/rtnl/link.js';
import type { Route } from '../../src/rtnl/route.js';
import { diffState, type KernelState } from '../../src/tx/diff.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { EUCANET_PROTO, PORT_GROUP, type OwnerScope } from '../../src/tx/owner.js';

const link = (index: number, name: string, extra: Partial<Link> = {}): Link => ({
  index,
  name,
  kind: 'bridge',
  flags: 0,
  up: true,
  operstate: 'up',
  mtu: 1500,
  group: 0,
  txqlen: 1000,
  ...extra,
});
const bridge = (index: number, name: string, alias = 'eucanet', extra: Partial<Link> = {}): Link =>
  link(index, name, { alias, bridge: { stp: false, forwardDelay: 0, helloTime: 2, multicastSnooping: true }, ...extra });
const addr = (index: number, cidr: string, proto?: number): Address => {
  const [address, prefix] = cidr.split('/');
  return { index, family: 4, address: address, prefix: Number(prefix), scope: 0, flags: 0, ...(proto !== undefined ? { proto } : {}) };
};
const route = (dst: string, extra: Partial<Route> = {}): Route => ({ family: 4, dst, table: 254, protocol: EUCANET_PROTO, scope: 0, type: 1, ...extra });
const kernel = (k: Partial<KernelState> = {}): KernelState => ({ links: [], addresses: [], routes: [], sysctls: {}, ...k });

const lo = link(1, 'lo', { kind: undefined });
const eth0 = link(2, 'eth0', { kind: 'veth' });

describe('diffState: links', () => {
  it('nothing to do when the kernel already matches: no op', () => {
    const cur = kernel({
      links: [lo, eth0, bridge(3, 'eucabr10')],
      addresses: [addr(3, '10.1.2.1/27', EUCANET_PROTO)],
      sysctls: { 'net.ipv4.ip_forward': '1' },
    });
    const want: DesiredState = {
      links: [{ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true }],
      addresses: [{ dev: 'eucabr10', address: '10.1.2.1/27' }],
      sysctls: { 'net.ipv4.ip_forward': 1 },
    };
    expect(diffState(cur, want)).toEqual({ removals: [], changes: [] });
  });

  it("a missing link is added, marked as eucanet's", () => {
    const d = diffState(kernel({ links: [lo] }), { links: [{ kind: 'bridge', name: 'eucabr10', alias: 'admin/default' }] });
    expect(d.changes).toEqual([{ op: 'link.add', spec: { kind: 'bridge', name: 'eucabr10', alias: 'eucanet:admin/default' } }]);
  });

  it('an existing link with other attributes is changed in place, only what differs (mtu, group, up, master, bridge settings)', () => {
    const cur = kernel({
      links: [
        lo,
        bridge(3, 'eucabr10', 'eucanet', { mtu: 1400, up: false, bridge: { stp: true, forwardDelay: 15, helloTime: 2, multicastSnooping: true } }),
        bridge(4, 'outer'),
      ],
    });
    const d = diffState(cur, {
      links: [
        { kind: 'bridge', name: 'eucabr10', mtu: 1500, up: true, master: 'outer', stp: false, forwardDelay: 0, helloTime: 2 },
        { kind: 'bridge', name: 'outer' },
      ],
    });
    expect(d.removals).toEqual([]);
    // STP goes off in a request of its own, first: the kernel sets the forward delay before the STP state.
    expect(d.changes).toEqual([
      { op: 'link.set', ref: 'eucabr10', changes: { bridge: { stp: false } } },
      { op: 'link.set', ref: 'eucabr10', changes: { mtu: 1500, up: true, master: 'outer', bridge: { forwardDelay: 0 } } },
    ]);
  });

  it('an owned link of another shape (a vlan with another id) is deleted first, in removals, and made again', () => {
    const cur = kernel({ links: [lo, eth0, link(5, 'eth0.10', { kind: 'vlan', alias: 'eucanet', parent: 2, vlan: { id: 11, protocol: '802.1Q' } })] });
    const d = diffState(cur, { links: [{ kind: 'vlan', name: 'eth0.10', parent: 'eth0', id: 10 }] });
    expect(d.removals).toEqual([{ op: 'link.delete', ref: 'eth0.10' }]);
    expect(d.changes).toEqual([{ op: 'link.add', spec: { kind: 'vlan', name: 'eth0.10', parent: 'eth0', id: 10, alias: 'eucanet' } }]);
  });

  it("a link of that name that is not eucanet's and has another shape is refused, naming it", () => {
    const cur = kernel({ links: [lo, link(3, 'eucabr10', { kind: 'veth' })] });
    expect(() => diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }] })).toThrow(ValidationError);
    expect(() => diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }] })).toThrow(/links "eucabr10".*not eucanet's/);
  });

  it("owned links no longer wanted are deleted; a veth's peer goes with it; others' links are left", () => {
    const cur = kernel({
      links: [
        lo,
        eth0,
        bridge(3, 'eucabr10'),
        link(6, 'v0', { kind: 'veth', alias: 'eucanet', parent: 7 }),
        link(7, 'v0p', { kind: 'veth', alias: 'eucanet', parent: 6 }),
        link(8, 'mine', { kind: 'bridge' }),
      ],
    });
    expect(diffState(cur, {}).changes).toEqual([
      { op: 'link.delete', ref: 'eucabr10' },
      { op: 'link.delete', ref: 'v0' },
    ]);
  });
});

describe('diffState: ports', () => {
  it('a missing port with tap: true becomes a tap with the owner mark and the port group', () => {
    const d = diffState(kernel({ links: [lo, bridge(3, 'eucabr10')] }), {
      links: [{ kind: 'bridge', name: 'eucabr10' }],
      ports: [{ name: 'vnet1', master: 'eucabr10', up: true, tap: true }],
    });
    expect(d.changes).toEqual([{ op: 'tap.add', name: 'vnet1', spec: { master: 'eucabr10', up: true, alias: 'eucanet:port', group: PORT_GROUP } }]);
  });

  it('a missing port that is not to be a tap is refused', () => {
    expect(() => diffState(kernel({ links: [lo] }), { ports: [{ name: 'vnet1', master: 'eucabr10' }] })).toThrow(/ports "vnet1": no such link/);
  });

  it('an existing tap is adopted (mark and group) and attached; a foreign veth is attached but not marked', () => {
    const cur = kernel({ links: [lo, bridge(3, 'eucabr10'), link(9, 'vnet1', { kind: 'tun', up: false }), link(10, 'hv0', { kind: 'veth', up: false })] });
    const d = diffState(cur, {
      links: [{ kind: 'bridge', name: 'eucabr10' }],
      ports: [
        { name: 'vnet1', master: 'eucabr10', up: true, tap: true },
        { name: 'hv0', master: 'eucabr10', up: true },
      ],
    });
    expect(d.changes).toEqual([
      { op: 'link.set', ref: 'vnet1', changes: { group: PORT_GROUP, alias: 'eucanet:port', up: true, master: 'eucabr10' } },
      { op: 'link.set', ref: 'hv0', changes: { up: true, master: 'eucabr10' } },
    ]);
  });

  it("a port that is not eucanet's and no longer wanted is released from eucanet's bridge, not deleted", () => {
    const cur = kernel({ links: [lo, bridge(3, 'eucabr10'), link(10, 'hv0', { kind: 'veth', master: 3 })] });
    expect(diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }] }).changes).toEqual([{ op: 'link.set', ref: 'hv0', changes: { master: null } }]);
  });

  it('a whole port group with nothing wanted goes in one group delete', () => {
    const tap = (i: number) => link(20 + i, `vnet${i}`, { kind: 'tun', alias: 'eucanet:port', group: PORT_GROUP, master: 3 });
    const cur = kernel({ links: [lo, bridge(3, 'eucabr10'), tap(0), tap(1), tap(2)] });
    expect(diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }] }).changes).toEqual([{ op: 'link.deleteGroup', group: PORT_GROUP }]);
  });
});

describe('diffState: sysctls, addresses, routes', () => {
  it('a sysctl is set when its value differs', () => {
    const d = diffState(kernel({ sysctls: { 'net.ipv4.ip_forward': '0' } }), { sysctls: { 'net.ipv4.ip_forward': 1 } });
    expect(d.changes).toEqual([{ op: 'sysctl', key: 'net.ipv4.ip_forward', value: '1' }]);
  });

  it('addresses: a missing one is added with the mark, an owned unwanted one deleted (first), an unmarked one left', () => {
    const cur = kernel({ links: [lo, bridge(3, 'eucabr10')], addresses: [addr(3, '10.1.2.1/27', EUCANET_PROTO), addr(3, '10.1.9.1/24')] });
    const d = diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }], addresses: [{ dev: 'eucabr10', address: '10.1.3.1/27' }] });
    expect(d.changes).toEqual([
      { op: 'address.delete', spec: { dev: 'eucabr10', address: '10.1.2.1/27' } },
      { op: 'address.add', spec: { dev: 'eucabr10', address: '10.1.3.1/27', proto: EUCANET_PROTO } },
    ]);
  });

  it('routes: a missing one is added with the mark, an owned unwanted one deleted (first), one with no dev matches any', () => {
    const cur = kernel({
      links: [lo, bridge(3, 'eucabr10')],
      routes: [
        route('10.9.0.0/16', { gateway: '10.1.2.9', oif: 3 }),
        route('10.8.0.0/16', { gateway: '10.1.2.9', oif: 3 }),
        route('10.7.0.0/16', { protocol: 4, oif: 3 }),
      ],
    });
    const d = diffState(cur, {
      links: [{ kind: 'bridge', name: 'eucabr10' }],
      routes: [
        { dst: '10.9.0.0/16', gateway: '10.1.2.9' },
        { dst: '10.6.0.0/16', dev: 'eucabr10' },
      ],
    });
    expect(d.changes).toEqual([
      { op: 'route.delete', spec: { dst: '10.8.0.0/16', table: 254, protocol: EUCANET_PROTO, gateway: '10.1.2.9', dev: 'eucabr10' } },
      { op: 'route.add', spec: { dst: '10.6.0.0/16', dev: 'eucabr10', protocol: EUCANET_PROTO } },
    ]);
  });

  it("a scope marks with its own alias and protocol, and leaves another owner's objects", () => {
    const cc: OwnerScope = { tag: 'cc', proto: 241, tables: ['eucanet'] };
    const cur = kernel({ links: [lo, bridge(3, 'eucabr11', 'eucanet/nc')], addresses: [addr(3, '10.1.2.1/27', 242)] });
    const d = diffState(cur, { links: [{ kind: 'bridge', name: 'eucabr10' }], addresses: [{ dev: 'eucabr10', address: '10.1.3.1/27' }] }, cc);
    expect(d.changes).toEqual([
      { op: 'link.add', spec: { kind: 'bridge', name: 'eucabr10', alias: 'eucanet/cc' } },
      { op: 'address.add', spec: { dev: 'eucabr10', address: '10.1.3.1/27', proto: 241 } },
    ]);
  });
});
