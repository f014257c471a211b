// The control-plane benchmarks' cloud (bench/control-plane.mjs, bench/etcd-agent-profile.mjs):
// n instances over NODES nodes (nc0..), in groups of 100, every rule tcp/22.

import { allocate } from '../../dist/managed/allocate.js';
import { withAllocations } from '../../dist/managed/document.js';

/** @typedef {import('../../dist/managed/types.js').State} State */

/** Nodes of the cloud. */
export const NODES = 200;

/** N instances over NODES nodes (nc0..), in groups of 100; every rule tcp/22. @param {number} n @returns {State} */
export function cloudOf(n) {
  const groups = Array.from({ length: Math.ceil(n / 100) }, (_, g) => ({
    owner: 'admin',
    name: `g${g}`,
    rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }],
  }));
  /** @type {Record<string, { privateInterface: string, underlay: string }>} */
  const nodes = {};
  for (let k = 0; k < NODES; k++) nodes[`nc${k}`] = { privateInterface: 'eth0', underlay: `172.31.${1 + (k >> 8)}.${(k % 256) + 0}/16` };
  const instances = Array.from({ length: n }, (_, k) => ({
    id: `i-${k}`,
    group: `admin/g${Math.floor(k / 100)}`,
    node: `nc${k % NODES}`,
    port: `vn${Math.floor(k / NODES)}`,
  }));
  return /** @type {State} */ ({
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/8',
    addrsPerNet: 1024,
    vlanRange: [10, 4094],
    publicIps: ['172.16.0.1-172.16.3.250'],
    dns: '192.168.32.1',
    macPrefix: 'd0:0d',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '172.31.0.1/16' },
    nodes,
    groups,
    instances,
  });
}

/**
 * The cloud as `eucanet cloud put` imports it: validated and allocated (VLANs,
 * subnets, ports, addresses, MACs written into the document). A document put
 * without its allocations gets them from the first operation, which then
 * rewrites every key (at 5000 instances, every agent re-reads and re-checks
 * the whole cloud for that one operation).
 * @param {number} n @returns {State}
 */
export function allocatedCloudOf(n) {
  const doc = cloudOf(n);
  return withAllocations(doc, allocate(doc));
}
