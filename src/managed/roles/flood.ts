// VXLAN head-end replication (vxlanFlood "unicast"): which hosts carry which
// group's segment, and the FDB entries that make each host's VXLAN device send
// broadcast, unknown-unicast and multicast frames to the others as unicast
// copies, with no multicast group in the underlay.
//
// The CC carries every group (it is every group's gateway); a node carries the
// groups of the instances it runs. Each host's device for group g gets one
// all-zeros entry (`bridge fdb append 00:00:00:00:00:00 dev eucavxN dst
// <underlay> self permanent`) per other host carrying g. Reconcile keeps them
// in step: a node that loses its last instance of g stops carrying it, and
// the other hosts' entries for it go.
//
// With vxlanMacs "static", as flannel does, each known instance MAC on another
// node also gets a static entry pointing at that node (`bridge fdb append
// d0:0d:0a:01:02:05 dev eucavx10 dst <its node's underlay> self permanent`),
// so that unicast to it goes to its node alone from the first frame. With
// "learn" (the default) the device learns where a MAC is from the frames it
// receives (an instance's DHCP and ARP broadcasts reach every carrier first),
// and until then sends unicast to it as it floods: the flood lists alone are
// written, and they change only when a node gains its first instance of a
// group or loses its last.
import type { FdbSpec } from '../../rtnl/fdb.js';
import { DEFAULT_VXLAN_FLOOD, DEFAULT_VXLAN_MACS, groupKey, type AllocatedGroup, type AllocatedState, type VxlanFlood, type VxlanMacs } from '../types.js';
import { clusterOfNode, pickCluster, type ClusterView } from '../clusters.js';
import { segmentOf } from './names.js';

/** A host of the cloud: the CC, or a node by its key in `nodes`. */
export type HostId = { role: 'cc'; cluster?: string } | { role: 'nc'; node: string };

/** The cluster of a host: a segment's VXLAN reaches only the hosts of its own cluster's private network. */
function clusterOfHost(state: AllocatedState, self: HostId): ClusterView {
  const c = self.role === 'cc' ? pickCluster(state, self.cluster) : clusterOfNode(state, self.node);
  if (!c) throw new Error(`node ${self.role === 'nc' ? self.node : ''} is in no cluster`);
  return c;
}

/** The flooding a state asks for (unicast unless it says multicast). */
export function vxlanFloodOf(state: Pick<AllocatedState, 'vxlanFlood'>): VxlanFlood {
  return state.vxlanFlood ?? DEFAULT_VXLAN_FLOOD;
}

/** How instance MACs on other nodes are found (learned unless it says static). */
export function vxlanMacsOf(state: Pick<AllocatedState, 'vxlanMacs'>): VxlanMacs {
  return state.vxlanMacs ?? DEFAULT_VXLAN_MACS;
}

const ZERO_MAC = '00:00:00:00:00:00';
type Instance = AllocatedState['instances'][number];
const addressOf = (underlay: string | undefined) => underlay?.split('/')[0];

/**
 * The instances of each group (by group key, in the state's order): one walk
 * over the instances for all groups, kept per instances array (a role plans
 * every group of a version from the same array).
 */
const byGroupMemo = new WeakMap<readonly AllocatedState['instances'][number][], Map<string, AllocatedState['instances'][number][]>>();
function instancesByGroup(state: AllocatedState): Map<string, AllocatedState['instances'][number][]> {
  const had = byGroupMemo.get(state.instances);
  if (had) return had;
  const out = new Map<string, AllocatedState['instances'][number][]>();
  for (const i of state.instances) {
    const list = out.get(i.group);
    if (list) list.push(i);
    else out.set(i.group, [i]);
  }
  byGroupMemo.set(state.instances, out);
  return out;
}

/** The groups of each node's instances, per instances array (a version's, asked by the agent for this version and again for the next). */
const carriedMemo = new WeakMap<readonly Instance[], Map<string, ReadonlySet<string>>>();

/** The groups node `node` carries (those of its instances), kept per instances array. */
export function carriedBy(instances: readonly Instance[], node: string): ReadonlySet<string> {
  let byNode = carriedMemo.get(instances);
  if (!byNode) carriedMemo.set(instances, (byNode = new Map<string, ReadonlySet<string>>()));
  let out = byNode.get(node);
  if (!out) {
    const set = new Set<string>();
    for (const i of instances) if (i.node === node) set.add(i.group);
    byNode.set(node, (out = set));
  }
  return out;
}

/** Records that node `node` carries `groups` in `instances` too (a caller that knows its own instances are those of a version already asked). */
export function carriedAlso(instances: readonly Instance[], node: string, groups: ReadonlySet<string>): void {
  let byNode = carriedMemo.get(instances);
  if (!byNode) carriedMemo.set(instances, (byNode = new Map<string, ReadonlySet<string>>()));
  if (!byNode.has(node)) byNode.set(node, groups);
}

/** The underlay address of each node of a cluster, by node name (one split per node, not per instance). */
function nodeAddresses(cluster: ClusterView): (node: string) => string | undefined {
  const memo = new Map<string, string | undefined>();
  return (node) => {
    if (!memo.has(node)) memo.set(node, addressOf(cluster.nodes[node]?.underlay));
    return memo.get(node);
  };
}

function peersOf(cluster: ClusterView, members: readonly { node: string }[], self: HostId, addr: (node: string) => string | undefined): string[] {
  const out: string[] = [];
  if (self.role !== 'cc') {
    const cc = addressOf(cluster.cc.underlay);
    if (cc) out.push(cc);
  }
  const nodes = new Set(members.map((i) => i.node));
  for (const n of [...nodes].sort()) {
    if (self.role === 'nc' && self.node === n) continue;
    const a = addr(n);
    if (a) out.push(a);
  }
  return out;
}

/** The underlay addresses of the hosts other than `self` that carry group `g`, the CC first, then nodes by name. */
export function groupPeers(state: AllocatedState, g: AllocatedGroup, self: HostId): string[] {
  const cluster = clusterOfHost(state, self);
  return peersOf(cluster, instancesByGroup(state).get(groupKey(g)) ?? [], self, nodeAddresses(cluster));
}

/**
 * The FDB of `self`'s VXLAN devices for `groups`: the flood lists, then, with
 * vxlanMacs "static", the other nodes' instance MACs (MAC -> its node's
 * underlay address); none with multicast flooding or another segmentation.
 */
export function floodEntries(state: AllocatedState, groups: readonly AllocatedGroup[], self: HostId, priv: string): FdbSpec[] {
  if (state.segmentation !== 'vxlan' || vxlanFloodOf(state) !== 'unicast') return [];
  // The last plan's entries, the same frozen array, when nothing they are
  // made of changed (a rule authorized, an address associated): the delta
  // between two versions then compares them by identity.
  const key = `${self.role === 'cc' ? `cc ${self.cluster ?? ''}` : `nc ${self.node}`} ${priv}`;
  const { groups: _g, instances, reservedIps: _r, ...rest } = state;
  const inputs = { ctx: JSON.stringify(rest), groups: groups.map((g) => `${groupKey(g)} ${g.vlan}`).join('\n'), instances };
  const had = fdbMemo.get(key);
  if (had && sameInputs(had.inputs, inputs)) return had.out;
  // Each group's entries, kept while the settings and hosts are the same (`ctx`): a version that adds or removes one instance makes its group's again only.
  const parts = had && had.inputs.ctx === inputs.ctx ? had.parts : new Map<string, GroupEntries>();
  const out = Object.freeze(makeFloodEntries(state, groups, self, priv, parts)) as FdbSpec[];
  fdbMemo.set(key, { inputs, out, parts });
  return out;
}

/** One group's entries on one host, and what they were made of: its device and its members (by identity). */
interface GroupEntries {
  dev: string;
  members: readonly Instance[];
  entries: readonly FdbSpec[];
}

const sameMembers = (a: readonly Instance[], b: readonly Instance[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

interface FloodInputs {
  ctx: string;
  groups: string;
  instances: readonly AllocatedState['instances'][number][];
}
/** Per host and private NIC (a process plans one or two roles): the last entries, what they were made of, and each group's part. */
const fdbMemo = new Map<string, { inputs: FloodInputs; out: FdbSpec[]; parts: Map<string, GroupEntries> }>();
const sameInputs = (a: FloodInputs, b: FloodInputs): boolean =>
  a.ctx === b.ctx && a.groups === b.groups && (a.instances === b.instances || sameMembers(a.instances, b.instances));

/**
 * The entries of every group, in order: a group whose device and members are
 * those `parts` holds (made with the same settings and hosts) keeps its
 * frozen entries, which the next delta compares by identity; the others are
 * made and put in `parts`.
 */
function makeFloodEntries(state: AllocatedState, groups: readonly AllocatedGroup[], self: HostId, priv: string, parts: Map<string, GroupEntries>): FdbSpec[] {
  const out: FdbSpec[] = [];
  const byGroup = instancesByGroup(state);
  const cluster = clusterOfHost(state, self);
  const addr = nodeAddresses(cluster);
  const macs = vxlanMacsOf(state) === 'static';
  const seen = new Set<string>();
  for (const g of groups) {
    const dev = segmentOf(state, g, priv);
    if (dev === undefined) continue;
    const key = groupKey(g);
    const members = byGroup.get(key) ?? [];
    let part = parts.get(key);
    // (Two groups of one key cannot be told apart by it: they are made each time.)
    if (!part || seen.has(key) || part.dev !== dev || !sameMembers(part.members, members)) {
      const entries: FdbSpec[] = [];
      for (const dst of peersOf(cluster, members, self, addr)) entries.push(Object.freeze({ dev, lladdr: ZERO_MAC, dst }));
      // With learned MACs (the default) the flood list is all a group's entries are.
      if (macs) addMacEntries(entries, dev, members, self, addr);
      part = { dev, members, entries };
      if (!seen.has(key)) parts.set(key, part);
    }
    seen.add(key);
    for (const e of part.entries) out.push(e);
  }
  // Groups gone since: their parts dropped.
  for (const k of parts.keys()) if (!seen.has(k)) parts.delete(k);
  return out;
}

/** Adds to `out` the static entries of a group's members on other nodes than `self`'s (vxlanMacs "static"): MAC -> its node's address. */
function addMacEntries(out: FdbSpec[], dev: string, members: readonly Instance[], self: HostId, addr: (node: string) => string | undefined): void {
  for (const i of members) {
    if (self.role === 'nc' && self.node === i.node) continue;
    const dst = addr(i.node);
    if (dst) out.push(Object.freeze({ dev, lladdr: i.mac, dst }));
  }
}

/** FDB entries to add and to delete. */
export interface FdbChange {
  add: FdbSpec[];
  del: FdbSpec[];
}

/**
 * What the FDB of `host` (a node by name, or the CC; floodEntries of the
 * groups it carries) gains and loses from `prev` to `next` when they differ
 * for it only by `touched`: instances of those groups on other nodes
 * (relevance.ts versionChange: the same settings, its own instances and
 * carried groups; for the CC, which carries every group, the same settings
 * and groups; a superset of the changed instances is fine). Only the entries those instances make can
 * change: a flood list entry (device, zeros, their node's address) and, with
 * vxlanMacs "static", a MAC entry (device, MAC, that address), each looked up in both versions (one
 * walk of each), so two instances with one MAC, or two nodes with one
 * address, are counted right. Undefined unless VXLAN with unicast flooding
 * (the entries of other segmentations are planned in full), or when a touched
 * instance's group is not in `next`. Pure.
 */
export function floodChange(prev: AllocatedState, next: AllocatedState, host: string | HostId, touched: readonly Instance[]): FdbChange | undefined {
  if (next.segmentation !== 'vxlan' || vxlanFloodOf(next) !== 'unicast') return undefined;
  const self: HostId = typeof host === 'string' ? { role: 'nc', node: host } : host;
  // The CC carries every group, and no instance is its own ("" is no node's name).
  const node = self.role === 'nc' ? self.node : '';
  const cluster = clusterOfHost(next, self);
  const addr = nodeAddresses(cluster);
  const cc = addressOf(cluster.cc.underlay);
  const macs = vxlanMacsOf(next) === 'static';
  // The device of each carried group (a group's device is `eucavx<vlan>`: two groups may share one).
  const devs = new Map<string, string>();
  for (const g of next.groups) devs.set(groupKey(g), segmentOf(next, g, '') as string);
  // The entries the touched instances make, by "device|MAC|address" (MAC "" for the flood list).
  const keys = new Map<string, FdbSpec>();
  const addrs = new Set<string>();
  for (const i of touched) {
    const dev = devs.get(i.group);
    if (dev === undefined) return undefined;
    const dst = i.node === node ? undefined : addr(i.node);
    if (dst === undefined) continue;
    addrs.add(dst);
    if (macs) keys.set(`${dev}|${i.mac}|${dst}`, { dev, lladdr: i.mac, dst });
    // (A node always floods to the CC: that entry is not the instances'.)
    if (self.role === 'cc' || dst !== cc) keys.set(`${dev}||${dst}`, { dev, lladdr: ZERO_MAC, dst });
  }
  // The groups it carries: those of its own instances (the same in both versions); the CC's: all.
  const carried = self.role === 'cc' ? new Set(devs.keys()) : carriedBy(next.instances, node);
  const was = presentOf(prev, node, carried, devs, addr, addrs, keys);
  const now = presentOf(next, node, carried, devs, addr, addrs, keys);
  const out: FdbChange = { add: [], del: [] };
  for (const [k, spec] of keys) {
    if (was.has(k) && !now.has(k)) out.del.push(spec);
    else if (!was.has(k) && now.has(k)) out.add.push(spec);
  }
  return out;
}

/** Which of `keys` a version's instances make (floodEntries' rules: instances on other nodes of the carried groups, with an address). */
function presentOf(
  state: AllocatedState,
  node: string,
  carried: ReadonlySet<string>,
  devs: ReadonlyMap<string, string>,
  addr: (node: string) => string | undefined,
  addrs: ReadonlySet<string>,
  keys: ReadonlyMap<string, FdbSpec>,
): Set<string> {
  const out = new Set<string>();
  // Only the members of the carried groups on a touched device (the groups' index is kept per instances array).
  const touched = new Set<string>();
  for (const spec of keys.values()) touched.add(String(spec.dev));
  const byGroup = instancesByGroup(state);
  for (const g of carried) {
    if (touched.has(devs.get(g) as string)) for (const i of byGroup.get(g) ?? []) present(i, g);
  }
  return out;

  function present(i: Instance, g: string): void {
    if (i.node === node) return;
    const dst = addr(i.node);
    if (dst === undefined || !addrs.has(dst)) return;
    const dev = devs.get(g);
    const k = `${dev}|${i.mac}|${dst}`;
    if (keys.has(k)) out.add(k);
    const f = `${dev}||${dst}`;
    if (keys.has(f)) out.add(f);
  }
}
