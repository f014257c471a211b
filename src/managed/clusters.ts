// Clusters: a cloud is one cluster (the state's `cc` and `nodes`) or several
// (`clusters: { <name>: { cc, nodes } }`). Pure functions over the state that
// let every other part ask "which clusters, which hosts, whose gateway".
//
// Gateways (one router per cluster, as Eucalyptus had): every group keeps one
// block for the whole cloud; the CC of the cluster at position i (0-based) in
// the document's order of `clusters` carries block + 1 + i. Instances take
// addresses from block + 1 + (number of clusters). The one-cluster form is
// i = 0: gateway block + 1, instances from block + 2, as before. Appending a
// cluster moves no other cluster's gateway; its own gateway must be free
// (validation names the instance holding it).
import { ValidationError } from '../errors.js';
import { intToIpv4 } from '../util/ip.js';
import { join, nodeField } from './fields.js';
import type { Block } from './net.js';
import type { ClusterController, NodeHost, State } from './types.js';

/** The name of the one cluster of a state written without `clusters`. */
export const SINGLE_CLUSTER = 'default';

export interface ClusterView {
  name: string;
  /** Position in the document's order: the gateway index. */
  index: number;
  cc: ClusterController;
  nodes: Record<string, NodeHost>;
  /** Field path of this cluster's cc ("cc" or "clusters.c1.cc"). */
  ccField: string;
  /** Field path of one of its nodes. */
  nodeField: (node: string, key?: string) => string;
}

type Hosts = Pick<State, 'cc' | 'nodes' | 'clusters'>;

/** The clusters of a state, in document order (one, named "default", for the single form). */
export function clustersOf(s: Hosts): ClusterView[] {
  if (s.clusters === undefined) {
    if (s.cc === undefined) return [];
    return [{ name: SINGLE_CLUSTER, index: 0, cc: s.cc, nodes: s.nodes ?? {}, ccField: 'cc', nodeField }];
  }
  return Object.entries(s.clusters).map(([name, c], index) => {
    const base = join('clusters', name);
    return {
      name,
      index,
      cc: c.cc,
      nodes: c.nodes ?? {},
      ccField: join(base, 'cc'),
      nodeField: (node: string, key?: string) => (key === undefined ? join(join(base, 'nodes'), node) : join(join(join(base, 'nodes'), node), key)),
    };
  });
}

export const isMultiCluster = (s: Hosts): boolean => clustersOf(s).length > 1;

/** Every node of the cloud by name (names are unique across clusters). */
export function allNodes(s: Hosts): Record<string, NodeHost> {
  const out: Record<string, NodeHost> = {};
  for (const c of clustersOf(s)) Object.assign(out, c.nodes);
  return out;
}

/** The cluster a node belongs to, or undefined. */
export function clusterOfNode(s: Hosts, node: string): ClusterView | undefined {
  return clustersOf(s).find((c) => Object.hasOwn(c.nodes, node));
}

/**
 * The cluster a CC role serves: `name` when given (it must exist), else the
 * only one; a cloud of several clusters needs the name (--cluster).
 */
export function pickCluster(s: Hosts, name?: string): ClusterView {
  const all = clustersOf(s);
  if (name !== undefined) {
    const c = all.find((x) => x.name === name);
    if (!c) throw new ValidationError('cluster', name, `no such cluster; the state has ${all.map((x) => x.name).join(', ') || 'none'}`);
    return c;
  }
  if (all.length !== 1) {
    throw new ValidationError('cluster', undefined, `the state has ${all.length} clusters (${all.map((x) => x.name).join(', ')}): name one (--cluster NAME)`);
  }
  return all[0];
}

/** The gateway of cluster `index` in a group block. */
export function gatewayInt(b: Block, index: number): number {
  return b.network + 1 + index;
}

export const gatewayOf = (b: Block, index: number): string => intToIpv4(gatewayInt(b, index));

/** The first address an instance may hold in a block of a cloud with `count` clusters. */
export const firstHostInt = (b: Block, count: number): number => b.network + 1 + Math.max(1, count);
