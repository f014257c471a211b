// A node's plan after a version that adds or removes instances of its own
// (agent/relevance.ts versionChange `own`: a run-instance or terminate on this
// node), with the groups it carries unchanged, with VLAN or VXLAN segments.
// Such a version changes only three parts of planNc's desired state: the
// instances' ports (a tap each, in its group's bridge), the three
// anti-spoofing sets (roles/antispoof.ts ncSets), and, with VXLAN unicast
// flooding, the FDB entries of other nodes' instances of its groups changed
// in the same version (roles/flood.ts floodChange). Those are made from the
// node's instances in the new version and the last apply's snapshot, not by
// planning the whole role (whose VXLAN flood lists walk every instance of its
// groups): the bridges, segment devices, underlay address, chains and rules
// are the last plan's, which depend on the carried groups and the settings
// alone. Without segmentation (one shared bridge) the node's table also reads
// every instance's MAC: a full plan. Pure.
import type { DesiredState } from '../tx/desired.js';
import { patchFdb } from '../tx/fdb-delta.js';
import type { AppliedSnapshot } from './apply-snapshot.js';
import { carriedAlso, carriedBy, floodChange, vxlanFloodOf, type FdbChange } from './roles/flood.js';
import { bridgeOf, instancePort, instancesOn, ncSets } from './roles/index.js';
import { groupKey, type AllocatedInstance, type AllocatedState } from './types.js';

export interface NcInstanceChange {
  /** The FDB entries to add and delete (other nodes' instances among the touched ones). */
  fdb: FdbChange;
  /** The last desired state with the node's ports, set elements and FDB as the full plan of `next` makes them. */
  desired: DesiredState;
}

/**
 * What node `node` changes from `prev` (applied with `snapshot`) to `next`,
 * which differ for it only by `touched` (its own instances added or removed,
 * and other nodes' instances of its groups), or undefined when a full plan
 * is needed: segmentation `none` or `auto`, no anti-spoofing table in the
 * snapshot, or a group it starts or stops carrying (its bridge and segment
 * device come or go).
 */
export function ncInstanceChange(
  snapshot: AppliedSnapshot,
  prev: AllocatedState,
  next: AllocatedState,
  node: string,
  touched: readonly AllocatedInstance[],
): NcInstanceChange | undefined {
  if (next.segmentation !== 'vlan' && next.segmentation !== 'vxlan') return undefined;
  const last = snapshot.desired;
  if (!last.nft) return undefined;
  const here = instancesOn(next, node);
  const carried = carriedBy(prev.instances, node);
  const now = new Set(here.map((i) => i.group));
  if (now.size !== carried.size || [...now].some((g) => !carried.has(g))) return undefined;
  // (floodChange asks which groups the node carries in `next`: the same, no walk.)
  carriedAlso(next.instances, node, carried);
  const bridges = new Map<string, string>();
  for (const g of next.groups) if (carried.has(groupKey(g))) bridges.set(groupKey(g), bridgeOf(next, g));
  if (bridges.size !== carried.size) return undefined;
  // (Other segmentations and multicast flooding give a node no FDB entry of an instance.)
  const unicast = next.segmentation === 'vxlan' && vxlanFloodOf(next) === 'unicast';
  // Its own instances make no entry of its own: with none of another node touched, none changes (no walk of the groups' members).
  const others = touched.filter((i) => i.node !== node);
  const fdb = unicast && others.length ? floodChange(prev, next, node, others) : { add: [], del: [] };
  if (!fdb) return undefined;
  // planNc's ports: the segments' (the private NIC's, no tap) first, then one per instance, in order.
  const ports = (last.ports ?? []).filter((p) => !p.tap);
  for (const i of here) ports.push(instancePort(i, bridges.get(i.group) as string));
  const desired: DesiredState = { ...last, ports, nft: { ...last.nft, sets: ncSets(here) } };
  if (fdb.add.length || fdb.del.length) desired.fdb = patchFdb(last.fdb ?? [], fdb);
  return { fdb, desired };
}
