// What undoes an applied op in the journal: the inverse request of an address
// or route change, and of a link's changes, computed from the links as they
// were before the commit.
import type { Op, TapSpec } from './ops.js';
import type { LinkRef } from '../rtnl/kinds/index.js';
import { LinkSetRequest, type Link, type LinkChanges } from '../rtnl/link.js';
import { AddressAddRequest, AddressDeleteRequest } from '../rtnl/address.js';
import { RouteAddRequest, RouteDeleteRequest } from '../rtnl/route.js';
import type { Request } from '../netlink/socket.js';
import type { CommitContext } from './context.js';

function linkBefore(ref: LinkRef, ctx: CommitContext): Link | undefined {
  if (typeof ref === 'string') return ctx.before.get(ref);
  for (const l of ctx.before.values()) if (l.index === ref) return l;
  return undefined;
}

/** The changes that put a link back as it was; undefined for a link this commit created. */
export function inverseChanges(ref: LinkRef, changes: LinkChanges, ctx: CommitContext): LinkChanges | undefined {
  const was = linkBefore(ref, ctx);
  if (!was) return undefined;
  const back: LinkChanges = {};
  if (changes.mtu !== undefined) back.mtu = was.mtu;
  if (changes.address !== undefined && was.address) back.address = was.address;
  if (changes.group !== undefined) back.group = was.group;
  if (changes.alias !== undefined) back.alias = was.alias ?? '';
  if (changes.master !== undefined) back.master = was.master ?? null;
  if (changes.up !== undefined) back.up = was.up;
  if (changes.txqlen !== undefined && was.txqlen !== undefined) back.txqlen = was.txqlen;
  if (changes.name !== undefined) back.name = was.name;
  if (changes.bridge !== undefined && was.bridge) {
    const b: NonNullable<LinkChanges['bridge']> = {};
    if (changes.bridge.stp !== undefined) b.stp = was.bridge.stp;
    if (changes.bridge.forwardDelay !== undefined) b.forwardDelay = was.bridge.forwardDelay;
    if (changes.bridge.helloTime !== undefined) b.helloTime = was.bridge.helloTime;
    if (changes.bridge.multicastSnooping !== undefined && was.bridge.multicastSnooping !== undefined) b.multicastSnooping = was.bridge.multicastSnooping;
    if (Object.keys(b).length) back.bridge = b;
  }
  return Object.keys(back).length ? back : undefined;
}

/** A tap spec's own options: the rest of it are link attributes. */
const TAP_ONLY = new Set(['tun', 'vnetHdr', 'multiQueue', 'owner', 'ownerGroup']);

/**
 * The link attributes of a tap spec (what is set after the tap exists), or
 * undefined if none. One loop over its keys, without the rest copy, entries
 * and filter: a node's apply runs it for every tap.
 */
export function tapAttributes(spec: TapSpec): LinkChanges | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(spec)) {
    const v = (spec as Record<string, unknown>)[k];
    if (v !== undefined && !TAP_ONLY.has(k)) (out ??= {})[k] = v;
  }
  return out;
}

/**
 * What undoes `op` in the journal: for address and route changes, whose
 * inverse is the op's own spec the other way round, a function that makes it
 * when a rollback needs it (the spec was validated by the op's own request);
 * otherwise inverseOf's request, made now (a link set's inverse reads the
 * link as it is now).
 */
export function undoOf(op: Op, ctx: CommitContext): Request | (() => Request) | undefined {
  switch (op.op) {
    case 'address.add':
    case 'address.delete':
    case 'route.add':
    case 'route.delete':
      return () => inverseOf(op, ctx) as Request;
    default:
      return inverseOf(op, ctx);
  }
}

/** The request that undoes `op`, or undefined when nothing needs undoing. */
export function inverseOf(op: Op, ctx: CommitContext): Request | undefined {
  const r = ctx.resolver;
  switch (op.op) {
    case 'link.set': {
      const changes = inverseChanges(op.ref, op.changes, ctx);
      return changes ? new LinkSetRequest(ctx.lookup(op.ref) ?? op.ref, changes, r) : undefined;
    }
    case 'address.add':
      return new AddressDeleteRequest(op.spec, r);
    case 'address.delete':
      return new AddressAddRequest(op.spec, r);
    case 'route.add':
      return new RouteDeleteRequest(op.spec, r);
    case 'route.delete':
      return new RouteAddRequest(op.spec, r);
    default:
      return undefined;
  }
}
