// The state document with allocations filled in, everything else as written:
// what `allocate` and the operations write back to a store. Pure.
import { canonicalGroup, canonicalInstance } from './allocate.js';
import type { AllocatedState, Group, Instance } from './types.js';

type Doc = Record<string, unknown>;

/** The document with the allocated values filled in; everything else as it was. */
export function withAllocations<D extends object>(doc: D, a: AllocatedState): D {
  const d = doc as Doc;
  const out: Doc = { ...d };
  if (Array.isArray(d.groups)) {
    out.groups = (d.groups as Group[]).map((g, i) => canonicalGroup({ ...g, vlan: a.groups[i].vlan, subnet: a.groups[i].subnet }));
  }
  if (Array.isArray(d.instances)) {
    out.instances = (d.instances as Instance[]).map((inst, i) => {
      const { port, privateIp, mac, publicIp } = a.instances[i];
      return canonicalInstance({ ...inst, port, privateIp, mac, publicIp: inst.publicIp === false ? false : publicIp });
    });
  }
  return out as D;
}
