// The pure half of reconcile: current kernel state + desired state -> ops.
// Only what differs becomes an op, so applying the same state twice sends
// nothing the second time.
import { ValidationError } from '../errors.js';
import type { Address } from '../rtnl/address.js';
import { diffAddresses, prepareAddresses, type PreparedAddresses } from './addr-diff.js';
import type { Link, LinkAttributes, LinkChanges, LinkSpec } from '../rtnl/link.js';
import type { Neighbor } from '../rtnl/neigh.js';
import type { Route } from '../rtnl/route.js';
import { parseCidr, bytesToIp } from '../util/ip.js';
import type { DesiredPort, DesiredState } from './desired.js';
import { diffFdb } from './fdb-diff.js';
import { diffRoutes } from './route-diff.js';
import { PORT_GROUP, type Wanted, fdbLinks, isOwnedAlias, mayTouch, ownedAlias, scopedAlias, whoseLink, type OwnerScope } from './owner.js';
import type { Op } from './ops.js';

export interface KernelState {
  links: Link[];
  addresses: Address[];
  routes: Route[];
  sysctls: Record<string, string>;
  /** FDB entries of the links eucanet manages them on (owner.ts fdbLinks); absent when none were read. */
  fdb?: Neighbor[];
}

export interface Diff {
  /** Owned links in the way of a desired link of another shape: deleted first, in their own commit. */
  removals: Op[];
  changes: Op[];
  /** With `releaseTaps`: the owned taps no longer wanted that `changes` releases (out of their bridge, down) instead of deleting them. */
  released?: string[];
}

/** Names below this ifindex are kept in an array (ifindexes are small and dense), the rest in a Map. */
const DENSE_IFINDEX = 1 << 16;

class LinkIndex {
  readonly byName = new Map<string, Link>();
  private readonly dense: (string | undefined)[] = [];
  private readonly sparse = new Map<number, string>();
  constructor(links: Link[]) {
    for (const l of links) {
      this.byName.set(l.name, l);
      if (l.index >= 0 && l.index < DENSE_IFINDEX) this.dense[l.index] = l.name;
      else this.sparse.set(l.index, l.name);
    }
  }
  nameOf(index: number | undefined): string | undefined {
    if (index === undefined) return undefined;
    return index >= 0 && index < DENSE_IFINDEX ? this.dense[index] : this.sparse.get(index);
  }
}

/**
 * Attribute changes that take `cur` to `want` (only attributes `want` names),
 * or undefined when there are none (no object is made for a link that
 * matches: a re-apply compares thousands); `own` overrides want's alias and
 * group (a port's ownership marks).
 */
function attributeChanges(cur: Link, want: LinkAttributes, idx: LinkIndex, own?: { alias: string; group: number }): LinkChanges | undefined {
  let c: LinkChanges | undefined;
  const group = own ? own.group : want.group;
  const alias = own ? own.alias : want.alias;
  if (want.mtu !== undefined && want.mtu !== cur.mtu) (c ??= {}).mtu = want.mtu;
  if (want.address !== undefined && want.address.toLowerCase() !== cur.address) (c ??= {}).address = want.address;
  if (group !== undefined && group !== cur.group) (c ??= {}).group = group;
  if (alias !== undefined && alias !== (cur.alias ?? '')) (c ??= {}).alias = alias;
  if (want.txqlen !== undefined && want.txqlen !== cur.txqlen) (c ??= {}).txqlen = want.txqlen;
  if (want.up !== undefined && want.up !== cur.up) (c ??= {}).up = want.up;
  if (want.master !== undefined) {
    const curMaster = typeof want.master === 'number' ? cur.master : idx.nameOf(cur.master);
    if ((want.master ?? undefined) !== curMaster) (c ??= {}).master = want.master;
  }
  return c;
}

/** True when `cur` cannot be changed into `want` in place (kind or immutable settings differ). */
function mustRecreate(cur: Link, want: LinkSpec, idx: LinkIndex): boolean {
  if (cur.kind !== want.kind) return true;
  const parentName = idx.nameOf(cur.parent);
  switch (want.kind) {
    case 'vlan':
      return cur.vlan?.id !== want.id || (cur.vlan?.protocol ?? '802.1Q') !== (want.protocol ?? '802.1Q') || parentName !== want.parent;
    case 'macvlan':
      return parentName !== want.parent || (want.mode !== undefined && cur.macvlan?.mode !== want.mode);
    case 'vxlan': {
      const v = cur.vxlan ?? {};
      return (
        v.vni !== want.vni ||
        (v.port ?? 4789) !== (want.port ?? 4789) ||
        (want.local !== undefined && v.local !== want.local) ||
        (want.remote !== undefined && v.remote !== want.remote) ||
        // The group (multicast flooding) or none (head-end replication, vxlanFlood "unicast").
        (want.remote === undefined && v.multicastGroup !== want.multicastGroup) ||
        (want.device !== undefined && idx.nameOf(v.device as number) !== want.device && v.device !== want.device)
      );
    }
    default:
      return false;
  }
}

function bridgeChanges(cur: Link, want: LinkSpec): LinkChanges['bridge'] {
  if (want.kind !== 'bridge' || !cur.bridge) return undefined;
  const b: NonNullable<LinkChanges['bridge']> = {};
  if (want.stp !== undefined && want.stp !== cur.bridge.stp) b.stp = want.stp;
  if (want.forwardDelay !== undefined && Math.round(want.forwardDelay * 100) !== Math.round(cur.bridge.forwardDelay * 100)) {
    b.forwardDelay = want.forwardDelay;
  }
  if (want.helloTime !== undefined && Math.round(want.helloTime * 100) !== Math.round(cur.bridge.helloTime * 100)) {
    b.helloTime = want.helloTime;
  }
  if (want.multicastSnooping !== undefined && cur.bridge.multicastSnooping !== undefined && want.multicastSnooping !== cur.bridge.multicastSnooping) {
    b.multicastSnooping = want.multicastSnooping;
  }
  return Object.keys(b).length ? b : undefined;
}

/** The mark a desired object gets: the scope's owner, or no owner. */
const markOf = (scope: OwnerScope | undefined, detail: string | undefined) => (scope ? scopedAlias(scope.tag, detail) : ownedAlias(detail));

/** A link another owner made, which this scope leaves as it is (it is reported in the plan's `foreign`). */
const othersLink = (have: Link, scope: OwnerScope | undefined): boolean => whoseLink(have, scope) === 'other' && !mayTouch('other', scope);

function diffLinks(want: DesiredState, idx: LinkIndex, out: Diff, scope?: OwnerScope): Set<string> {
  const wanted = new Set<string>();
  for (const spec0 of want.links ?? []) {
    const spec = { ...spec0, alias: markOf(scope, spec0.alias) } as LinkSpec;
    wanted.add(spec.name);
    const have = idx.byName.get(spec.name);
    if (!have) {
      out.changes.push({ op: 'link.add', spec });
      continue;
    }
    if (othersLink(have, scope)) continue;
    if (mustRecreate(have, spec, idx)) {
      if (!isOwnedAlias(have.alias)) {
        throw new ValidationError('links', spec.name, `a link of that name exists (${have.kind ?? 'device'}) and is not eucanet's`);
      }
      out.removals.push({ op: 'link.delete', ref: spec.name });
      out.changes.push({ op: 'link.add', spec });
      continue;
    }
    const changes: LinkChanges = attributeChanges(have, spec, idx) ?? {};
    const bridge = bridgeChanges(have, spec);
    if (bridge?.stp === false && bridge.forwardDelay !== undefined) {
      // The kernel sets a bridge's forward delay before its STP state
      // (br_changelink) and refuses a delay under 2 s while STP is on
      // (ERANGE): STP goes off in a request of its own, sent first.
      out.changes.push({ op: 'link.set', ref: spec.name, changes: { bridge: { stp: false } } });
      delete bridge.stp;
    }
    if (bridge) changes.bridge = bridge;
    if (Object.keys(changes).length) out.changes.push({ op: 'link.set', ref: spec.name, changes });
  }
  const marks = new PortMarks(scope);
  for (const p of want.ports ?? []) diffPort(p, idx, out, wanted, marks, scope);
  return wanted;
}

/**
 * A port's ownership marks (alias and group), made once for each distinct
 * alias detail and group and then shared: thousands of ports carry the same.
 * Read only, never changed.
 */
class PortMarks {
  private detail?: string;
  private group = -1;
  private own?: { readonly alias: string; readonly group: number };
  constructor(private readonly scope: OwnerScope | undefined) {}
  of(detail: string, group: number): { readonly alias: string; readonly group: number } {
    if (this.own && detail === this.detail && group === this.group) return this.own;
    this.detail = detail;
    this.group = group;
    return (this.own = { alias: markOf(this.scope, detail), group });
  }
}

// Runs once per port of every reconcile (thousands), so it avoids object rest
// and spread on the path of a port that exists already.
function diffPort(p: DesiredPort, idx: LinkIndex, out: Diff, wanted: Set<string>, marks: PortMarks, scope?: OwnerScope): void {
  const { name, tap } = p;
  wanted.add(name);
  const have = idx.byName.get(name);
  const tapOpts = typeof tap === 'object' ? tap : undefined;
  // Ownership marks go only on a tap eucanet creates (or one it already owns).
  const own = tap ? marks.of(tapOpts?.alias ?? p.alias ?? 'port', p.group ?? tapOpts?.group ?? PORT_GROUP) : undefined;
  if (!have) {
    if (!tap) throw new ValidationError('ports', name, 'no such link, and the port is not to be created as a tap');
    const { name: _n, tap: _t, ...attrs } = p;
    out.changes.push({ op: 'tap.add', name, spec: { ...tapOpts, ...attrs, ...own } });
    return;
  }
  // An existing port is adopted only if it is ours already (or, when it is to be a tap, a tap).
  // (An unscoped mark, an older eucanet's, is adopted by the scope that wants it.)
  const whose = whoseLink(have, scope);
  if (othersLink(have, scope)) return;
  const adopt = own && (whose === 'mine' || whose === 'unscoped' || mayTouch(whose, scope) || have.kind === 'tun') ? own : undefined;
  const changes = attributeChanges(have, p, idx, adopt);
  if (changes) out.changes.push({ op: 'link.set', ref: name, changes });
}

function diffUnwanted(cur: KernelState, wanted: Set<string>, out: Diff, scope?: OwnerScope, only?: ReadonlySet<string>, releaseTaps = false): void {
  const links = cur.links;
  // Whether each link (by position) is this plan's to change, worked out once
  // (its alias parsed once); and which of those are some link's master.
  const masters = new Set<number>();
  for (const l of links) if (l.master !== undefined) masters.add(l.master);
  const mine = new Uint8Array(links.length);
  const ownedMasters = new Set<number>();
  for (let i = 0; i < links.length; i++) {
    if (!mayTouch(whoseLink(links[i], scope), scope)) continue;
    mine[i] = 1;
    if (masters.has(links[i].index)) ownedMasters.add(links[i].index);
  }
  // An incremental plan removes only links it was asked about (`only`).
  const about = (l: Link) => only === undefined || only.has(l.name);
  const unwanted = links.filter((l, i) => mine[i] && !wanted.has(l.name) && about(l));
  // A port that is not eucanet's (a hypervisor's tap, a veth) and no longer
  // wanted is released from eucanet's bridge rather than deleted.
  for (const l of links) {
    if (l.master !== undefined && ownedMasters.has(l.master) && !isOwnedAlias(l.alias) && !wanted.has(l.name) && about(l)) {
      out.changes.push({ op: 'link.set', ref: l.name, changes: { master: null } });
    }
  }
  // A whole device group with nothing wanted left in it goes in one request.
  let members = 0;
  let noneWanted = true;
  for (let i = 0; i < links.length && noneWanted; i++) {
    if (links[i].group !== PORT_GROUP) continue;
    members++;
    if (wanted.has(links[i].name) || !mine[i]) noneWanted = false;
  }
  // (Not with releaseTaps: each tap is released instead.)
  const wholeGroup = !releaseTaps && only === undefined && members > 1 && noneWanted;
  if (wholeGroup) out.changes.push({ op: 'link.deleteGroup', group: PORT_GROUP });
  for (const l of unwanted) {
    if (wholeGroup && l.group === PORT_GROUP) continue;
    // The far end of a veth goes with its peer; deleting both would fail.
    if (l.kind === 'veth' && l.parent !== undefined && unwanted.some((o) => o.index === l.parent && o.index < l.index)) continue;
    // A tap in a bridge, released: out of the bridge and down is all an
    // instance can tell; its deletion, which waits for the kernel's RCU grace
    // periods (10-30 ms), is left to the caller (reconcile.ts deleteReleased).
    if (releaseTaps && l.kind === 'tun' && l.master !== undefined) {
      out.changes.push({ op: 'link.set', ref: l.name, changes: { master: null, up: false } });
      (out.released ??= []).push(l.name);
      continue;
    }
    out.changes.push({ op: 'link.delete', ref: l.name });
  }
}

/** What diffState computes from the desired state alone: see prepareDiff. */
export interface PreparedDiff {
  addresses: PreparedAddresses;
}

/**
 * The desired side of diffState, which needs no kernel state: computed while
 * the kernel's dumps are in flight (reconcile.ts plan()), and handed to
 * diffState for the `want` it was computed from.
 */
export function prepareDiff(want: DesiredState): PreparedDiff {
  return { addresses: prepareAddresses(want) };
}

/**
 * The ops that take `cur` to `want`. With a scope, only that owner's objects
 * (and unscoped ones it wants) are changed or removed; see owner.ts. With
 * `only` (an incremental plan: partial.ts), only the links named there are
 * removed when unwanted, and a device group is never deleted whole. With
 * `releaseTaps`, an unwanted tap in a bridge is released, not deleted (Diff's `released`).
 */
export function diffState(
  cur: KernelState,
  want: DesiredState,
  scope?: OwnerScope,
  only?: ReadonlySet<string>,
  prep?: PreparedDiff,
  releaseTaps = false,
): Diff {
  const out: Diff = { removals: [], changes: [] };
  const idx = new LinkIndex(cur.links);
  const wanted = diffLinks(want, idx, out, scope);
  diffUnwanted(cur, wanted, out, scope, only, releaseTaps);
  for (const [key, value] of Object.entries(want.sysctls ?? {})) {
    if (cur.sysctls[key] !== String(value)) out.changes.push({ op: 'sysctl', key, value: String(value) });
  }
  diffAddresses(cur.addresses, want, (i) => idx.nameOf(i), out, scope, prep?.addresses);
  diffRoutes(cur, want, idx, out, scope);
  if (want.fdb?.length || cur.fdb?.length) {
    const fresh = new Set(out.changes.flatMap((op) => (op.op === 'link.add' ? [op.spec.name] : [])));
    const doomed = new Set([...out.removals, ...out.changes].flatMap((op) => (op.op === 'link.delete' ? [String(op.ref)] : [])));
    out.changes.push(...diffFdb(cur.fdb ?? [], want.fdb ?? [], fdbLinks(cur.links, scope), fresh, doomed, (i) => idx.nameOf(i)));
  }
  return out;
}

/** The names of the links and addresses a desired state wants, for owner.ts foreignObjects. */
export function wantedNames(want: DesiredState): Wanted {
  // Each set made on first use: foreignObjects asks only about unscoped
  // objects (an older eucanet's), and a fresh namespace has none, while a
  // CC's thousand addresses cost a parse and a format each.
  let links: Set<string> | undefined;
  let addresses: Set<string> | undefined;
  return {
    get links() {
      return (links ??= new Set([...(want.links ?? []), ...(want.ports ?? [])].map((l) => l.name)));
    },
    get addresses() {
      return (addresses ??= new Set(
        (want.addresses ?? []).map((a) => {
          const c = parseCidr('address', a.address);
          return `${bytesToIp(c.bytes)}/${c.prefix} on ${String(a.dev)}`;
        }),
      ));
    },
  };
}
