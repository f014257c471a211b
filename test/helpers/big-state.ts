// A large cloud for store tests: `instances` instances spread over 20 groups
// (2048-address blocks) and 20 nodes, every address left to allocation.
import type { State } from '../../src/managed/types.js';

export function bigState(instances: number, opts: { groups?: number; nodes?: number } = {}): State {
  const groups = opts.groups ?? 20;
  const nodes = opts.nodes ?? 20;
  return {
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/9',
    addrsPerNet: 2048,
    publicIps: ['192.168.0.1-192.168.3.250'],
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '172.31.0.1/24' },
    nodes: Object.fromEntries(Array.from({ length: nodes }, (_, i) => [`nc${i + 1}`, { privateInterface: 'eth0', underlay: `172.31.0.${i + 11}/24` }])),
    groups: Array.from({ length: groups }, (_, g) => ({
      owner: 'u',
      name: `g${g}`,
      rules: [{ protocol: 'tcp' as const, from: 22, to: 22, cidr: '0.0.0.0/0' }],
    })),
    instances: Array.from({ length: instances }, (_, i) => ({ id: `i-${i + 1}`, group: `u/g${i % groups}`, node: `nc${(i % nodes) + 1}` })),
  };
}
