// The two-cluster cloud the multi-cluster tests share (pure data): c1 with its
// CC and nc1, c2 with its CC and nc3, both CCs on 192.168.32.0/24. Each test
// adds its own groups and instances.
import type { State } from '../../src/managed/types.js';

export function twoClusterCloud(extra: Partial<State> = {}): State {
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.203'],
    clusters: {
      c1: {
        cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.1.1/24', tunnelAddress: '192.168.32.20' },
        nodes: { nc1: { privateInterface: 'eth0', underlay: '10.0.1.11/24' } },
      },
      c2: {
        cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.2.1/24', tunnelAddress: '192.168.32.21' },
        nodes: { nc3: { privateInterface: 'eth0', underlay: '10.0.2.13/24' } },
      },
    },
    ...extra,
  };
}
