// Applying a role: the allocated state planned for this host (roles/), then
// reconciled against the kernel, and for the cluster controller the DHCP
// server brought in line. The command line, the demo and the operations in
// cloud.ts all come through here.
import { open, type Handle } from '../handle.js';
import type { Netns } from '../netlink/socket.js';
import type { DesiredState } from '../tx/desired.js';
import { plan, reconcile, type ReconcilePlan } from '../tx/reconcile.js';
import type { CommitStats, ProgressFn } from '../tx/transaction.js';
import { applyDhcp, dhcpServerFor, planDhcp, plannedOnly, type ApplyDhcp, type DhcpOptions, type PlannedDhcp } from './apply-dhcp.js';
import { planRole, type Role } from './roles/index.js';
import type { AllocatedState } from './types.js';

export interface ApplyOptions {
  /** The host's namespace (a name under /run/netns, a path or an fd). */
  netns?: Netns;
  /** Compute and return the plan, change nothing. */
  dryRun?: boolean;
  /** Run DHCP for the cluster controller (default true for role cc). */
  dhcp?: boolean;
  /** The CC's DHCP server: state directory, dnsmasq path, timeouts (the namespace is `netns`). */
  dhcpOptions?: DhcpOptions;
  onProgress?: ProgressFn;
}

export interface ApplyResult {
  desired: DesiredState;
  plan: ReconcilePlan;
  /** Mutating ops sent (0 on a dry run, or when nothing differed). */
  ops: number;
  stats: CommitStats[];
  /** The CC's DHCP: planned (dry run) or done. */
  dhcp?: ApplyDhcp;
}

export { dhcpServerFor, planDhcp, type ApplyDhcp, type DhcpOptions } from './apply-dhcp.js';

/**
 * Applies a role. Everything is checked before anything is sent: the role's
 * plan and, for the cluster controller, its DHCP (planDhcp). The network is
 * then reconciled and DHCP brought in line; a DHCP failure after that is a
 * DhcpApplyError saying the network is applied and dnsmasq stopped.
 */
export async function applyRole(state: AllocatedState, role: Role, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const desired = planRole(state, role);
  const dhcp: PlannedDhcp | undefined = role.role === 'cc' && (opts.dhcp ?? true) ? await planDhcp(state, opts.netns, opts.dhcpOptions) : undefined;
  const h: Handle = open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    if (opts.dryRun) {
      const p = await plan(h, desired);
      return { desired, plan: p, ops: 0, stats: [], ...(dhcp ? { dhcp: plannedOnly(dhcp) } : {}) };
    }
    const r = await reconcile(h, desired, opts.onProgress ? { onProgress: opts.onProgress } : {});
    const out: ApplyResult = { desired, plan: r.plan, ops: r.ops, stats: r.stats };
    if (dhcp) out.dhcp = await applyDhcp(dhcp, r.ops);
    return out;
  } finally {
    h.close();
  }
}

/** Removes everything eucanet owns on this host (and stops its DHCP server), nothing else. */
export async function downRole(role: Role['role'], opts: { netns?: Netns; dhcpOptions?: DhcpOptions } = {}): Promise<{ ops: number; plan: ReconcilePlan }> {
  const h = open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    if (role === 'cc') await dhcpServerFor(opts.netns, opts.dhcpOptions).stop();
    const r = await reconcile(h, {});
    return { ops: r.ops, plan: r.plan };
  } finally {
    h.close();
  }
}
