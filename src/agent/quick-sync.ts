// The agent's quick syncs. A new store version after a good sync (nothing
// else asked for the sync) may need no plan of the whole role: relevance.ts
// proves it the same for this host (recorded as applied, nothing sent), or
// different only by instances, whose entries are then sent as they are: on a
// node, other nodes' instances of the groups it carries (peer-sync.ts: FDB
// entries); on the CC, instances added or removed without a public address
// (cc-sync.ts: FDB entries and DHCP hosts); on the CC, groups whose ingress
// rules alone changed (cc-rules-sync.ts: their chains); on a node, its own instances
// added or removed (nc-sync.ts: their ports and anti-spoofing set elements,
// with the FDB entries of others changed with them). What to do with the outcome (the
// applied version, the snapshot, the failure that makes the next sync a full
// one) is the agent's (agent.ts).
import { ValidationError } from '../errors.js';
import type { Handle } from '../handle.js';
import type { DhcpOptions } from '../managed/apply-dhcp.js';
import type { AppliedSnapshot } from '../managed/apply-snapshot.js';
import type { Role } from '../managed/roles/index.js';
import type { AllocatedGroup, AllocatedState } from '../managed/types.js';
import type { Netns } from '../sys/netns-path.js';
import { syncCcRules } from './cc-rules-sync.js';
import { syncCcInstances, type CcSync } from './cc-sync.js';
import type { KnownInterfaces } from './known-interfaces.js';
import { syncNcInstances, type NcSync } from './nc-sync.js';
import { syncPeers, type PeerSync } from './peer-sync.js';
import { versionChange } from './relevance.js';
import { oneLine } from './result.js';

export interface QuickContext {
  handle: () => Handle;
  role: Role;
  /** The version last applied, and what its sync left. */
  applied: AllocatedState;
  snapshot: AppliedSnapshot;
  /** The interfaces the agent knows; trusted only while link events are watched (`watched`). */
  interfaces: KnownInterfaces;
  watched: boolean;
  netns?: Netns;
  dhcpOptions?: DhcpOptions;
}

/**
 * - `same`: nothing to send (record the version as applied);
 * - `sent`: the change was sent (`r`: what peer-sync.ts, cc-sync.ts, cc-rules-sync.ts or nc-sync.ts applied);
 * - `failed`: it was rolled back (`error`): the snapshot is no longer the
 *   kernel's, and a full reconcile follows at once.
 */
export type QuickOutcome =
  | { kind: 'same' }
  | { kind: 'sent'; via: 'peers'; r: PeerSync }
  | { kind: 'sent'; via: 'instances'; r: CcSync }
  | { kind: 'sent'; via: 'rules'; r: CcSync }
  | { kind: 'sent'; via: 'own'; r: NcSync }
  | { kind: 'failed'; error: string };

/** The quick sync of `next`, if there is one; undefined: the usual sync follows. */
export async function quickSync(c: QuickContext, next: AllocatedState): Promise<QuickOutcome | undefined> {
  const v = versionChange(c.applied, next, c.role);
  if (v.kind === 'same') return { kind: 'same' };
  if (v.kind === 'instances' && c.role.role === 'cc') return quickCc(c, next, v.instances);
  if (v.kind === 'rules' && c.role.role === 'cc') return quickRules(c, next, v.groups);
  if (v.kind === 'own' && c.role.role === 'nc') return quickOwn(c, next, c.role.node, v.instances);
  if (v.kind !== 'peers' || c.role.role !== 'nc') return undefined;
  // The interfaces known, the VXLAN devices among them after a peer sync: trusted only while link events are watched.
  const { epoch, interfaces } = c.interfaces.take();
  const known = c.watched ? interfaces : undefined;
  try {
    const r = await syncPeers(c.handle(), c.snapshot, c.applied, next, c.role.node, v.peers, known);
    const now = r ? r.known : known;
    // Valid for the next sync unless a link event named one meanwhile (record's epoch).
    if (c.watched && now) c.interfaces.record(epoch, now);
    if (!r) return undefined;
    // (Instances whose entries come to the same: nothing sent, as for a version that does not concern it.)
    return r.delta.fdb ? { kind: 'sent', via: 'peers', r } : { kind: 'same' };
  } catch (err) {
    return { kind: 'failed', error: oneLine(err) };
  }
}

/** The CC's instance-only sync (cc-sync.ts). */
async function quickCc(c: QuickContext, next: AllocatedState, change: Parameters<typeof syncCcInstances>[5]): Promise<QuickOutcome | undefined> {
  if (c.role.role !== 'cc') return undefined;
  const opts = { ...(c.netns !== undefined ? { netns: c.netns } : {}), ...(c.dhcpOptions ? { dhcpOptions: c.dhcpOptions } : {}) };
  try {
    const r = await syncCcInstances(c.handle(), c.snapshot, c.applied, next, c.role.cluster, change, opts);
    return r ? { kind: 'sent', via: 'instances', r } : undefined;
  } catch (err) {
    // A version DHCP's checks refuse (nothing sent): the full apply refuses it too, naming the field.
    if (err instanceof ValidationError) return undefined;
    return { kind: 'failed', error: oneLine(err) };
  }
}

/** The CC's rules-only sync (cc-rules-sync.ts). */
async function quickRules(c: QuickContext, next: AllocatedState, groups: AllocatedGroup[]): Promise<QuickOutcome | undefined> {
  try {
    const r = await syncCcRules(c.handle(), c.snapshot, next, groups);
    return r ? { kind: 'sent', via: 'rules', r } : undefined;
  } catch (err) {
    // A rule the plan refuses (an unknown source group; nothing sent): the full apply refuses it too, naming the field.
    if (err instanceof ValidationError) return undefined;
    return { kind: 'failed', error: oneLine(err) };
  }
}

/** The node's own-instance sync (nc-sync.ts). */
async function quickOwn(c: QuickContext, next: AllocatedState, node: string, change: Parameters<typeof syncNcInstances>[5]): Promise<QuickOutcome | undefined> {
  try {
    const r = await syncNcInstances(c.handle(), c.snapshot, c.applied, next, node, change);
    return r ? { kind: 'sent', via: 'own', r } : undefined;
  } catch (err) {
    // A version the plan's checks refuse (nothing sent): the full apply refuses it too, naming the field.
    if (err instanceof ValidationError) return undefined;
    return { kind: 'failed', error: oneLine(err) };
  }
}
