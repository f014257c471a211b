// Which new state versions concern a host. Most versions of a big cloud do
// not concern most node controllers: an authorize or revoke changes only the
// CC's firewall, a run-instance only its node, the CC and the nodes carrying
// its group (VXLAN flood lists). planMayChange() tells, from the version
// applied and the new one (both allocated: unchanged objects are the same
// objects, so the walk is mostly identity checks), whether the role's plan
// (roles/index.ts planRole) can differ. It is exact one way: `false` only
// when the plan is proven the same; `true` ("maybe") when unsure. The agent
// then records a `false` version as applied without planning or touching the
// kernel. What an NC's plan reads (roles/index.ts planNc, segments.ts,
// flood.ts, antispoof.ts):
// - every setting (mode, segmentation, subnet, nodes, cc, clusters, ...) but
//   the public pool and the reserved addresses, which only the CC reads;
// - its own instances, in order, but not their public addresses (ports,
//   anti-spoofing sets);
// - the groups of those instances, in order, but not their rules (the CC's firewall);
// - with VXLAN unicast flooding (or `auto`, which may resolve to it), the
//   group, node and MAC of every instance of those groups, in order (flood
//   lists and, with vxlanMacs "static", MAC entries; with "learn", the
//   default, the flood lists read only which nodes carry each group);
// - without segmentation (one shared bridge), every instance's MAC, in order.
// versionChange() says the same and one thing more: a version whose only
// difference for a node is the instances of its groups on other nodes (the
// last item: a run-instance, terminate or move elsewhere in a group it
// carries), with those instances, whose FDB entries the agent then sends
// alone (peer-sync.ts; roles/flood.ts floodChange); with learned MACs such a
// version is the same plan unless a node gained its first instance of a group
// the node carries or lost its last (the flood lists). To a CC, whose plan reads
// nearly everything, it says `instances` for a version that differs only by
// instances added or removed without a public address (cc-sync.ts), and
// `rules` for one that differs only by some groups' ingress rules (an
// authorize, a revoke: cc-rules-sync.ts).
import type { Role } from '../managed/roles/index.js';
import { carriedAlso, carriedBy, vxlanFloodOf, vxlanMacsOf } from '../managed/roles/flood.js';
import { groupKey, type AllocatedGroup, type AllocatedInstance, type AllocatedState } from '../managed/types.js';

/** Top-level keys an NC's plan does not read (only the CC's NAT and DHCP do). */
const NC_UNREAD = new Set(['groups', 'instances', 'publicIps', 'reservedIps']);

/** Structural equality of JSON values (same keys, same order of array items). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Equal settings (every top-level key but `skip`). */
function sameSettings(a: AllocatedState, b: AllocatedState, skip: Set<string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (skip.has(k)) continue;
    if (!sameJson((a as unknown as Record<string, unknown>)[k], (b as unknown as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** The items of `xs` that `keep`, in order. */
function pick<T>(xs: readonly T[], keep: (x: T) => boolean): T[] {
  const out: T[] = [];
  for (const x of xs) if (keep(x)) out.push(x);
  return out;
}

/** Two lists equal item by item under `eq` (same objects are equal at once). */
function sameList<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !eq(a[i], b[i])) return false;
  return true;
}

/** A group but its rules: all an NC's plan reads of it (the rules are the CC's firewall). */
const sameGroupButRules = (x: AllocatedGroup, y: AllocatedGroup) => sameJson({ ...x, rules: 0 }, { ...y, rules: 0 });

/** An instance as its own node's plan reads it: everything but its public address (the CC's NAT). */
const sameOwnForNc = (x: AllocatedInstance, y: AllocatedInstance) => sameJson({ ...x, publicIp: 0 }, { ...y, publicIp: 0 });

/** An instance as another node's flood list (or, without segmentation, the group MAC sets) reads it. */
const samePeer = (x: AllocatedInstance, y: AllocatedInstance) => x.group === y.group && x.node === y.node && x.mac === y.mac;

/** Which other instances an NC's plan reads: none, those of the groups it carries (VXLAN unicast flood lists), or all (one shared bridge). */
type Peers = 'none' | 'group' | 'all';

/** What an NC's plan reads of the instances, for one node. */
interface Reads {
  node: string;
  hosted: ReadonlySet<string>;
  peers: Peers;
}

/** One instance's pair (before, after) at the same place: equal as the node reads them. */
function samePair(x: AllocatedInstance, y: AllocatedInstance, r: Reads): boolean {
  if (x === y) return true;
  const mx = x.node === r.node;
  if (mx !== (y.node === r.node)) return false;
  if (mx && !sameOwnForNc(x, y)) return false;
  if (r.peers === 'all') return samePeer(x, y);
  if (r.peers === 'group') {
    const gx = r.hosted.has(x.group);
    if (gx !== r.hosted.has(y.group)) return false;
    return !gx || samePeer(x, y);
  }
  return true;
}

/** The instances as the node reads them are the same in both lists. */
function sameInstances(a: readonly AllocatedInstance[], b: readonly AllocatedInstance[], r: Reads): boolean {
  // As many instances (an authorize, an association, a change elsewhere): pair
  // them by place, mostly the same objects. (A pair that differs only by
  // place is a maybe: allowed.)
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (!samePair(a[i], b[i], r)) return false;
    return true;
  }
  const mine = (i: AllocatedInstance) => i.node === r.node;
  if (!sameList(pick(a, mine), pick(b, mine), sameOwnForNc)) return false;
  if (r.peers === 'all') return sameList(a, b, samePeer);
  if (r.peers === 'group') {
    const member = (i: AllocatedInstance) => r.hosted.has(i.group);
    return sameList(pick(a, member), pick(b, member), samePeer);
  }
  return true;
}

/** What the node reads of the instances, or undefined when its carried groups (as it reads them) differ. */
function readsOf(prev: AllocatedState, next: AllocatedState, node: string): Reads | undefined {
  // The groups it carries (the same in both when its own instances are).
  const hosted = carriedBy(prev.instances, node);
  const seg = next.segmentation;
  const unicast = (seg === 'vxlan' || seg === 'auto') && vxlanFloodOf(next) === 'unicast';
  const peers: Peers = !hosted.size ? 'none' : seg === 'none' ? 'all' : unicast ? 'group' : 'none';
  if (!hosted.size) return { node, hosted, peers };
  const carried = (g: AllocatedGroup) => hosted.has(groupKey(g));
  return sameList(pick(prev.groups, carried), pick(next.groups, carried), sameGroupButRules) ? { node, hosted, peers } : undefined;
}

/**
 * Whether the plan of `role` for `next` may differ from its plan for `prev`
 * (both allocated, as the agent applies them). `false` is a proof that
 * planRole(prev, role) and planRole(next, role) are equal; `true` means
 * maybe. A cluster controller reads nearly everything: any change is a maybe.
 */
export function planMayChange(prev: AllocatedState, next: AllocatedState, role: Role): boolean {
  if (prev === next) return false;
  if (role.role === 'cc') return true;
  if (!sameSettings(prev, next, NC_UNREAD)) return true;
  const r = readsOf(prev, next, role.node);
  return !r || (prev.instances !== next.instances && !sameInstances(prev.instances, next.instances, r));
}

/** Instances of the groups a node carries, on other nodes: those of one version that the other lacks (a superset of them is allowed). */
export interface PeerChange {
  removed: AllocatedInstance[];
  added: AllocatedInstance[];
}

/**
 * What a new version is to a node: the same plan (`same`, as planMayChange's
 * false); a plan that differs only by other nodes' instances of the groups it
 * carries with VXLAN unicast flooding (`peers`: at most `max` of them, which
 * only its VXLAN devices' FDB reads: roles/flood.ts floodChange); one whose
 * own instances differ too, with VLAN or VXLAN segments (`own`: its own
 * instances and the others of the groups it carries that differ, at most
 * `max`: managed/nc-instances.ts, which declines when the groups it carries
 * change); to a CC, `instances` or `rules` (ccChange); or `maybe`.
 */
export type VersionChange =
  | { kind: 'same' }
  | { kind: 'peers'; peers: PeerChange }
  | { kind: 'instances'; instances: PeerChange }
  | { kind: 'rules'; groups: AllocatedGroup[] }
  | { kind: 'own'; instances: PeerChange }
  | { kind: 'maybe' };

const SAME: VersionChange = { kind: 'same' };
const MAYBE: VersionChange = { kind: 'maybe' };

export function versionChange(prev: AllocatedState, next: AllocatedState, role: Role, max = 64): VersionChange {
  if (prev === next) return SAME;
  if (role.role === 'cc') return ccChange(prev, next, max);
  if (!sameSettings(prev, next, NC_UNREAD)) return MAYBE;
  const r = readsOf(prev, next, role.node);
  if (!r) return MAYBE;
  if (prev.instances === next.instances) return SAME;
  if (r.peers !== 'group') return sameInstances(prev.instances, next.instances, r) ? carried(next, r, SAME) : ownDiff(prev, next, r, max);
  const ch = peerDiff(prev.instances, next.instances, r, max);
  if (!ch) return ownDiff(prev, next, r, max);
  const flood = ch.removed.length || ch.added.length ? vxlanMacsOf(next) === 'static' || !sameCarriers(prev, next, ch) : false;
  return carried(next, r, flood ? { kind: 'peers', peers: ch } : SAME);
}

/**
 * Whether every node of the changed instances carries their groups in both
 * versions or in neither (learned MACs: the flood lists, all that other
 * nodes' instances make in a plan, are then the same).
 */
function sameCarriers(prev: AllocatedState, next: AllocatedState, ch: PeerChange): boolean {
  for (const i of [...ch.removed, ...ch.added]) {
    if (carriedBy(prev.instances, i.node).has(i.group) !== carriedBy(next.instances, i.node).has(i.group)) return false;
  }
  return true;
}

/** The top-level lists a CC's plan may differ by alone: its instances (cc-sync.ts), its groups' rules (cc-rules-sync.ts). */
const CC_LISTS = new Set(['instances', 'groups']);

/**
 * What a new version is to a CC: the same settings and, either, the same
 * groups (with their rules) and instances only added or removed (a
 * run-instance, a terminate; a changed one is both), at most `max` of them,
 * none with a public address (its address, NAT map elements and conntrack
 * step are left to the full plan): `instances` (cc-sync.ts); or the same
 * instances and groups that differ only by their rules (an authorize, a
 * revoke): `rules`, with those groups (cc-rules-sync.ts). The CC's plan reads
 * instances only for its VXLAN FDB, its public addresses and NAT maps, and
 * its DHCP hosts; a group's rules only for the group's own chain.
 */
function ccChange(prev: AllocatedState, next: AllocatedState, max: number): VersionChange {
  if (!sameSettings(prev, next, CC_LISTS)) return MAYBE;
  const rules = rulesChange(prev.groups, next.groups);
  if (!rules) return MAYBE;
  const instances = ccInstances(prev.instances, next.instances, max);
  if (!rules.length) return instances;
  return instances === SAME ? { kind: 'rules', groups: rules } : MAYBE;
}

/** The groups of `b` whose rules differ from `a`'s, pairing them by place; undefined when anything else about them differs. */
function rulesChange(a: readonly AllocatedGroup[], b: readonly AllocatedGroup[]): AllocatedGroup[] | undefined {
  if (a === b) return [];
  if (a.length !== b.length) return undefined;
  const out: AllocatedGroup[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!sameGroupButRules(x, y)) return undefined;
    if (!sameJson(x.rules, y.rules)) out.push(y);
  }
  return out;
}

/** The instances of a CC's version: the same, changed only by additions and removals without a public address (at most `max`), or a maybe. */
function ccInstances(a: readonly AllocatedInstance[], b: readonly AllocatedInstance[], max: number): VersionChange {
  if (a === b) return SAME;
  // The common head and tail (mostly the same objects: allocation keeps unchanged ones) are skipped.
  const same = (x: AllocatedInstance, y: AllocatedInstance) => x === y || sameJson(x, y);
  let head = 0;
  while (head < a.length && head < b.length && same(a[head], b[head])) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a[a.length - 1 - tail], b[b.length - 1 - tail])) tail++;
  const removed = a.slice(head, a.length - tail);
  const added = b.slice(head, b.length - tail);
  if (!removed.length && !added.length) return SAME;
  if (removed.length + added.length > max) return MAYBE;
  for (const i of removed) if (i.publicIp !== undefined) return MAYBE;
  for (const i of added) if (i.publicIp !== undefined) return MAYBE;
  return { kind: 'instances', instances: { removed, added } };
}

/** `v`, a version whose own instances for the node are those of the last: the groups it carries are noted for the next version's question (no walk of its instances then). */
function carried(next: AllocatedState, r: Reads, v: VersionChange): VersionChange {
  carriedAlso(next.instances, r.node, r.hosted);
  return v;
}

/**
 * The carried groups' instances on other nodes that differ (group mode),
 * or undefined when the node's own instances differ or more than `max` do.
 * Same lengths: pairs by place; else the common head and tail (equal as the
 * node reads them) are skipped and the rest compared: its own instances there
 * must be equal in order, the carried others are the change.
 */
function peerDiff(a: readonly AllocatedInstance[], b: readonly AllocatedInstance[], r: Reads, max: number): PeerChange | undefined {
  const out: PeerChange = { removed: [], added: [] };
  const other = (i: AllocatedInstance) => i.node !== r.node && r.hosted.has(i.group);
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x === y || samePair(x, y, r)) continue;
      if (x.node === r.node || y.node === r.node) return undefined;
      if (other(x)) out.removed.push(x);
      if (other(y)) out.added.push(y);
      if (out.removed.length + out.added.length > max) return undefined;
    }
    return out;
  }
  let head = 0;
  while (head < a.length && head < b.length && (a[head] === b[head] || samePair(a[head], b[head], r))) head++;
  let tail = 0;
  const eqTail = (k: number) => a[a.length - 1 - k] === b[b.length - 1 - k] || samePair(a[a.length - 1 - k], b[b.length - 1 - k], r);
  while (tail < a.length - head && tail < b.length - head && eqTail(tail)) tail++;
  const mine: AllocatedInstance[][] = [[], []];
  for (const [k, xs, into] of [
    [0, a, out.removed],
    [1, b, out.added],
  ] as const) {
    for (let i = head; i < xs.length - tail; i++) {
      const x = xs[i];
      if (x.node === r.node) mine[k].push(x);
      else if (other(x)) into.push(x);
    }
  }
  if (out.removed.length + out.added.length > max || !sameList(mine[0], mine[1], sameOwnForNc)) return undefined;
  return out;
}

/**
 * A version whose instances of node `r.node` differ (`own`), with VLAN or
 * VXLAN segments (without, its table reads every instance's MAC), or MAYBE:
 * the common head and tail (equal as the node reads them) are skipped, and of
 * the rest, its own instances and the others of the groups it carries are the
 * change (an instance changed in place is in both lists).
 */
function ownDiff(prev: AllocatedState, next: AllocatedState, r: Reads, max: number): VersionChange {
  if (next.segmentation !== 'vlan' && next.segmentation !== 'vxlan') return MAYBE;
  const a = prev.instances;
  const b = next.instances;
  const same = (i: number, j: number) => a[i] === b[j] || samePair(a[i], b[j], r);
  let head = 0;
  while (head < a.length && head < b.length && same(head, head)) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && same(a.length - 1 - tail, b.length - 1 - tail)) tail++;
  const out: PeerChange = { removed: [], added: [] };
  const touched = (i: AllocatedInstance) => i.node === r.node || r.hosted.has(i.group);
  for (let i = head; i < a.length - tail; i++) if (touched(a[i])) out.removed.push(a[i]);
  for (let i = head; i < b.length - tail; i++) if (touched(b[i])) out.added.push(b[i]);
  if (out.removed.length + out.added.length > max) return MAYBE;
  return { kind: 'own', instances: out };
}
