// The FDB entries the drift judge watches (drift.ts): those the role's
// desired state lists (a VXLAN device's flood list, static MACs), keyed the
// same way from the desired state and from a neighbour event. Pure.
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
