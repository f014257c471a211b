// A node's VXLAN FDB entries (flood.ts floodEntries) as counts, carried from
// one version to the next by the changed instances alone: the NC agent's
// peer-only sync (agent/peer-sync.ts) then costs what changed, not a walk of
// the cloud's thousands of instances per version (issue 17: every NC
// carrying a group hears every run-instance and terminate in it).
//
// For node N, each instance of a group N carries, on another node with an
// underlay address A in N's cluster, makes two entries on its group's device
// D: its static MAC (D, MAC, A) and A's flood list entry (D, zeros, A; none
// for the CC's address, always listed). An entry is in N's FDB while at
// least one instance makes it, so the index counts the makers of each entry.
// The counts of a version are built once (one walk of the carried groups'
// members) and then moved to the next version: minus the instances removed,
// plus those added. Pure but for that cache, kept per state object (a state
// is never changed), so a version's counts are only ever its own.
import type { FdbSpec } from '../../rtnl/fdb.js';
import { groupKey, type AllocatedState } from '../types.js';
import { addressOf, carriedAlso, carriedBy, clusterOfHost, instancesByGroup, nodeAddresses, vxlanFloodOf, ZERO_MAC, type FdbChange } from './flood.js';
import { segmentOf } from './names.js';

type Instance = AllocatedState['instances'][number];

/** The other nodes' instances of the carried groups that one version has and the other lacks: prev's minus `removed` equal next's minus `added` (as multisets). */
export interface InstanceChange {
  removed: readonly Instance[];
  added: readonly Instance[];
}

/** One node's entries of one version, as counts of their makers. */
interface Counts {
  carried: ReadonlySet<string>;
  /** The device of each group (by group key). */
  devs: Map<string, string>;
  addr: (node: string) => string | undefined;
  cc: string | undefined;
  /** "device|MAC|address" (MAC "" for the flood list) -> how many instances make it. */
  n: Map<string, number>;
}

const memo = new WeakMap<AllocatedState, Map<string, Counts>>();

/** The entries instance `i` makes for node `node` (key and spec), none when it is the node's own or has no address. */
function entriesOf(c: Counts, node: string, i: Instance): [string, FdbSpec][] | undefined {
  const dev = c.devs.get(i.group);
  if (dev === undefined) return undefined;
  const dst = i.node === node ? undefined : c.addr(i.node);
  if (dst === undefined) return [];
  const out: [string, FdbSpec][] = [[`${dev}|${i.mac}|${dst}`, { dev, lladdr: i.mac, dst }]];
  if (dst !== c.cc) out.push([`${dev}||${dst}`, { dev, lladdr: ZERO_MAC, dst }]);
  return out;
}

/** The counts of `state` for `node`: one walk of the members of the groups it carries. */
function countsOf(state: AllocatedState, node: string): Counts {
  const cluster = clusterOfHost(state, { role: 'nc', node });
  const devs = new Map<string, string>();
  for (const g of state.groups) devs.set(groupKey(g), segmentOf(state, g, '') as string);
  const c: Counts = { carried: carriedBy(state.instances, node), devs, addr: nodeAddresses(cluster), cc: addressOf(cluster.cc.underlay), n: new Map() };
  const byGroup = instancesByGroup(state);
  for (const g of c.carried) {
    if (!devs.has(g)) continue;
    for (const i of byGroup.get(g) ?? []) for (const [k] of entriesOf(c, node, i) ?? []) c.n.set(k, (c.n.get(k) ?? 0) + 1);
  }
  return c;
}

/** The counts of `state` for `node`, taken out of the cache (they are about to become the next version's), or built. */
function take(state: AllocatedState, node: string): Counts {
  const byNode = memo.get(state);
  const had = byNode?.get(node);
  if (had) {
    byNode?.delete(node);
    return had;
  }
  return countsOf(state, node);
}

function keep(state: AllocatedState, node: string, c: Counts): void {
  let byNode = memo.get(state);
  if (!byNode) memo.set(state, (byNode = new Map<string, Counts>()));
  byNode.set(node, c);
}

/**
 * floodChange (flood.ts) at the cost of the change: what node `node`'s FDB
 * gains and loses from `prev` to `next` when they differ for it only by
 * `change` (relevance.ts versionChange's peers: the same settings, its own
 * instances and carried groups). The same entries, in the same order, as
 * floodChange of the removed then added instances. Undefined where
 * floodChange is, and when the counts disagree with `change` (an instance
 * removed that no count holds): the caller then plans in full.
 */
export function floodDiff(prev: AllocatedState, next: AllocatedState, node: string, change: InstanceChange): FdbChange | undefined {
  if (next.segmentation !== 'vxlan' || vxlanFloodOf(next) !== 'unicast') return undefined;
  const c = take(prev, node);
  const keys = new Map<string, { spec: FdbSpec; was: boolean }>();
  const moves: [string, number][] = [];
  for (const [list, by] of [
    [change.removed, -1],
    [change.added, 1],
  ] as const) {
    for (const i of list) {
      const es = entriesOf(c, node, i);
      if (!es) return void keep(prev, node, c);
      for (const [k, spec] of es) {
        if (!keys.has(k)) keys.set(k, { spec, was: (c.n.get(k) ?? 0) > 0 });
        moves.push([k, by]);
      }
    }
  }
  // The counts become next's (prev's are not kept: a later sync from prev builds them again).
  for (const [k, by] of moves) c.n.set(k, (c.n.get(k) ?? 0) + by);
  const out: FdbChange = { add: [], del: [] };
  for (const [k, { spec, was }] of keys) {
    const n = c.n.get(k) ?? 0;
    if (n < 0) return undefined;
    if (n === 0) c.n.delete(k);
    if (was && n === 0) out.del.push(spec);
    else if (!was && n > 0) out.add.push(spec);
  }
  keep(next, node, c);
  // Its own instances are the same in both: so are the groups it carries.
  carriedAlso(next.instances, node, c.carried);
  return out;
}
