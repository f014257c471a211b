// planCc and planNc (src/managed/roles/), pure and without root: a small
// allocated state in, the host's desired kernel state out. Every kind of
// ingress rule (tcp/udp with one port, a range or none; icmp with and without
// type and code; another IP protocol; from a cidr, a source group or
// anywhere), every segmentation, and both roles.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { allocate } from '../../src/managed/allocate.js';
import { planCc, planNc, planRole } from '../../src/managed/roles/index.js';
import type { Rule, Segmentation, State } from '../../src/managed/types.js';
import { Batch } from '../../src/nft/index.js';
import type { DesiredNft } from '../../src/tx/nft-diff.js';

const RULES: Rule[] = [
  { protocol: 'tcp', from: 22, cidr: '0.0.0.0/0' },
  { protocol: 'tcp', from: 8000, to: 8080, sourceGroup: 'admin/web' },
  { protocol: 'udp', cidr: '192.168.0.0/16' },
  { protocol: 'icmp', cidr: '0.0.0.0/0' },
  { protocol: 'icmp', icmpType: 3, icmpCode: 4, cidr: '10.9.0.0/16' },
  { protocol: 47, cidr: '0.0.0.0/0' },
];

function state(segmentation: Segmentation, extra: Partial<State> = {}) {
  const s: State = {
    mode: segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED',
    segmentation,
    ...extra,
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.201'],
    metadata: '192.168.32.10:8773',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.0.1/24' },
    nodes: { nc1: { privateInterface: 'eth0', underlay: '10.0.0.11/24' }, nc2: { privateInterface: 'eth0', underlay: '10.0.0.12/24' } },
    groups: [
      { owner: 'admin', name: 'default', vlan: 10, subnet: '10.1.2.0/27', rules: RULES },
      { owner: 'admin', name: 'web', vlan: 11, subnet: '10.1.1.32/27', rules: [] },
    ],
    instances: [
      { id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1', publicIp: '192.168.32.200' },
      { id: 'i-2', group: 'admin/default', node: 'nc1', port: 'vnet2', publicIp: false },
      { id: 'i-3', group: 'admin/web', node: 'nc2', port: 'vnet0' },
    ],
  };
  return allocate({ ...s, ...extra });
}

/** The nft part as `nft -f` text, through the library's own batch and renderer. */
function nftText(n: DesiredNft | undefined): string[] {
  const b = new Batch();
  for (const t of n?.tables ?? []) b.addTable(t);
  for (const c of n?.chains ?? []) b.addChain(c);
  for (const s of n?.sets ?? []) b.addSet(s).addElements(s, s.elements ?? []);
  for (const r of n?.rules ?? []) b.addRule(r);
  return b.render().trim().split('\n');
}

describe('planCc', () => {
  it('vlan: a vlan device and a bridge per group, gateways, public /32s, forwarding, the nat and filter table', () => {
    const st = state('vlan');
    const cc = planCc(st);
    expect(cc.links?.map((l) => `${l.kind} ${l.name}${'master' in l && l.master ? ` in ${l.master}` : ''}`)).toEqual([
      'bridge eucabr10',
      'vlan eth1.10 in eucabr10',
      'bridge eucabr11',
      'vlan eth1.11 in eucabr11',
    ]);
    expect(cc.addresses).toEqual([
      { dev: 'eucabr10', address: '10.1.2.1/27' },
      { dev: 'eucabr11', address: '10.1.1.33/27' },
      { dev: 'eth0', address: '192.168.32.200/32' },
    ]);
    expect(cc.sysctls).toEqual({ 'net.ipv4.ip_forward': 1 });
    expect(cc.ports).toEqual([]);
    const text = nftText(cc.nft);
    expect(text).toContain('add table ip eucanet');
    expect(text).toContain('add element ip eucanet pub2priv { 192.168.32.200 : 10.1.2.2 }');
    expect(text).toContain('add element ip eucanet priv2pub { 10.1.2.2 : 192.168.32.200 }');
    expect(text).toContain(
      'add rule ip eucanet prerouting ip saddr 10.1.0.0/16 ip daddr 169.254.169.254 tcp dport 80 dnat to 192.168.32.10:8773 comment "metadata"',
    );
    expect(text).toContain('add rule ip eucanet forward ip daddr 10.1.2.0/27 jump admin-default');
  });

  it('every kind of ingress rule becomes its nft rule in the group chain, in order', () => {
    const rules = nftText(planCc(state('vlan')).nft).filter((l) => l.startsWith('add rule ip eucanet admin-default '));
    expect(rules.map((l) => l.replace('add rule ip eucanet admin-default ', ''))).toEqual([
      'ip daddr 10.1.2.0/27 tcp dport 22 accept comment "authorize tcp 22 from 0.0.0.0/0"',
      'ip saddr 10.1.1.32/27 ip daddr 10.1.2.0/27 tcp dport 8000-8080 accept comment "authorize tcp 8000-8080 from admin/web"',
      'ip saddr 192.168.0.0/16 ip daddr 10.1.2.0/27 meta l4proto udp accept comment "authorize udp from 192.168.0.0/16"',
      'ip daddr 10.1.2.0/27 meta l4proto icmp accept comment "authorize icmp from 0.0.0.0/0"',
      'ip saddr 10.9.0.0/16 ip daddr 10.1.2.0/27 icmp type destination-unreachable icmp code frag-needed accept comment "authorize icmp from 10.9.0.0/16"',
      'ip daddr 10.1.2.0/27 ip protocol gre accept comment "authorize 47 from 0.0.0.0/0"',
    ]);
    expect(nftText(planCc(state('vlan')).nft).filter((l) => l.startsWith('add rule ip eucanet admin-web '))).toEqual([]);
  });

  it('vxlan: a vxlan device per group over the underlay, the private NIC up with the underlay address', () => {
    const cc = planCc(state('vxlan'));
    expect(cc.links?.filter((l) => l.kind === 'vxlan')).toEqual([
      expect.objectContaining({ name: 'eucavx10', vni: 10, local: '10.0.0.1', device: 'eth1', master: 'eucabr10' }),
      expect.objectContaining({ name: 'eucavx11', vni: 11, local: '10.0.0.1', device: 'eth1', master: 'eucabr11' }),
    ]);
    expect(cc.ports).toEqual([{ name: 'eth1', up: true }]);
    expect(cc.addresses).toContainEqual({ dev: 'eth1', address: '10.0.0.1/24' });
  });

  it('no segmentation: one bridge eucabr0 with the private NIC in it, both gateways on it, no ICMP redirects', () => {
    const cc = planCc(state('none'));
    expect(cc.links?.map((l) => l.name)).toEqual(['eucabr0']);
    expect(cc.ports).toEqual([{ name: 'eth1', master: 'eucabr0', up: true }]);
    expect(cc.addresses?.filter((a) => a.dev === 'eucabr0').map((a) => a.address)).toEqual(['10.1.2.1/27', '10.1.1.33/27']);
    expect(cc.sysctls).toEqual({ 'net.ipv4.ip_forward': 1, 'net/ipv4/conf/eucabr0/send_redirects': 0 });
  });
});

describe('planNc', () => {
  it("only the groups with an instance on the node; each instance's port a tap in its group's bridge; the bridge filter", () => {
    const st = state('vlan');
    const nc1 = planNc(st, 'nc1');
    expect(nc1.links?.map((l) => l.name)).toEqual(['eucabr10', 'eth0.10']);
    expect(nc1.ports).toEqual([
      { name: 'vnet1', master: 'eucabr10', up: true, tap: { alias: 'eucanet:port i-1 group admin/default' } },
      { name: 'vnet2', master: 'eucabr10', up: true, tap: { alias: 'eucanet:port i-2 group admin/default' } },
    ]);
    expect(nc1.addresses).toEqual([]);
    const text = nftText(nc1.nft);
    expect(text[0]).toBe('add table bridge eucanet-nc');
    expect(text.some((l) => l.includes('comment "IP spoofing"'))).toBe(true);
    expect(planNc(st, 'nc2').ports?.map((p) => p.name)).toEqual(['vnet0']);
    expect(planNc(st, 'nc2').links?.map((l) => l.name)).toEqual(['eucabr11', 'eth0.11']);
  });

  it('an unknown node, and an unresolved auto segmentation, are refused naming the field', () => {
    const st = state('vlan');
    expect(() => planNc(st, 'nc9')).toThrow(ValidationError);
    expect(() => planNc(st, 'nc9')).toThrow(/invalid node "nc9": unknown node; the state has nc1, nc2/);
    expect(() => planRole({ ...st, segmentation: 'auto' }, { role: 'cc' })).toThrow(/invalid segmentation "auto"/);
  });
});

describe('vxlan flooding (vxlanFlood)', () => {
  const ZERO = '00:00:00:00:00:00';
  const flood = (dev: string, dst: string) => ({ dev, lladdr: ZERO, dst });
  const vxOf = (d: ReturnType<typeof planCc>) => d.links?.filter((l) => l.kind === 'vxlan') ?? [];
  /** The flood lists (all-zeros entries) of a plan. */
  const floods = (d: ReturnType<typeof planCc>) => d.fdb?.filter((e) => e.lladdr === ZERO);

  it('unicast is the default: no multicast group; the CC floods each group to the nodes carrying it', () => {
    const cc = planCc(state('vxlan'));
    for (const l of vxOf(cc)) expect(l).not.toHaveProperty('multicastGroup');
    // admin/default (vlan 10) runs on nc1 only, admin/web (11) on nc2 only.
    expect(floods(cc)).toEqual([flood('eucavx10', '10.0.0.11'), flood('eucavx11', '10.0.0.12')]);
  });

  it('a node floods to the CC and to the other nodes carrying the same group, not to itself', () => {
    const st = state('vxlan', {
      instances: [
        { id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1' },
        { id: 'i-2', group: 'admin/default', node: 'nc2', port: 'vnet2' },
        { id: 'i-3', group: 'admin/web', node: 'nc2', port: 'vnet0' },
      ],
    });
    expect(floods(planNc(st, 'nc1'))).toEqual([flood('eucavx10', '10.0.0.1'), flood('eucavx10', '10.0.0.12')]);
    expect(floods(planNc(st, 'nc2'))).toEqual([flood('eucavx10', '10.0.0.1'), flood('eucavx10', '10.0.0.11'), flood('eucavx11', '10.0.0.1')]);
    expect(floods(planCc(st))).toEqual([flood('eucavx10', '10.0.0.11'), flood('eucavx10', '10.0.0.12'), flood('eucavx11', '10.0.0.12')]);
  });

  it("a node that loses its last instance of a group leaves the other hosts' flood lists of that group", () => {
    const st = state('vxlan', { instances: [{ id: 'i-3', group: 'admin/web', node: 'nc2', port: 'vnet0' }] });
    // Nobody runs admin/default now: the CC's device for it floods nowhere.
    expect(floods(planCc(st))).toEqual([flood('eucavx11', '10.0.0.12')]);
    expect(floods(planNc(st, 'nc1'))).toEqual([]);
    expect(planNc(st, 'nc1').links).toEqual([]);
  });

  it("vxlanMacs static: each other node's instance MACs get a static entry to that node (flannel's approach); none for the host's own", () => {
    const st = state('vxlan', {
      vxlanMacs: 'static',
      instances: [
        { id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1' },
        { id: 'i-2', group: 'admin/default', node: 'nc2', port: 'vnet2' },
        { id: 'i-3', group: 'admin/web', node: 'nc2', port: 'vnet0' },
      ],
    });
    const mac = (id: string) => st.instances.find((i) => i.id === id)!.mac;
    const statics = (d: ReturnType<typeof planCc>) => d.fdb?.filter((e) => e.lladdr !== ZERO);
    expect(statics(planCc(st))).toEqual([
      { dev: 'eucavx10', lladdr: mac('i-1'), dst: '10.0.0.11' },
      { dev: 'eucavx10', lladdr: mac('i-2'), dst: '10.0.0.12' },
      { dev: 'eucavx11', lladdr: mac('i-3'), dst: '10.0.0.12' },
    ]);
    expect(statics(planNc(st, 'nc1'))).toEqual([{ dev: 'eucavx10', lladdr: mac('i-2'), dst: '10.0.0.12' }]);
    expect(statics(planNc(st, 'nc2'))).toEqual([{ dev: 'eucavx10', lladdr: mac('i-1'), dst: '10.0.0.11' }]);
  });

  it("vxlanMacs static: a host removed from the state leaves the others' flood lists and static entries", () => {
    const two = state('vxlan', {
      vxlanMacs: 'static',
      instances: [
        { id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1' },
        { id: 'i-2', group: 'admin/default', node: 'nc2', port: 'vnet2' },
      ],
    });
    expect(planCc(two).fdb?.map((e) => e.dst)).toEqual(['10.0.0.11', '10.0.0.12', '10.0.0.11', '10.0.0.12']);
    const one = state('vxlan', {
      vxlanMacs: 'static',
      nodes: { nc1: { privateInterface: 'eth0', underlay: '10.0.0.11/24' } },
      instances: [{ id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1' }],
    });
    expect(planCc(one).fdb?.map((e) => e.dst)).toEqual(['10.0.0.11', '10.0.0.11']);
    expect(planNc(one, 'nc1').fdb).toEqual([flood('eucavx10', '10.0.0.1')]);
  });

  it('learned MACs are the default: the flood lists alone, the same whatever MACs the carriers run', () => {
    const instances = [
      { id: 'i-1', group: 'admin/default', node: 'nc1', port: 'vnet1' },
      { id: 'i-2', group: 'admin/default', node: 'nc2', port: 'vnet2' },
      { id: 'i-3', group: 'admin/web', node: 'nc2', port: 'vnet0' },
    ];
    const st = state('vxlan', { instances });
    expect(st.vxlanMacs).toBeUndefined();
    expect(planCc(st).fdb).toEqual(floods(planCc(st)));
    expect(planCc(st).fdb).toEqual([flood('eucavx10', '10.0.0.11'), flood('eucavx10', '10.0.0.12'), flood('eucavx11', '10.0.0.12')]);
    expect(planNc(st, 'nc1').fdb).toEqual([flood('eucavx10', '10.0.0.1'), flood('eucavx10', '10.0.0.12')]);
    // A second instance of admin/default on nc2: no host's FDB changes.
    const more = state('vxlan', { instances: [...instances, { id: 'i-4', group: 'admin/default', node: 'nc2', port: 'vnet4' }] });
    expect(planNc(more, 'nc1').fdb).toEqual(planNc(st, 'nc1').fdb);
    expect(planCc(more).fdb).toEqual(planCc(st).fdb);
    expect(state('vxlan', { vxlanMacs: 'learn', instances }).vxlanMacs).toBe('learn');
  });

  it('a bad vxlanMacs is refused naming the field', () => {
    expect(() => state('vxlan', { vxlanMacs: 'flood' as never })).toThrow(ValidationError);
    expect(() => state('vxlan', { vxlanMacs: 'flood' as never })).toThrow(/vxlanMacs/);
  });

  it('multicast keeps the group 239.1.1.1 and no flood entries', () => {
    const st = state('vxlan', { vxlanFlood: 'multicast' });
    for (const l of vxOf(planCc(st))) expect(l).toMatchObject({ multicastGroup: '239.1.1.1' });
    expect(floods(planCc(st))).toEqual([]);
    expect(floods(planNc(st, 'nc1'))).toEqual([]);
  });

  it('no flood entries without vxlan', () => {
    expect(floods(planCc(state('vlan')))).toEqual([]);
    expect(floods(planNc(state('none'), 'nc1'))).toEqual([]);
  });

  it('a bad vxlanFlood is refused naming the field', () => {
    expect(() => state('vxlan', { vxlanFlood: 'broadcast' as never })).toThrow(ValidationError);
    expect(() => state('vxlan', { vxlanFlood: 'broadcast' as never })).toThrow(/vxlanFlood/);
  });
});
