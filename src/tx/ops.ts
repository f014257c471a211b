// The typed operations a transaction collects. Each is validated when it is
// added; the commit orders them into phases (see transaction.ts).
import { ValidationError } from '../errors.js';
import type { TapOptions } from '../native.js';
import { validateAddress, type AddressSpec } from '../rtnl/address.js';
import { validateLinkName, type LinkRef } from '../rtnl/kinds/index.js';
import {
  checkRef,
  type LinkAttributes,
  linkRefs,
  validateLinkAttributes,
  validateLinkChanges,
  validateLinkSpec,
  type LinkChanges,
  type LinkSpec,
} from '../rtnl/link.js';
import { validateFdb, type FdbSpec } from '../rtnl/fdb.js';
import { validateNeighbor, type NeighborSpec } from '../rtnl/neigh.js';
import { validateRoute, type RouteSpec } from '../rtnl/route.js';
import { sysctlPath } from '../sys/sysctl.js';
import type { Netns } from '../sys/netns-path.js';
import { validateTapOptions } from '../sys/tap.js';

/** Options for persistent taps: the tun/tap flags, plus link attributes applied after creation. */
export interface TapSpec extends TapOptions, LinkAttributes {}

export type Op =
  | { op: 'link.add'; spec: LinkSpec }
  | { op: 'tap.add'; name: string; spec: TapSpec }
  | { op: 'link.set'; ref: LinkRef; changes: LinkChanges }
  | { op: 'link.delete'; ref: LinkRef }
  | { op: 'link.deleteGroup'; group: number }
  | { op: 'address.add'; spec: AddressSpec }
  | { op: 'address.delete'; spec: AddressSpec }
  | { op: 'route.add'; spec: RouteSpec }
  | { op: 'route.delete'; spec: RouteSpec }
  | { op: 'neigh.add' | 'neigh.replace' | 'neigh.delete'; spec: NeighborSpec }
  | { op: 'fdb.add' | 'fdb.append' | 'fdb.replace'; spec: FdbSpec }
  /**
   * `known`: the entry is known to be `spec` itself (an incremental plan
   * deletes what the last applied plan added): its undo appends `spec` back,
   * with no read of the FDB (a dump of every entry) before the delete.
   */
  | { op: 'fdb.delete'; spec: FdbSpec; known?: true }
  | { op: 'sysctl'; key: string; value: string };

export type OpName = Op['op'];

/**
 * Commit phases, in order. Everything before 'nft' can be undone; the nft
 * batch (the transaction's `nft` Batch, not an Op) is atomic by itself; link
 * deletes come last because a deleted device cannot be brought back as it was.
 * Neighbour and FDB entries go once their links exist and are up, and go away
 * before addresses do.
 */
export const PHASES = ['taps', 'links', 'sets', 'sysctls', 'unneigh', 'unaddress', 'addresses', 'routes', 'neighbors', 'nft', 'deletes'] as const;
export type Phase = (typeof PHASES)[number];

export function phaseOf(op: Op): Phase {
  switch (op.op) {
    case 'tap.add':
      return 'taps';
    case 'link.add':
      return 'links';
    case 'link.set':
      // Moving a link to another namespace cannot be undone from this one.
      return op.changes.netns !== undefined ? 'deletes' : 'sets';
    case 'sysctl':
      return 'sysctls';
    case 'address.delete':
    case 'route.delete':
      return 'unaddress';
    case 'address.add':
      return 'addresses';
    case 'route.add':
      return 'routes';
    case 'neigh.delete':
    case 'fdb.delete':
      return 'unneigh';
    case 'neigh.add':
    case 'neigh.replace':
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
      return 'neighbors';
    case 'link.delete':
    case 'link.deleteGroup':
      return 'deletes';
  }
}

/** Throws ValidationError (naming the field) if the op is malformed. */
export function validateOp(op: Op): void {
  switch (op.op) {
    case 'link.add':
      return validateLinkSpec(op.spec);
    case 'tap.add':
      validateLinkName('name', op.name);
      validateTapOptions(op.spec);
      return validateLinkAttributes(op.spec);
    case 'link.set':
      checkRef('link', op.ref);
      return validateLinkChanges(op.changes);
    case 'link.delete':
      return checkRef('link', op.ref);
    case 'link.deleteGroup':
      if (!Number.isInteger(op.group) || op.group < 1 || op.group > 0xffffffff) {
        throw new ValidationError('group', op.group, 'must be an integer in 1-4294967295 (group 0 holds every ordinary device)');
      }
      return;
    case 'address.add':
    case 'address.delete':
      validateAddress(op.spec);
      return;
    case 'route.add':
    case 'route.delete':
      validateRoute(op.spec);
      return;
    case 'neigh.add':
    case 'neigh.replace':
    case 'neigh.delete':
      validateNeighbor(op.spec);
      return;
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.delete':
      validateFdb(op.spec);
      return;
    case 'sysctl':
      sysctlPath(op.key);
      if (/[\n\0]/.test(op.value)) throw new ValidationError('sysctl value', op.value, 'must be one line');
      return;
  }
}

/** How errors name an op: "link add br0", "tap create tap0", "sysctl net.ipv4.ip_forward". */
export function describeOp(op: Op): string {
  switch (op.op) {
    case 'link.add':
      return `link add ${op.spec?.name}`;
    case 'tap.add':
      return `tap create ${op.name}`;
    case 'link.set':
      return `link set ${op.ref}`;
    case 'link.delete':
      return `link delete ${op.ref}`;
    case 'link.deleteGroup':
      return `link delete group ${op.group}`;
    case 'address.add':
    case 'address.delete':
      return `address ${op.op === 'address.add' ? 'add' : 'delete'} ${op.spec?.address}`;
    case 'route.add':
    case 'route.delete':
      return `route ${op.op === 'route.add' ? 'add' : 'delete'} ${op.spec?.dst}`;
    case 'neigh.add':
    case 'neigh.replace':
    case 'neigh.delete':
      return `neigh ${op.op.slice(6)} ${op.spec?.address} dev ${op.spec?.dev}`;
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.delete':
      return `fdb ${op.op.slice(4)} ${op.spec?.lladdr} dev ${op.spec?.dev}${op.spec?.dst !== undefined ? ` dst ${op.spec.dst}` : ''}`;
    case 'sysctl':
      return `sysctl ${op.key}`;
  }
}

/** Runs the input checks of `op`: a ValidationError then names the op as well as the field. */
export function checked(op: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) throw err.inOp(op);
    throw err;
  }
}

/**
 * Whether `pred` holds for every link `op` names (opRefs), without building
 * that list for the ops a bring-up has thousands of: address changes, taps
 * and link sets (a tap's master and up).
 */
export function everyRef(op: Op, pred: (ref: LinkRef) => boolean): boolean {
  if (op.op === 'address.add' || op.op === 'address.delete') return pred(op.spec.dev);
  if (op.op === 'tap.add' && !('kind' in op.spec)) {
    const m = op.spec.master;
    return m === undefined || m === null || pred(m);
  }
  if (op.op === 'link.set' && !('kind' in op.changes)) {
    const m = op.changes.master;
    return pred(op.ref) && (m === undefined || m === null || pred(m));
  }
  return opRefs(op).every(pred);
}

/** The links `items`' ops name (opRefs), in order: a loop, not flatMap(), which V8 runs on its slow generic path. */
export function refsOf(items: readonly { readonly op: Op }[]): LinkRef[] {
  const out: LinkRef[] = [];
  for (let i = 0; i < items.length; i++) {
    const refs = opRefs(items[i].op);
    for (let k = 0; k < refs.length; k++) out.push(refs[k]);
  }
  return out;
}

/** The links an op refers to by name or index. */
export function opRefs(op: Op): LinkRef[] {
  switch (op.op) {
    case 'link.add':
      return linkRefs(op.spec);
    case 'tap.add':
      return linkRefs(op.spec);
    case 'link.set':
      return [op.ref, ...linkRefs(op.changes)];
    case 'address.add':
    case 'address.delete':
      return [op.spec.dev];
    case 'route.add':
    case 'route.delete':
      return op.spec.dev !== undefined ? [op.spec.dev] : [];
    case 'neigh.add':
    case 'neigh.replace':
    case 'neigh.delete':
      return [op.spec.dev];
    case 'fdb.add':
    case 'fdb.append':
    case 'fdb.replace':
    case 'fdb.delete':
      return op.spec.via !== undefined ? [op.spec.dev, op.spec.via] : [op.spec.dev];
    default:
      return [];
  }
}

/** The namespaces an op names (veth peer, move target). */
export function opNetns(op: Op): Netns[] {
  if (op.op === 'link.add' && op.spec.kind === 'veth' && op.spec.peerNetns !== undefined) return [op.spec.peerNetns];
  if (op.op === 'link.set' && op.changes.netns !== undefined) return [op.changes.netns];
  return [];
}
