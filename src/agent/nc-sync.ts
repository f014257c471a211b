// The NC agent's own-instance sync, the node's twin of cc-sync.ts. A version
// that adds or removes instances of this node (relevance.ts versionChange
// `own`: a run-instance, a terminate here) changes only their ports, the
// anti-spoofing sets' elements, and the FDB entries of other nodes' instances
// changed with them (managed/nc-instances.ts). The new desired state is made
// from the node's instances and the last snapshot, with no preflight and no
// plan of the whole role; what differs (the ports, the set elements: a delta
// over the node's few ports and sets, the FDB from the change) is planned by
// the incremental reconcile (tx/partial.ts) as the usual sync plans it, but
// asked about the changed ports and their bridges alone, not every link the
// role has. A terminated instance's tap is released in the commit (out of
// its bridge, down) and deleted after the sync is reported (the deletion
// waits 10 to 30 ms for the kernel: agent.ts). A failure is rolled back like
// any commit, and the agent falls back to a full reconcile.
import type { Handle } from '../handle.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import { ncInstanceChange } from '../managed/nc-instances.js';
import { checkRoleConflict, ownerNames } from '../managed/ownership.js';
import { roleScope } from '../managed/roles/index.js';
import type { AllocatedState } from '../managed/types.js';
import { deltaOf, type Delta } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';
import { reconcile } from '../tx/reconcile.js';
import { phase } from '../util/phases.js';
import type { PeerChange } from './relevance.js';

export interface NcSync {
  /** The desired state now applied: as the full plan of the version makes it. */
  desired: DesiredState;
  delta: Delta;
  /** Ops sent. */
  ops: number;
  /** For the next incremental sync. */
  snapshot: AppliedSnapshot;
  /** The taps of terminated instances, released in the commit (out of their bridge, down), to delete after the sync is reported (tx/reconcile.ts deleteReleased). */
  released?: string[];
}

/**
 * Applies an own-instance version to node `node`, whose last sync applied
 * `prev` with `snapshot`. Undefined when the change is not one
 * ncInstanceChange makes, or when it would touch more than the ports, set
 * elements and FDB (the caller plans in full). A rehearsal (`rehearse`: the
 * agent's warm-up) plans as far as the commit and stops there: nothing sent.
 */
export async function syncNcInstances(
  h: Handle,
  snapshot: AppliedSnapshot,
  prev: AllocatedState,
  next: AllocatedState,
  node: string,
  change: PeerChange,
  rehearse = false,
): Promise<NcSync | undefined> {
  const c = ncInstanceChange(snapshot, prev, next, node, [...change.removed, ...change.added]);
  if (!c) return undefined;
  const last = snapshot.desired;
  // The FDB's change is known: the delta compares the rest (a node's ports and sets are few).
  const patched = c.desired.fdb !== last.fdb;
  const d = deltaOf(last, patched ? { ...c.desired, fdb: last.fdb } : c.desired);
  if (d.links || d.addresses || d.routes || d.sysctls.length || d.nft.whole || d.nft.chains.size) return undefined;
  const fdb = c.fdb.add.length + c.fdb.del.length > 0;
  // No link but the changed ports may be removed.
  const delta: Delta = { ...d, linkNames: new Set(), fdb, ...(fdb ? { fdbChange: c.fdb } : {}) };
  phase('plan');
  // Only the changed ports are asked about (and, through them, their bridges).
  const want: DesiredState = { ...c.desired, links: [], ports: (c.desired.ports ?? []).filter((p) => delta.ports.has(p.name)) };
  const out = { desired: c.desired, delta, ops: 0, snapshot: { ...snapshot, desired: c.desired } };
  try {
    const r = await reconcile(h, want, {
      scope: roleScope('nc'),
      ...ownerNames,
      only: delta,
      // A terminated instance's tap: released in the commit, deleted once the sync is reported (its deletion waits for the kernel).
      releaseTaps: true,
      onPlan: (p) => {
        checkRoleConflict('nc', p, false);
        if (rehearse) throw new Rehearsed();
      },
    });
    return { ...out, ops: r.ops, ...(r.plan.released ? { released: r.plan.released } : {}) };
  } catch (err) {
    if (err instanceof Rehearsed) return out;
    throw err;
  }
}

/** Stops a rehearsal (the agent's warm-up: `rehearse`) before its commit: nothing is sent. */
class Rehearsed extends Error {
  constructor() {
    super('rehearsal: stopped before the commit');
  }
}
