// The desired state of a Eucalyptus MANAGED cloud network: one JSON document
// (see schema.ts for the field-by-field description, and examples/seed.json).

export type Mode = 'MANAGED' | 'MANAGED-NOVLAN';

/**
 * How groups are kept apart on the private network:
 * - `vlan`: an 802.1Q VLAN per group (the seed's design; MANAGED's default);
 * - `vxlan`: a VXLAN segment per group, VNI = the group's VLAN number, over the
 *   hosts' underlay addresses (for kernels or fabrics without 802.1Q);
 * - `none`: one bridge, isolation by firewall only (MANAGED-NOVLAN).
 */
export type Segmentation = 'vlan' | 'vxlan' | 'none';

/**
 * What a state may say: a segmentation, or `auto`: vlan where the host's
 * kernel has 802.1Q, else vxlan (which then needs the underlay addresses),
 * decided on each host when it applies (managed/preflight.ts).
 */
export type SegmentationSetting = Segmentation | 'auto';

/**
 * How a VXLAN segment reaches the other hosts carrying it (segmentation vxlan):
 * - `unicast` (the default): head-end replication. Each host's VXLAN device has
 *   no multicast group; broadcast, unknown-unicast and multicast frames go as
 *   one unicast copy to each other host carrying the group (one all-zeros FDB
 *   entry per such host). Works on fabrics that drop multicast.
 * - `multicast`: every segment floods over the underlay group 239.1.1.1.
 */
export type VxlanFlood = 'unicast' | 'multicast';
export const DEFAULT_VXLAN_FLOOD: VxlanFlood = 'unicast';

/**
 * How a host's VXLAN device finds the host of an instance MAC on another node
 * (segmentation vxlan, unicast flooding):
 * - `learn` (the default): as a switch does, from the frames it receives (the
 *   kernel's VXLAN learning: source MAC -> sender's underlay address). Only the
 *   flood lists are written, so a run-instance or terminate concerns its node
 *   and the CC, not every host carrying the group; a frame to a MAC not yet
 *   learned goes to every carrier of the group, as a broadcast does.
 * - `static`: as flannel does, one permanent FDB entry per instance MAC on
 *   another node, written by every host carrying its group, so unicast never
 *   floods; each run-instance or terminate then changes every such host.
 */
export type VxlanMacs = 'learn' | 'static';
export const DEFAULT_VXLAN_MACS: VxlanMacs = 'learn';

/** tcp, udp, icmp, or an IP protocol number 0-255. */
export type Protocol = 'tcp' | 'udp' | 'icmp' | number;

/** One ingress ("authorize") rule of a security group. */
export interface Rule {
  protocol: Protocol;
  /** First destination port (tcp/udp). Omit both from and to for every port. */
  from?: number;
  /** Last destination port (tcp/udp); defaults to `from`. */
  to?: number;
  /** ICMP type, -1 (the default) for any. */
  icmpType?: number;
  /** ICMP code, -1 (the default) for any. */
  icmpCode?: number;
  /** Source network. Exactly one of cidr and sourceGroup. */
  cidr?: string;
  /** Source group "owner/name": that group's subnet block. */
  sourceGroup?: string;
}

export interface Group {
  owner: string;
  name: string;
  /** Network index: the 802.1Q tag (vlan), the VNI (vxlan), or just an index (none). */
  vlan?: number;
  /** The group's block of addrsPerNet addresses, e.g. "10.1.2.0/27". */
  subnet?: string;
  rules?: Rule[];
}

export interface Instance {
  id: string;
  /** "owner/name" of its security group. */
  group: string;
  /** Key of `nodes`. */
  node: string;
  /** The instance's port on its node (a tap or veth), e.g. "vnet1". */
  port?: string;
  privateIp?: string;
  mac?: string;
  /** A public address from the pool, or true to have one allocated. */
  publicIp?: string | boolean;
}

export interface NodeHost {
  privateInterface: string;
  /** Address/prefix on the private NIC, the VXLAN underlay (segmentation vxlan). */
  underlay?: string;
}

export interface ClusterController {
  publicInterface: string;
  privateInterface: string;
  /** Address/prefix on the private NIC, the VXLAN underlay (segmentation vxlan). */
  underlay?: string;
  /**
   * Multi-cluster: the address (no prefix) this CC's inter-cluster tunnels use
   * on its public side; the other CCs send to it. Required when the cloud has
   * more than one cluster.
   */
  tunnelAddress?: string;
}

/** One cluster of a multi-cluster cloud: its CC and its node controllers. */
export interface Cluster {
  cc: ClusterController;
  nodes?: Record<string, NodeHost>;
}

export interface State {
  $schema?: string;
  mode: Mode;
  segmentation?: SegmentationSetting;
  /** segmentation vxlan: flood by unicast to each host (default) or over a multicast group. */
  vxlanFlood?: VxlanFlood;
  /** segmentation vxlan, unicast flooding: instance MACs on other nodes learned by the device (default) or written as static FDB entries. */
  vxlanMacs?: VxlanMacs;
  /** The private network cut into blocks, e.g. "10.1.0.0/16". */
  subnet: string;
  /** Addresses per group block: a power of two, 16..2048. */
  addrsPerNet: number;
  /** Inclusive [first, last] VLAN numbers for groups; default [10, 4094]. */
  vlanRange?: [number, number];
  /** The public pool: addresses, CIDRs, or "a-b" ranges. */
  publicIps?: string[];
  dns?: string;
  /** The CLC's metadata endpoint "ip:port". */
  metadata?: string;
  /** The first two bytes of instance MACs; default "d0:0d". */
  macPrefix?: string;
  /** The one cluster's CC (single-cluster form). Exactly one of cc and clusters. */
  cc?: ClusterController;
  /** Node controllers by name (single-cluster form only). */
  nodes?: Record<string, NodeHost>;
  /** Multi-cluster form: clusters by name, each with its CC and nodes (see managed/clusters.ts). */
  clusters?: Record<string, Cluster>;
  groups?: Group[];
  instances?: Instance[];
  /** Public addresses allocated but not associated with an instance (kept out of the pool). */
  reservedIps?: string[];
}

export interface AllocatedGroup extends Group {
  vlan: number;
  subnet: string;
  rules: Rule[];
}

export interface AllocatedInstance extends Instance {
  port: string;
  privateIp: string;
  mac: string;
  /** Absent when the instance has no public address. */
  publicIp?: string;
}

/** A state with every default resolved and every allocation made. */
export interface AllocatedState extends Omit<State, 'groups' | 'instances'> {
  /** `auto` until a host resolves it (preflight.ts resolveSegmentation); planning needs it resolved. */
  segmentation: SegmentationSetting;
  vlanRange: [number, number];
  publicIps: string[];
  macPrefix: string;
  groups: AllocatedGroup[];
  instances: AllocatedInstance[];
}

export const DEFAULT_VLAN_RANGE: [number, number] = [10, 4094];
export const DEFAULT_MAC_PREFIX = 'd0:0d';

export function defaultSegmentation(mode: Mode): Segmentation {
  return mode === 'MANAGED-NOVLAN' ? 'none' : 'vlan';
}

/** "owner/name", the way instances and rules refer to a group. */
export function groupKey(g: { owner: string; name: string }): string {
  return `${g.owner}/${g.name}`;
}

/** The firewall chain of a group, "<owner>-<name>" as Eucalyptus names it. */
export function groupChain(g: { owner: string; name: string }): string {
  return `${g.owner}-${g.name}`;
}
