// floodEntries (src/managed/roles/flood.ts) walks the instances once per
// plan, not once per group: at 5000 instances in 50 groups the CC's plan read
// every instance 50 times (about 5 ms a version in the agent). The walk is
// counted through a Proxy over the real instances array; the entries are
// checked against a plain recomputation from the state.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { floodEntries, groupPeers } from '../../src/managed/roles/flood.js';
import type { AllocatedState, State } from '../../src/managed/types.js';

function cloud(n: number, groups: number): State {
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    // The static MAC entries are the walk's heavy part (learned MACs make the flood lists alone).
    vxlanMacs: 'static',
    subnet: '10.0.0.0/8',
    addrsPerNet: 256,
    publicIps: ['172.16.0.1-172.16.0.10'],
    macPrefix: 'd0:0d',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '192.168.100.1/24' },
    nodes: {
      nc1: { privateInterface: 'eth0', underlay: '192.168.100.11/24' },
      nc2: { privateInterface: 'eth0', underlay: '192.168.100.12/24' },
    },
    groups: Array.from({ length: groups }, (_, g) => ({ owner: 'admin', name: `g${g}`, rules: [] })),
    instances: Array.from({ length: n }, (_, k) => ({ id: `i-${k}`, group: `admin/g${k % groups}`, node: k % 3 ? 'nc1' : 'nc2', port: `vn${k}` })),
  };
}

/** The state with its instances array behind a Proxy counting element reads. */
function counted(st: AllocatedState): { st: AllocatedState; reads: () => number } {
  let reads = 0;
  const instances = new Proxy(st.instances, {
    get(t, p, r) {
      if (typeof p === 'string' && /^\d+$/.test(p)) reads++;
      return Reflect.get(t, p, r) as unknown;
    },
  });
  return { st: { ...st, instances }, reads: () => reads };
}

describe('floodEntries at scale', () => {
  const N = 2000;
  const G = 40;
  const st = allocate(cloud(N, G));

  it('reads each instance once for all groups (not once per group)', () => {
    const c = counted(st);
    const out = floodEntries(c.st, c.st.groups, { role: 'cc' }, 'eth1');
    expect(out.length).toBe(N + 2 * G); // every instance's MAC, and each group flooded to nc1 and nc2
    expect(c.reads()).toBeLessThanOrEqual(N + 1);
  });

  it('gives the entries a per-group walk gives: flood lists to the other carriers, then the other nodes instance MACs', () => {
    const self = { role: 'nc' as const, node: 'nc1' };
    const out = floodEntries(st, st.groups, self, 'eth0');
    const want: Array<{ dev: string; lladdr: string; dst: string }> = [];
    for (const g of st.groups) {
      const dev = `eucavx${g.vlan}`;
      const key = `${g.owner}/${g.name}`;
      for (const dst of groupPeers(st, g, self)) want.push({ dev, lladdr: '00:00:00:00:00:00', dst });
      for (const i of st.instances) if (i.group === key && i.node !== 'nc1') want.push({ dev, lladdr: i.mac, dst: '192.168.100.12' });
    }
    expect(out).toEqual(want);
    expect(groupPeers(st, st.groups[0], self)).toEqual(['192.168.100.1', '192.168.100.12']);
  });
});
