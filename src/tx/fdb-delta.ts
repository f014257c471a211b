// The FDB-only delta of the NC agent's peer-only sync (agent/peer-sync.ts):
// a version that changes only FDB entries, given as the entries to add and
// delete, and the desired FDB with them made. Pure.
import type { FdbSpec } from '../rtnl/fdb.js';
import { emptyDelta, sameValue, type Delta } from './delta.js';

/**
 * The delta of a version that changes only FDB entries, by `change` (the NC
 * agent's peer-only sync: other nodes' instances of the groups it carries).
 */
export function fdbOnlyDelta(change: { add: FdbSpec[]; del: FdbSpec[] }): Delta {
  const fdb = change.add.length + change.del.length > 0;
  return { ...emptyDelta(), fdb, ...(fdb ? { fdbChange: change } : {}) };
}

/**
 * A desired FDB with `change` made: the deleted entries (equal by value)
 * taken out, each added one put after the last entry of its device (where a
 * full plan puts a new instance's static MAC), else at the end. A new array.
 * Its cost is a copy and a scan per changed entry (the copy and splices are
 * the engine's own moves), not per-entry work over the thousands a node
 * carries in a big cloud.
 */
export function patchFdb(fdb: readonly FdbSpec[], change: { add: readonly FdbSpec[]; del: readonly FdbSpec[] }): FdbSpec[] {
  const out = fdb.slice();
  // Each deleted entry takes out the first entry equal to it that is left.
  for (const d of change.del) {
    const i = out.findIndex((f) => d.lladdr === f.lladdr && d.dst === f.dst && sameValue(d, f));
    if (i >= 0) out.splice(i, 1);
  }
  if (!change.add.length) return out;
  // Where each device's entries end, after the deletions (-1: none).
  const last = new Map<string, number>();
  for (const f of change.add) if (!last.has(String(f.dev))) last.set(String(f.dev), endOf(out, String(f.dev)));
  // Backwards by position, so that the positions not yet used stay right.
  const at = change.add.map((f) => ({ f, i: (last.get(String(f.dev)) as number) < 0 ? out.length : (last.get(String(f.dev)) as number) }));
  for (const { f, i } of at.sort((x, y) => y.i - x.i)) out.splice(i, 0, f);
  return out;
}

/** The position after the last entry of device `dev` (-1 when it has none). */
function endOf(fdb: readonly FdbSpec[], dev: string): number {
  for (let i = fdb.length - 1; i >= 0; i--) if (String(fdb[i].dev) === dev) return i + 1;
  return -1;
}
