// Multi-cluster (issue 18), pure: the clusters form of the state, its
// validation, the gateways (one per cluster's CC), DHCP per cluster, and the
// CC role's tunnels, NAT and flood lists per cluster.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { allocate } from '../../src/managed/allocate.js';
import { dhcpNetworksOf } from '../../src/managed/roles/dhcp.js';
import { planCc, planNc, planRole } from '../../src/managed/roles/index.js';
import { runInstance } from '../../src/managed/ops/instances.js';
import type { State } from '../../src/managed/types.js';
import { twoClusterCloud } from '../helpers/two-cluster-state.js';

function cloud(extra: Partial<State> = {}): State {
  return twoClusterCloud({
    groups: [
      { owner: 'admin', name: 'a', vlan: 10, subnet: '10.1.0.0/27', rules: [{ protocol: 'tcp', from: 22, cidr: '0.0.0.0/0' }] },
      { owner: 'admin', name: 'b', vlan: 11, subnet: '10.1.0.32/27' },
    ],
    instances: [
      { id: 'i-a1', group: 'admin/a', node: 'nc1', publicIp: true },
      { id: 'i-a2', group: 'admin/a', node: 'nc3', publicIp: true },
      { id: 'i-b1', group: 'admin/b', node: 'nc1' },
    ],
    ...extra,
  });
}

function refused(f: () => unknown): ValidationError {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('multi-cluster state', () => {
  it('allocates instance addresses after every cluster gateway, and keeps the clusters form', () => {
    const s = allocate(cloud());
    expect(s.clusters && Object.keys(s.clusters)).toEqual(['c1', 'c2']);
    expect(s.cc).toBeUndefined();
    // 10.1.0.1 is c1's gateway, 10.1.0.2 c2's: instances from 10.1.0.3.
    expect(s.instances.map((i) => i.privateIp)).toEqual(['10.1.0.3', '10.1.0.4', '10.1.0.35']);
    expect(allocate(s)).toEqual(s);
  });

  it('a single-cluster state still starts instances at block + 2', () => {
    const one = cloud();
    const c1 = one.clusters!.c1;
    delete one.clusters;
    Object.assign(one, { cc: c1.cc, nodes: c1.nodes, instances: [{ id: 'i-1', group: 'admin/a', node: 'nc1' }] });
    delete one.cc!.tunnelAddress;
    expect(allocate(one).instances[0].privateIp).toBe('10.1.0.2');
  });

  it('refuses an instance on another cluster gateway, naming the cluster', () => {
    const s = cloud();
    s.instances![0].privateIp = '10.1.0.2';
    const e = refused(() => allocate(s));
    expect(e.field).toBe('instances[0].privateIp');
    expect(e.message).toMatch(/gateway .* cluster c2/);
  });

  it('refuses cc together with clusters, a node name used twice, a bad or repeated tunnelAddress', () => {
    const both = cloud({ cc: { publicInterface: 'eth0', privateInterface: 'eth1' } });
    expect(refused(() => allocate(both)).field).toBe('cc');
    const dup = cloud();
    dup.clusters!.c2.nodes = { nc1: { privateInterface: 'eth0', underlay: '10.0.2.11/24' } };
    const e = refused(() => allocate(dup));
    expect(e.field).toBe('clusters.c2.nodes.nc1');
    expect(e.message).toMatch(/also in cluster c1/);
    const bad = cloud();
    bad.clusters!.c2.cc.tunnelAddress = '192.168.32.300';
    expect(refused(() => allocate(bad)).field).toBe('clusters.c2.cc.tunnelAddress');
    const same = cloud();
    same.clusters!.c2.cc.tunnelAddress = '192.168.32.20';
    expect(refused(() => allocate(same)).field).toBe('clusters.c2.cc.tunnelAddress');
    const missing = cloud();
    delete missing.clusters!.c1.cc.tunnelAddress;
    expect(refused(() => allocate(missing)).field).toBe('clusters.c1.cc.tunnelAddress');
  });

  it('run-instance knows the nodes of every cluster', () => {
    const r = runInstance(allocate(cloud()), { id: 'i-a3', group: 'admin/a', node: 'nc3' });
    expect(r.state.instances!.at(-1)).toMatchObject({ node: 'nc3', privateIp: '10.1.0.5' });
    expect(refused(() => runInstance(cloud(), { id: 'i-x', group: 'admin/a', node: 'nc9' })).field).toBe('node');
  });
});

describe('multi-cluster DHCP and roles', () => {
  const s = allocate(cloud());

  it("DHCP gives each cluster's instances their own CC's gateway as router, and only them", () => {
    const c1 = dhcpNetworksOf(s, { cluster: 'c1' }).find((n) => n.interface === 'eucabr10')!;
    const c2 = dhcpNetworksOf(s, { cluster: 'c2' }).find((n) => n.interface === 'eucabr10')!;
    expect([c1.gateway, c2.gateway]).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(c1.hosts.map((h) => h.ip)).toEqual(['10.1.0.3']);
    expect(c2.hosts.map((h) => h.ip)).toEqual(['10.1.0.4']);
  });

  it('a CC role needs --cluster when there are several, and names the known ones', () => {
    const e = refused(() => planRole(s, { role: 'cc' }));
    expect(e.field).toBe('cluster');
    expect(e.message).toMatch(/c1, c2/);
    expect(refused(() => planRole(s, { role: 'cc', cluster: 'c9' })).value).toBe('c9');
  });

  it('each CC: its gateway, a tunnel per group flooding to the other CC, NAT of its own instances only, the same filter', () => {
    const p1 = planCc(s, 'c1');
    const p2 = planCc(s, 'c2');
    expect(p1.addresses!.filter((a) => a.dev === 'eucabr10').map((a) => a.address)).toEqual(['10.1.0.1/27']);
    expect(p2.addresses!.filter((a) => a.dev === 'eucabr10').map((a) => a.address)).toEqual(['10.1.0.2/27']);
    const tun = p1.links!.filter((l) => String(l.name).startsWith('eucatun'));
    expect(tun.map((l) => [l.name, l.kind === 'vxlan' && l.vni, l.kind === 'vxlan' && l.local, l.master])).toEqual([
      ['eucatun10', 10, '192.168.32.20', 'eucabr10'],
      ['eucatun11', 11, '192.168.32.20', 'eucabr11'],
    ]);
    expect(p1.fdb!.filter((f) => String(f.dev).startsWith('eucatun'))).toEqual([
      { dev: 'eucatun10', lladdr: '00:00:00:00:00:00', dst: '192.168.32.21' },
      { dev: 'eucatun11', lladdr: '00:00:00:00:00:00', dst: '192.168.32.21' },
    ]);
    const pub = (p: typeof p1) => p.addresses!.filter((a) => a.dev === 'eth0').map((a) => a.address);
    expect(pub(p1)).toEqual([`${s.instances[0].publicIp}/32`]);
    expect(pub(p2)).toEqual([`${s.instances[1].publicIp}/32`]);
    // The filter is the same on both CCs: the group chains and their rules.
    const chainRules = (p: typeof p1) => p.nft!.rules.filter((r) => String(r.chain).startsWith('admin-'));
    expect(chainRules(p1).length).toBeGreaterThan(0);
    expect(chainRules(p2)).toEqual(chainRules(p1));
    // The intra-cluster VXLAN floods only to the CC's own nodes.
    expect(p1.fdb!.filter((f) => f.dev === 'eucavx10' && f.lladdr === '00:00:00:00:00:00').map((f) => f.dst)).toEqual(['10.0.1.11']);
  });

  it("a node's flood list is its own cluster's CC", () => {
    const n3 = planNc(s, 'nc3');
    expect(n3.fdb!.filter((f) => f.lladdr === '00:00:00:00:00:00').map((f) => f.dst)).toEqual(['10.0.2.1']);
  });

  it('removing cluster c2 removes its tunnel entries from c1', () => {
    const one = cloud();
    delete one.clusters!.c2;
    one.instances = one.instances!.filter((i) => i.node !== 'nc3');
    const p = planCc(allocate(one), 'c1');
    expect(p.links!.some((l) => String(l.name).startsWith('eucatun'))).toBe(false);
    expect(p.fdb!.some((f) => String(f.dev).startsWith('eucatun'))).toBe(false);
  });
});
