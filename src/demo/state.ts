// The demo's desired state: examples/seed.json, with the segmentation chosen,
// and for scale mode (--instances N) more instances spread over the groups and
// both node controllers. With --clusters 2 the seed becomes cluster c1 and a
// second cluster c2 joins it (secondCluster below).
import { fileURLToPath } from 'node:url';
import { allocate } from '../managed/allocate.js';
import { loadState } from '../managed/statefile.js';
import type { AllocatedState, Instance, Segmentation, State } from '../managed/types.js';
import { ValidationError } from '../errors.js';
import { must } from '../util/must.js';

export const SEED_PATH = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));

/** The seed's eight instances have namespaces and run the checks; the rest are taps. */
export const SEED_INSTANCES = 8;

/**
 * Scale mode spreads instances over 2 groups and 2 nodes, so each node has a
 * bridge per group (one for both without segmentation). A bridge takes 1023
 * ports, one of them the uplink: 1022 instances a bridge.
 */
const PER_BRIDGE = 1022;
export const MAX_INSTANCES = 4 * PER_BRIDGE;
/** With a second cluster, in the seed's cluster: each group's block (2048 at most) also holds one more gateway and instance. */
export const maxInstances = (clusters = 1): number => MAX_INSTANCES - 2 * (clusters - 1);
/** Without segmentation both groups share each node's one bridge. */
export const MAX_INSTANCES_UNSEGMENTED = 2 * PER_BRIDGE;

/** The demo's state, allocated, and the document it comes from (what the demo writes to its store). */
export async function demoState(segmentation: Segmentation, instances = SEED_INSTANCES, clusters = 1): Promise<AllocatedState> {
  return allocate(await demoDoc(segmentation, instances, clusters));
}

/** How many clusters the demo can run: the seed's, or the seed's and a second one. */
export const MAX_CLUSTERS = 2;

export async function demoDoc(segmentation: Segmentation, instances = SEED_INSTANCES, clusters = 1): Promise<State> {
  if (!Number.isInteger(clusters) || clusters < 1 || clusters > MAX_CLUSTERS) {
    throw new ValidationError('clusters', clusters, `the demo runs 1 or ${MAX_CLUSTERS} clusters`);
  }
  const { state } = await loadState(SEED_PATH);
  const s: State = structuredClone(state);
  s.segmentation = segmentation;
  s.mode = segmentation === 'none' ? 'MANAGED-NOVLAN' : 'MANAGED';
  if (instances !== SEED_INSTANCES) scaleUp(s, instances, clusters);
  if (clusters === 2) secondCluster(s);
  if (segmentation === 'none' && instances > MAX_INSTANCES_UNSEGMENTED) {
    throw new ValidationError(
      'instances',
      instances,
      `without segmentation each node's one bridge takes ${PER_BRIDGE} instances: at most ${MAX_INSTANCES_UNSEGMENTED}`,
    );
  }
  return s;
}

/**
 * N instances: the seed's eight, then the rest alternating over the two
 * groups and the two nodes. The group blocks grow (addrsPerNet, the next power
 * of two that holds half of them) when /27s are too small; the seed's explicit
 * 10.1.2.0/27 then gives way to an allocated block.
 */
function scaleUp(s: State, n: number, clusters: number): void {
  // A group block holds at most 2048 addresses: a second cluster's gateway and instance take two of them.
  const max = maxInstances(clusters);
  if (!Number.isInteger(n) || n < SEED_INSTANCES || n > max) {
    throw new ValidationError(
      'instances',
      n,
      `the demo needs ${SEED_INSTANCES}..${max} instances${clusters > 1 ? ` with ${clusters} clusters` : ''} (the checks use the seed's eight)`,
    );
  }
  // A second cluster takes one more gateway and one more instance in each group.
  const perGroup = Math.ceil(n / 2) + (clusters - 1);
  let size = s.addrsPerNet;
  while (size - 2 - clusters < perGroup) size *= 2;
  if (size !== s.addrsPerNet) {
    s.addrsPerNet = size;
    for (const g of s.groups ?? []) delete g.subnet;
  }
  const groups = (s.groups ?? []).map((g) => `${g.owner}/${g.name}`);
  const nodes = Object.keys(s.nodes ?? {});
  const extra: Instance[] = [];
  for (let k = SEED_INSTANCES; k < n; k++) {
    extra.push({ id: `i-${k + 1}`, group: groups[k % groups.length], node: nodes[Math.floor(k / groups.length) % nodes.length] });
  }
  s.instances = [...(s.instances ?? []), ...extra];
}

/** The second cluster's CC address on the public network: its tunnelAddress (the first CC's is 192.168.32.20). */
export const CC2_PUBLIC_IP = '192.168.32.21';

/**
 * --clusters 2: the seed's CC and nodes become cluster c1 (its CC's public
 * address, 192.168.32.20, its tunnelAddress); cluster c2 has its own CC
 * (192.168.32.21 on the public network, its own private network) and one
 * node, nc3, with two instances appended after the others: one of the seed's
 * first group (admin/default) with a public IP, one of its second (admin/web).
 */
function secondCluster(s: State): void {
  const [first, second] = (s.groups ?? []).map((g) => `${g.owner}/${g.name}`);
  const n = s.instances?.length ?? 0;
  s.clusters = {
    c1: { cc: { ...must(s.cc, "the seed's cc"), tunnelAddress: '192.168.32.20' }, nodes: s.nodes ?? {} },
    c2: {
      cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.1.1/24', tunnelAddress: CC2_PUBLIC_IP },
      nodes: { nc3: { privateInterface: 'eth0', underlay: '10.0.1.13/24' } },
    },
  };
  delete s.cc;
  delete s.nodes;
  s.instances = [
    ...(s.instances ?? []),
    { id: `i-${n + 1}`, group: first, node: 'nc3', port: 'vnet1', publicIp: true },
    { id: `i-${n + 2}`, group: second, node: 'nc3', port: 'vnet0' },
  ];
}
