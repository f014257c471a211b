// Taking a role off a host: its objects removed (and no one else's), its
// DHCP server stopped, the sysctls it turned on put back as they were, and a
// report of what went and what was left.
import { open } from '../handle.js';
import type { Netns } from '../netlink/socket.js';
import type { Link } from '../rtnl/link.js';
import type { Foreign } from '../tx/owner.js';
import { plan, reconcile, type ReconcilePlan } from '../tx/reconcile.js';
import { dhcpServerFor, type DhcpOptions } from './apply-dhcp.js';
import { ownerNames } from './ownership.js';
import { ROLE_SYSCTLS, roleScope } from './roles/index.js';
import { restoreSysctls, type SysctlOutcome } from './sysctl-record.js';

export interface DownOptions {
  netns?: Netns;
  /** Say what would be removed; change nothing. */
  dryRun?: boolean;
  /** Remove every eucanet object, of any role or of an older eucanet (and stop DHCP). */
  force?: boolean;
  /** The CC's DHCP server, when not at its default state directory (the namespace is `netns`). */
  dhcpOptions?: DhcpOptions;
}

export interface DownReport {
  role: 'cc' | 'nc';
  dryRun: boolean;
  /** Mutating ops sent (0 on a dry run). */
  ops: number;
  removed: { links: string[]; addresses: string[]; routes: string[]; tables: string[] };
  /** Ports that are not eucanet's, taken out of eucanet's bridges (not deleted). */
  released: string[];
  /** The DHCP server: stopped (or, on a dry run, would be), with its pid. Absent for a node controller. */
  dhcp?: { stopped: boolean; pid?: number };
  sysctls: SysctlOutcome[];
  /** eucanet objects left in place: another role's, or an older eucanet's. */
  left: Foreign[];
  plan: ReconcilePlan;
}

/** What a plan removes, in the operator's terms. */
export function removedBy(p: ReconcilePlan, links: Link[]): Pick<DownReport, 'removed' | 'released'> {
  const removed: DownReport['removed'] = { links: [], addresses: [], routes: [], tables: [] };
  const released: string[] = [];
  for (const o of [...p.removals.ops, ...p.changes.ops]) {
    if (o.op === 'link.delete') removed.links.push(String(o.ref));
    else if (o.op === 'link.deleteGroup') removed.links.push(...links.filter((l) => l.group === o.group).map((l) => l.name));
    else if (o.op === 'address.delete') removed.addresses.push(`${o.spec.address} on ${String(o.spec.dev)}`);
    else if (o.op === 'route.delete') removed.routes.push(`${o.spec.dst} table ${o.spec.table ?? 254}`);
    else if (o.op === 'link.set' && o.changes.master === null) released.push(String(o.ref));
  }
  for (const n of p.changes.nft.ops) {
    if (n.kind === 'table' && n.verb === 'delete') removed.tables.push(`${n.table.family} ${n.table.name}`);
  }
  removed.links.sort();
  return { removed, released };
}

/** Removes what `role` made on this host, and nothing else (everything eucanet made, with force). */
export async function downRole(role: 'cc' | 'nc', opts: DownOptions = {}): Promise<DownReport> {
  const h = open(opts.netns !== undefined ? { netns: opts.netns } : {});
  try {
    const scoped = { scope: roleScope(role, opts.force ?? false), ...ownerNames };
    const links = await h.links.list();
    const dryRun = opts.dryRun ?? false;
    let dhcp: DownReport['dhcp'];
    if (role === 'cc' || opts.force) {
      const server = dhcpServerFor(opts.netns, opts.dhcpOptions);
      if (dryRun) {
        const st = await server.status();
        dhcp = { stopped: st.running, ...(st.pid !== undefined ? { pid: st.pid } : {}) };
      } else {
        const st = await server.stop();
        dhcp = { stopped: st.stopped, ...(st.pid !== undefined ? { pid: st.pid } : {}) };
      }
    }
    let p: ReconcilePlan;
    let ops = 0;
    if (dryRun) {
      p = await plan(h, {}, scoped);
    } else {
      const r = await reconcile(h, {}, scoped);
      p = r.plan;
      ops = r.ops;
    }
    const sysctls = role === 'cc' || opts.force ? restoreSysctls(opts.netns, [...ROLE_SYSCTLS.cc], { dryRun }) : [];
    const left = opts.force ? [] : p.foreign;
    return { role, dryRun, ops, ...removedBy(p, links), ...(dhcp ? { dhcp } : {}), sysctls, left, plan: p };
  } finally {
    h.close();
  }
}
