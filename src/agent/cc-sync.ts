// The CC agent's instance-only sync, the CC's twin of peer-sync.ts. A version
// that differs for the CC only by instances added or removed without a public
// address (relevance.ts versionChange `instances`: a run-instance, a
// terminate) changes its VXLAN FDB and its DHCP hosts alone
// (managed/cc-instances.ts). Those are made from the changed instances and
// sent as they are: no preflight, no plan of the whole role, no delta of
// thousands of FDB entries, no read back. The DHCP hosts are checked (as a
// full plan checks them) before anything is sent, then handed to dnsmasq by
// the incremental path a full apply takes (a host file each, a reload after
// removals, off the sync's path). The snapshot kept for the next sync is what
// a full apply would leave. A failure is rolled back like any commit (or, for
// DHCP, dnsmasq stopped), and the agent falls back to a full reconcile.
import { applyDhcp, planHosts, type ApplyDhcp, type DhcpOptions } from '../managed/apply-dhcp.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import { ccInstanceChange } from '../managed/cc-instances.js';
import type { AllocatedState } from '../managed/types.js';
import type { Handle } from '../handle.js';
import type { Netns } from '../sys/netns-path.js';
import type { Delta } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';
import { fdbOnlyDelta } from '../tx/fdb-delta.js';
import { fdbOps } from '../tx/partial.js';
import { phase } from '../util/phases.js';
import type { PeerChange } from './relevance.js';

export interface CcSync {
  /** The desired state now applied: the last one with the FDB change made. */
  desired: DesiredState;
  delta: Delta;
  /** Ops sent. */
  ops: number;
  /** DHCP's update (absent: no host of this CC changed). */
  dhcp?: ApplyDhcp;
  /** For the next incremental sync. */
  snapshot: AppliedSnapshot;
}

/** Where the CC's dnsmasq runs and how (the agent's applyRole options). */
export interface CcSyncOptions {
  netns?: Netns;
  dhcpOptions?: DhcpOptions;
  /** A rehearsal (the agent's warm-up): planned and checked as far as the commit, and stopped there: nothing sent, nothing handed to dnsmasq. */
  rehearse?: boolean;
}

/**
 * Applies an instance-only version to the CC of `cluster`, whose last sync
 * applied `prev` with `snapshot`. Undefined when the change is not one
 * ccInstanceChange makes (the caller plans in full). A version DHCP's checks
 * refuse throws their ValidationError before anything is sent.
 */
export async function syncCcInstances(
  h: Handle,
  snapshot: AppliedSnapshot,
  prev: AllocatedState,
  next: AllocatedState,
  cluster: string | undefined,
  change: PeerChange,
  opts: CcSyncOptions = {},
): Promise<CcSync | undefined> {
  const c = ccInstanceChange(snapshot, prev, next, cluster, [...change.removed, ...change.added]);
  if (!c) return undefined;
  const { networks, hosts } = c.dhcp;
  // Checked before the FDB is touched: the new hostnames against every other, the added hosts (planHosts).
  const planned =
    hosts.add.length || hosts.del.length ? planHosts(next, opts.netns, opts.dhcpOptions ?? {}, networks, hosts, snapshot.dhcpInputs?.instances) : undefined;
  phase('plan');
  const delta = fdbOnlyDelta(c.fdb);
  if (opts.rehearse) return { desired: c.desired, delta, ops: 0, snapshot };
  let ops = 0;
  if (delta.fdb) {
    const tx = h.transaction();
    for (const op of fdbOps(c.fdb)) tx.add(op);
    // The FDB ops name only the VXLAN devices: looked up, not every link dumped.
    await tx.commit({ lookup: true });
    ops = tx.ops.length;
  }
  phase('commit');
  const dhcp = planned ? await applyDhcp(planned, ops) : undefined;
  phase('dhcp');
  const after: AppliedSnapshot = { ...snapshot, desired: c.desired, dhcpNets: networks, dhcpInputs: c.dhcp.inputs };
  return { desired: c.desired, delta, ops, snapshot: after, ...(dhcp ? { dhcp } : {}) };
}
