// The FDB-only delta of the NC agent's peer-only sync (agent/peer-sync.ts):
// a version that changes only FDB entries, given as the entries to add and
// delete, and the desired FDB with them made. Pure.
import type { FdbSpec } from '../rtnl/fdb.js';
import { sameValue, type Delta } from './delta.js';

/**
 * The delta of a version that changes only FDB entries, by `change` (the NC
 * agent's peer-only sync: other nodes' instances of the groups it carries).
 */
export function fdbOnlyDelta(change: { add: FdbSpec[]; del: FdbSpec[] }): Delta {
  const fdb = change.add.length + change.del.length > 0;
  return {
    links: false,
    linkNames: new Set(),
    ports: new Set(),
    addresses: false,
    routes: false,
    fdb,
    ...(fdb ? { fdbChange: change } : {}),
    sysctls: [],
    nft: { whole: false, chains: new Set(), sets: new Map() },
  };
}

/**
 * A desired FDB with `change` made: the deleted entries (equal by value)
 * taken out, each added one put after the last entry of its device (where a
 * full plan puts a new instance's static MAC), else at the end. A new array.
 */
export function patchFdb(fdb: readonly FdbSpec[], change: { add: readonly FdbSpec[]; del: readonly FdbSpec[] }): FdbSpec[] {
  const del = [...change.del];
  const out: FdbSpec[] = new Array<FdbSpec>(fdb.length);
  let n = 0;
  // Where each device's entries end (only the devices of added entries).
  const last = new Map<string, number>(change.add.map((f) => [String(f.dev), -1]));
  for (let i = 0; i < fdb.length; i++) {
    const f = fdb[i];
    if (del.length && gone(del, f)) continue;
    out[n++] = f;
    if (last.size && last.has(String(f.dev))) last.set(String(f.dev), n);
  }
  out.length = n;
  // Backwards by position, so that the positions not yet used stay right.
  const at = change.add.map((f) => ({ f, i: (last.get(String(f.dev)) ?? -1) < 0 ? out.length : (last.get(String(f.dev)) as number) }));
  for (const { f, i } of at.sort((x, y) => y.i - x.i)) out.splice(i, 0, f);
  return out;
}

/** Whether `f` is one of `del` (equal by value): taken out of `del` if so. */
function gone(del: FdbSpec[], f: FdbSpec): boolean {
  for (let k = 0; k < del.length; k++) {
    const d = del[k];
    if (d.lladdr !== f.lladdr || d.dst !== f.dst || !sameValue(d, f)) continue;
    del.splice(k, 1);
    return true;
  }
  return false;
}
