// The FDB entries the drift judge watches (drift.ts): those the role's
// desired state lists (a VXLAN device's flood list, static MACs), keyed the
// same way from the desired state and from a neighbour event. Pure.
import type { FdbSpec } from '../rtnl/fdb.js';
import type { Delta } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';

/** The fields of a neighbour event (src/events/) the judge reads. */
export interface FdbEvent {
  type: 'neighbor';
  action: 'new' | 'del';
  existing?: true;
  port: number;
  neighbor: { family: string; index: number; lladdr?: string; dst?: string };
}

const key = (dev: string, lladdr: string | undefined, dst: string | undefined) => `${dev}|${(lladdr ?? '').toLowerCase()}|${dst ?? ''}`;

/** An event's entry as a key of wantedFdbOf, the device named. */
export const fdbEventKey = (dev: string, n: FdbEvent['neighbor']): string => key(dev, n.lladdr, n.dst);

/** The FDB entries a desired state wants, as "device|mac|destination". */
export function wantedFdbOf(d: DesiredState): Set<string> {
  return new Set((d.fdb ?? []).map((f) => key(String(f.dev), f.lladdr, f.dst)));
}

/**
 * The wanted FDB after a sync, as the judge takes it: a patch (the entries
 * the sync added and deleted, with how to make the whole set) when the delta
 * has them, else how to make the set. The judge patches the set it has
 * instead of making it again: a version that adds or deletes one entry (and
 * the event of that very change, which the judge looks up) costs no walk over
 * the thousands of entries of a node in a big cloud.
 */
export interface FdbPatch {
  add: readonly FdbSpec[];
  del: readonly FdbSpec[];
  whole: () => Set<string>;
}

export function wantedFdbAfter(d: DesiredState, delta: Delta | undefined): FdbPatch | (() => Set<string>) {
  const whole = () => wantedFdbOf(d);
  const c = delta && !delta.links ? delta.fdbChange : undefined;
  return c ? { add: c.add, del: c.del, whole } : whole;
}

/** Keyed by device, MAC and destination only: an entry with a port or VNI of its own may share its key with another. */
const keyable = (f: FdbSpec) => f.port === undefined && f.vni === undefined;

/** The wanted set `had` with `p` made (the same set, changed), or p's whole set when `had` is not made yet or an entry is not keyable. */
export function patchWantedFdb(had: Set<string> | (() => Set<string>), p: FdbPatch): Set<string> | (() => Set<string>) {
  if (typeof had === 'function' || !p.add.every(keyable) || !p.del.every(keyable)) return p.whole;
  for (const f of p.del) had.delete(key(String(f.dev), f.lladdr, f.dst));
  for (const f of p.add) had.add(key(String(f.dev), f.lladdr, f.dst));
  return had;
}
