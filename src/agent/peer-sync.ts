// The NC agent's peer-only sync. A version that differs for a node only by
// other nodes' instances of the groups it carries (relevance.ts
// versionChange: a run-instance, terminate or move elsewhere in one of its
// groups) changes only its VXLAN devices' FDB: a flood list entry when a node
// starts or stops carrying the group, and with vxlanMacs "static" a MAC entry
// (roles/flood.ts; with learned MACs, the default, only the flood list
// changes reach here). Those entries are computed from the changed instances
// (floodChange) and sent as they are: no plan of the whole role, no delta of
// thousands of entries, no FDB read back. The desired state kept for the next
// sync is the last one with its FDB patched (tx/delta.ts patchFdb), as the
// full plan would make it. A failure (an entry already there, or gone) is
// rolled back like any commit, and the agent falls back to a full reconcile.
// The VXLAN devices' ifindexes are looked up once and then given to the next
// peer syncs (the agent keeps them while no link event names them: its
// KnownInterfaces), so that a peer sync is one FDB request, no lookup before it.
import type { Handle } from '../handle.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import { floodChange, type FdbChange } from '../managed/roles/flood.js';
import type { AllocatedState } from '../managed/types.js';
import type { Delta } from '../tx/delta.js';
import { fdbOnlyDelta, patchFdb } from '../tx/fdb-delta.js';
import type { DesiredState } from '../tx/desired.js';
import { fdbOps } from '../tx/partial.js';
import type { PeerChange } from './relevance.js';

export interface PeerSync {
  /** The desired state now applied: the last one with the FDB change made. */
  desired: DesiredState;
  delta: Delta;
  /** Ops sent. */
  ops: number;
  /** For the next incremental sync. */
  snapshot: AppliedSnapshot;
  /** `known` with the devices this sync looked up (name -> ifindex). */
  known: ReadonlyMap<string, number>;
}

/**
 * Applies a peer-only version to node `node`, whose last sync applied `prev`
 * with `snapshot`. Undefined when the change is not one floodChange computes
 * (another segmentation or flooding): the caller plans in full.
 */
export async function syncPeers(
  h: Handle,
  snapshot: AppliedSnapshot,
  prev: AllocatedState,
  next: AllocatedState,
  node: string,
  peers: PeerChange,
  known: ReadonlyMap<string, number> = new Map(),
): Promise<PeerSync | undefined> {
  const change = floodChange(prev, next, node, [...peers.removed, ...peers.added]);
  if (!change) return undefined;
  const delta = fdbOnlyDelta(change);
  if (!delta.fdb) return { desired: snapshot.desired, delta, ops: 0, snapshot, known };
  const ifindexes = await devicesOf(h, change, known);
  const tx = h.transaction();
  for (const op of fdbOps(change)) tx.add(op);
  // The FDB ops name only the VXLAN devices, known by now: not every link dumped, none looked up again.
  await tx.commit({ lookup: true, ifindexes });
  const desired: DesiredState = { ...snapshot.desired, fdb: patchFdb(snapshot.desired.fdb ?? [], change) };
  return { desired, delta, ops: tx.ops.length, snapshot: { ...snapshot, desired }, known: ifindexes };
}

/** `known` and the ifindex of each device of `change` it lacks (asked of the kernel; one that does not exist is left to the commit's lookup, which names it). */
async function devicesOf(h: Handle, change: FdbChange, known: ReadonlyMap<string, number>): Promise<ReadonlyMap<string, number>> {
  const missing = new Set<string>();
  for (const e of [...change.add, ...change.del]) if (typeof e.dev === 'string' && !known.has(e.dev)) missing.add(e.dev);
  if (!missing.size) return known;
  const out = new Map(known);
  for (const name of missing) {
    const link = await h.links.get(name);
    if (link) out.set(name, link.index);
  }
  return out;
}
