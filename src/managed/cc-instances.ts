// The CC's plan after a version that only adds or removes instances without
// a public address (agent/relevance.ts versionChange `instances`: a
// run-instance, a terminate). The CC reads instances for three things; with
// no public address among the changed ones, two of them change: its VXLAN
// FDB (roles/flood.ts floodChange: with vxlanMacs "static" a MAC entry, and a flood list entry
// when a node starts or stops carrying the group) and the DHCP hosts of the
// changed instances' groups. Both are made from the changed instances and the
// last apply's snapshot, not by planning the whole role: the FDB patched
// (tx/fdb-delta.ts patchFdb), the touched groups' networks made again from
// the state as a full apply makes them (the others kept as the same objects).
// Pure.
import type { DhcpNetwork, HostChange } from '../dhcp/index.js';
import { patchFdb } from '../tx/fdb-delta.js';
import type { DesiredState } from '../tx/desired.js';
import { dhcpInputsOf, type AppliedSnapshot, type DhcpInputs } from './apply-snapshot.js';
import { hostChangeOf } from './dhcp-delta.js';
import { dhcpNetworksOf } from './roles/dhcp.js';
import { floodChange, vxlanFloodOf, type FdbChange } from './roles/flood.js';
import { bridgeOf } from './roles/names.js';
import { groupKey, type AllocatedInstance, type AllocatedState } from './types.js';

export interface CcInstanceChange {
  /** The FDB entries to add and delete (none without VXLAN unicast flooding). */
  fdb: FdbChange;
  /** The last desired state with that FDB change made. */
  desired: DesiredState;
  /** The DHCP networks now served, what they are made of, and the hosts added and removed. */
  dhcp: { networks: DhcpNetwork[]; inputs: DhcpInputs; hosts: HostChange };
}

/**
 * What the CC of `cluster` changes from `prev` (applied with `snapshot`) to
 * `next`, which differ only by `touched` (the instances removed and added),
 * or undefined when a full plan is needed: segmentation still `auto` (each
 * host decides it in preflight), DHCP not applied by the last sync, or a
 * DHCP network appearing or going (a group's first or last host).
 */
export function ccInstanceChange(
  snapshot: AppliedSnapshot,
  prev: AllocatedState,
  next: AllocatedState,
  cluster: string | undefined,
  touched: readonly AllocatedInstance[],
): CcInstanceChange | undefined {
  if (next.segmentation === 'auto' || !snapshot.dhcpNets) return undefined;
  const unicast = next.segmentation === 'vxlan' && vxlanFloodOf(next) === 'unicast';
  // (Other segmentations and multicast flooding give the CC no FDB entry of an instance.)
  const fdb = unicast ? floodChange(prev, next, { role: 'cc', ...(cluster !== undefined ? { cluster } : {}) }, touched) : { add: [], del: [] };
  if (!fdb) return undefined;
  const dhcp = dhcpAfter(snapshot.dhcpNets, next, cluster, touched);
  if (!dhcp) return undefined;
  const desired = fdb.add.length || fdb.del.length ? { ...snapshot.desired, fdb: patchFdb(snapshot.desired.fdb ?? [], fdb) } : snapshot.desired;
  return { fdb, desired, dhcp };
}

/**
 * The DHCP networks after the change: those of the touched instances' groups
 * made again (dhcpNetworksOf, as apply-dhcp.ts dhcpNetworksFor makes every
 * one), in their places; the hosts added and removed between the old and
 * new of those networks.
 */
function dhcpAfter(nets: readonly DhcpNetwork[], next: AllocatedState, cluster: string | undefined, touched: readonly AllocatedInstance[]) {
  const keys = new Set(touched.map((i) => i.group));
  const groups = next.groups.filter((g) => keys.has(groupKey(g)));
  if (groups.length !== keys.size) return undefined;
  const made = dhcpNetworksOf({ ...next, groups }, { bridge: (g) => bridgeOf(next, g), ...(cluster !== undefined ? { cluster } : {}) });
  const networks = nets.slice();
  const before: DhcpNetwork[] = [];
  const after: DhcpNetwork[] = [];
  for (const n of made) {
    const at = nets.findIndex((x) => x.interface === n.interface && x.subnet === n.subnet);
    // Served neither before nor now (another cluster's instances only): nothing to do.
    if (at < 0 && !n.hosts.length) continue;
    // A network appearing or going changes dnsmasq's configuration: a full plan.
    if (at < 0 || !n.hosts.length) return undefined;
    before.push(nets[at]);
    after.push(n);
    networks[at] = n;
  }
  const hosts = hostChangeOf(before, after);
  if (!hosts) return undefined;
  return { networks, inputs: dhcpInputsOf(next, cluster), hosts };
}
