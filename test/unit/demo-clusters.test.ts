// The demo's state and hosts with --clusters 2 (issue 18), without root: the
// seed becomes cluster c1, cluster c2 adds a CC and nc3 with one instance of
// each of the seed's groups; one agent per host, both CCs naming their
// cluster; scale mode still allocates with the second cluster's gateways.
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { clustersOf, gatewayOf } from '../../src/managed/clusters.js';
import { parseBlock } from '../../src/managed/net.js';
import { agentArgs } from '../../src/demo/agent-process.js';
import { demoHosts } from '../../src/demo/control.js';
import { demoDoc, demoState, MAX_INSTANCES, maxInstances } from '../../src/demo/state.js';
import { clusterOfInstance, demoClusters, demoNamespaces } from '../../src/demo/topology.js';

describe('demo --clusters 2', () => {
  it('one cluster (the default) stays the seed: cc and nodes, no clusters', async () => {
    const doc = await demoDoc('vxlan');
    expect(doc.clusters).toBeUndefined();
    expect(Object.keys(doc.nodes ?? {})).toEqual(['nc1', 'nc2']);
    const s = allocate(doc);
    expect(demoHosts(s).map((h) => [h.name, h.role, h.netns])).toEqual([
      ['cc', { role: 'cc' }, 'euca-cc'],
      ['nc1', { role: 'nc', node: 'nc1' }, 'euca-nc1'],
      ['nc2', { role: 'nc', node: 'nc2' }, 'euca-nc2'],
    ]);
  });

  it('two: c1 is the seed, c2 a CC at 192.168.32.21 with nc3 and #9 (admin/default, public) and #10 (admin/web)', async () => {
    const s = await demoState('vxlan', 8, 2);
    expect(clustersOf(s).map((c) => [c.name, c.cc.tunnelAddress, Object.keys(c.nodes)])).toEqual([
      ['c1', '192.168.32.20', ['nc1', 'nc2']],
      ['c2', '192.168.32.21', ['nc3']],
    ]);
    const [i9, i10] = s.instances.slice(8);
    expect([i9.id, i9.group, i9.node, i9.publicIp]).toEqual(['i-9', 'admin/default', 'nc3', '192.168.32.202']);
    expect([i10.id, i10.group, i10.node, i10.publicIp]).toEqual(['i-10', 'admin/web', 'nc3', undefined]);
    expect(demoClusters(s).map((c) => [c.ccNetns, c.switchNetns, c.publicIp])).toEqual([
      ['euca-cc', 'euca-switch', '192.168.32.20'],
      ['euca-cc2', 'euca-switch2', '192.168.32.21'],
    ]);
    expect(clusterOfInstance(s, i9).index).toBe(1);
    // Instances start after both gateways.
    const block = parseBlock('subnet', s.groups[0].subnet);
    expect([gatewayOf(block, 0), gatewayOf(block, 1)]).toEqual(['10.1.2.1', '10.1.2.2']);
    expect(s.instances.find((i) => i.id === 'i-1')?.privateIp).toBe('10.1.2.3');
    expect(demoNamespaces(s, s.instances)).toEqual(
      expect.arrayContaining(['euca-cc', 'euca-switch', 'euca-nc1', 'euca-nc2', 'euca-cc2', 'euca-switch2', 'euca-nc3', 'euca-i-9', 'euca-i-10']),
    );
  });

  it('one agent per host, each CC with --cluster', async () => {
    const s = await demoState('vxlan', 8, 2);
    const hosts = demoHosts(s);
    expect(hosts.map((h) => h.name)).toEqual(['cc', 'cc2', 'nc1', 'nc2', 'nc3']);
    const args = agentArgs(hosts[1].role, hosts[1].netns, '/x.json').slice(1);
    expect(args).toEqual(['agent', '--role', 'cc', '--cluster', 'c2', '--netns', 'euca-cc2', '--state', '/x.json', '--json']);
  });

  it('scale mode allocates with two clusters up to the most instances', async () => {
    const s = await demoState('vxlan', maxInstances(2), 2);
    expect(s.instances).toHaveLength(maxInstances(2) + 2);
    expect(s.instances.at(-2)?.id).toBe(`i-${maxInstances(2) + 1}`);
    await expect(demoDoc('vxlan', MAX_INSTANCES, 2)).rejects.toThrow(/instances.*4088.*8\.\.4086 instances with 2 clusters/);
  });

  it('refuses a third cluster, naming the field', async () => {
    await expect(demoDoc('vxlan', 8, 3)).rejects.toThrow(/clusters.*3/);
  });
});
