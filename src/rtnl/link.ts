// Links: requests to add, change, delete (one or a whole device group), get
// and dump. The decoder for RTM_NEWLINK replies is in link-decode.ts.
//
// RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK
//   struct ifinfomsg  family u8 | pad u8 | type u16 | index i32 | flags u32 | change u32
//   IFLA_IFNAME string, IFLA_MTU u32, IFLA_ADDRESS 6 B, IFLA_GROUP u32, IFLA_IFALIAS string,
//   IFLA_MASTER u32, IFLA_TXQLEN u32, IFLA_LINK u32, IFLA_NET_NS_FD u32,
//   IFLA_LINKINFO { IFLA_INFO_KIND string, IFLA_INFO_DATA { kind attributes } }
import { ValidationError } from '../errors.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST } from '../netlink/constants.js';
import type { NetlinkConnection, Netns, Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { parseMac } from '../util/ip.js';
import * as A from './attrs.js';
import { AF_UNSPEC, IFF_UP, RTEXT_FILTER_SKIP_STATS, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK } from './constants.js';
import {
  KINDS,
  validateLinkName,
  type BridgeOptions,
  type LinkRef,
  type MacvlanOptions,
  type Resolver,
  type VethOptions,
  type VlanOptions,
  type VxlanOptions,
} from './kinds/index.js';
import { must } from '../util/must.js';

/** Attributes every link has, settable at creation and later. */
export interface LinkAttributes {
  mtu?: number;
  /** MAC address, "d0:0d:0a:01:02:02". */
  address?: string;
  /** Device group (IFLA_GROUP), for deleting many devices in one request. */
  group?: number;
  alias?: string;
  /** The bridge (or other master) to enslave to; null to release. */
  master?: LinkRef | null;
  up?: boolean;
  txqlen?: number;
}

interface Named extends LinkAttributes {
  name: string;
  /** Ask the kernel for this ifindex (lets dependent requests be pipelined). */
  index?: number;
}

export type LinkSpec =
  | (Named & { kind: 'bridge' } & BridgeOptions)
  | (Named & { kind: 'vlan' } & VlanOptions)
  | (Named & { kind: 'veth' } & VethOptions)
  | (Named & { kind: 'vxlan' } & VxlanOptions)
  | (Named & { kind: 'macvlan' } & MacvlanOptions);

export type LinkKind = LinkSpec['kind'];

/** Changes to an existing link. */
export interface LinkChanges extends LinkAttributes {
  /** Rename. */
  name?: string;
  /** Move to another namespace (name, path or fd). */
  netns?: Netns;
  /** Change a bridge's own settings (STP, forward delay, hello time, multicast snooping). */
  bridge?: BridgeOptions;
}

function checkU32(field: string, v: unknown, min = 0, max = 0xffffffff): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(field, v, `must be an integer in ${min}-${max}`);
  }
}

export function validateLinkAttributes(a: LinkAttributes): void {
  checkU32('mtu', a.mtu, 68, 65535);
  checkU32('group', a.group);
  checkU32('txqlen', a.txqlen);
  if (a.address !== undefined) parseMac('address', a.address);
  if (a.alias !== undefined && (typeof a.alias !== 'string' || Buffer.byteLength(a.alias) > 255)) {
    throw new ValidationError('alias', a.alias, 'must be a string of at most 255 bytes');
  }
  if (a.master !== undefined && a.master !== null) checkRef('master', a.master);
  if (a.up !== undefined && typeof a.up !== 'boolean') throw new ValidationError('up', a.up, 'must be true or false');
}

export function checkRef(field: string, ref: unknown): void {
  if (typeof ref === 'number') return checkU32(field, ref, 1, 0x7fffffff);
  validateLinkName(field, ref);
}

export function validateLinkSpec(spec: LinkSpec): void {
  if (typeof spec !== 'object' || spec === null) throw new ValidationError('link', spec, 'expected a link spec object');
  validateLinkName('name', spec.name);
  const codec = Object.hasOwn(KINDS, spec.kind) ? KINDS[spec.kind] : undefined;
  if (!codec) throw new ValidationError('kind', spec.kind, `unknown link kind; known: ${Object.keys(KINDS).join(', ')}`);
  validateLinkAttributes(spec);
  checkU32('index', spec.index, 1, 0x7fffffff);
  codec.validate(spec);
  for (const ref of codec.refs(spec)) checkRef(`${spec.kind}.parent`, ref);
}

export function validateLinkChanges(c: LinkChanges): void {
  validateLinkAttributes(c);
  if (c.bridge !== undefined) KINDS.bridge.validate(c.bridge);
  if (c.name !== undefined) validateLinkName('name', c.name);
}

/** Every other link a spec or change names, so callers can look them up first. */
export function linkRefs(x: LinkSpec | LinkChanges): LinkRef[] {
  const out: LinkRef[] = [];
  if (x.master !== undefined && x.master !== null) out.push(x.master);
  if ('kind' in x && x.kind) out.push(...KINDS[x.kind].refs(x));
  return out;
}

/** Every namespace a spec or change names (veth peer, move target). */
export function netnsRefs(x: LinkSpec | LinkChanges): Netns[] {
  if ('kind' in x && x.kind === 'veth' && x.peerNetns !== undefined) return [x.peerNetns];
  if ('netns' in x && x.netns !== undefined) return [x.netns];
  return [];
}

function ifinfomsg(w: NlWriter, index: number, flags = 0, change = 0): void {
  w.rawU8(AF_UNSPEC);
  w.rawU8(0);
  w.rawU16(0);
  w.rawI32(index);
  w.rawU32(flags);
  w.rawU32(change);
}

function upBits(up: boolean | undefined): [number, number] {
  return up === undefined ? [0, 0] : [up ? IFF_UP : 0, IFF_UP];
}

/**
 * IFLA_INFO_KIND and IFLA_IFALIAS go without a NUL, as ip sends them: the
 * kernel takes the attribute length as the string length (an empty alias then
 * clears the alias rather than setting it to "").
 */
const unterminated = (s: string) => Buffer.from(s, 'utf8');

function writeAttributes(w: NlWriter, a: LinkAttributes, r: Resolver): void {
  if (a.mtu !== undefined) w.u32(A.IFLA_MTU, a.mtu);
  if (a.address !== undefined) w.binary(A.IFLA_ADDRESS, parseMac('address', a.address));
  if (a.txqlen !== undefined) w.u32(A.IFLA_TXQLEN, a.txqlen);
  if (a.group !== undefined) w.u32(A.IFLA_GROUP, a.group);
  if (a.alias !== undefined) w.binary(A.IFLA_IFALIAS, unterminated(a.alias));
  if (a.master !== undefined) w.u32(A.IFLA_MASTER, a.master === null ? 0 : r.index(a.master, 'master'));
}

/** Names an attribute path inside a link message (for extended-ACK errors). */
function linkAttrName(kind: string | undefined, path: number[]): string {
  const names: string[] = [];
  names.push(A.IFLA_NAMES[path[0]] ?? String(path[0]));
  if (path[0] === A.IFLA_LINKINFO && path.length > 1) {
    names.push(A.IFLA_INFO_NAMES[path[1]] ?? String(path[1]));
    if (path[1] === A.IFLA_INFO_DATA && path.length > 2) {
      const table = kind ? KINDS[kind]?.dataNames : undefined;
      names.push(table?.[path[2]] ?? String(path[2]));
      if (kind === 'veth' && path.length > 3) names.push(A.IFLA_NAMES[path[3]] ?? String(path[3]));
    }
  }
  return names.join('/');
}

const refText = (ref: LinkRef) => (typeof ref === 'number' ? `#${ref}` : ref);

/** RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL. */
export class LinkAddRequest implements Request {
  constructor(
    readonly spec: LinkSpec,
    private readonly r: Resolver,
  ) {}
  describe(): string {
    return `link add ${this.spec.name} (${this.spec.kind})`;
  }
  encode(w: NlWriter, seq: number): void {
    const s = this.spec;
    const codec = KINDS[s.kind];
    w.beginMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
    ifinfomsg(w, s.index ?? 0, ...upBits(s.up));
    // The order `ip link add` uses: the generic attributes, the parent
    // (IFLA_LINK), the name, then IFLA_LINKINFO (golden bytes in test/fixtures/rtnl).
    writeAttributes(w, s, this.r);
    codec.encodeTop?.(w, s, this.r);
    w.str(A.IFLA_IFNAME, s.name);
    const info = w.nestStart(A.IFLA_LINKINFO);
    w.binary(A.IFLA_INFO_KIND, unterminated(s.kind));
    if (codec.encodeData) {
      const data = w.nestStart(A.IFLA_INFO_DATA);
      codec.encodeData(w, s, this.r);
      w.nestEnd(data);
    }
    w.nestEnd(info);
    w.endMessage();
  }
  attrName(path: number[]): string {
    return linkAttrName(this.spec.kind, path);
  }
}

/** RTM_NEWLINK without NLM_F_CREATE: change an existing link (`ip link set`). */
export class LinkSetRequest implements Request {
  constructor(
    readonly ref: LinkRef,
    readonly changes: LinkChanges,
    private readonly r: Resolver,
  ) {}
  describe(): string {
    const what = Object.keys(this.changes).join(', ');
    return `link set ${refText(this.ref)} (${what})`;
  }
  encode(w: NlWriter, seq: number): void {
    const c = this.changes;
    w.beginMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    // A rename needs the ifindex; otherwise the kernel can find the link by name.
    const byName = typeof this.ref === 'string' && c.name === undefined;
    ifinfomsg(w, byName ? 0 : this.r.index(this.ref, 'link'), ...upBits(c.up));
    if (byName) w.str(A.IFLA_IFNAME, this.ref);
    else if (c.name !== undefined) w.str(A.IFLA_IFNAME, c.name);
    writeAttributes(w, c, this.r);
    if (c.netns !== undefined) w.u32(A.IFLA_NET_NS_FD, this.r.netnsFd(c.netns, 'netns'));
    if (c.bridge !== undefined) {
      const info = w.nestStart(A.IFLA_LINKINFO);
      w.str(A.IFLA_INFO_KIND, 'bridge');
      const data = w.nestStart(A.IFLA_INFO_DATA);
      const codec = must(KINDS.bridge, 'the bridge codec');
      if (!codec.encodeData) throw new Error('eucanet: internal error: the bridge codec has no encodeData');
      codec.encodeData(w, c.bridge, this.r);
      w.nestEnd(data);
      w.nestEnd(info);
    }
    w.endMessage();
  }
  attrName(path: number[]): string {
    return linkAttrName(this.changes.bridge ? 'bridge' : undefined, path);
  }
}

/** RTM_DELLINK of one link, by name or index. */
export class LinkDeleteRequest implements Request {
  constructor(readonly ref: LinkRef) {}
  describe(): string {
    return `link delete ${refText(this.ref)}`;
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    ifinfomsg(w, typeof this.ref === 'number' ? this.ref : 0);
    if (typeof this.ref === 'string') w.str(A.IFLA_IFNAME, this.ref);
    w.endMessage();
  }
}

/**
 * RTM_DELLINK with no name or index and IFLA_GROUP: the kernel deletes every
 * device in the group in one request, with one RCU grace period for all.
 */
export class LinkDeleteGroupRequest implements Request {
  constructor(readonly group: number) {}
  describe(): string {
    return `link delete group ${this.group}`;
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    ifinfomsg(w, 0);
    w.u32(A.IFLA_GROUP, this.group);
    w.endMessage();
  }
}

/** RTM_GETLINK of one link: the kernel looks it up, no dump. */
export class LinkGetRequest implements Request {
  constructor(readonly ref: LinkRef) {}
  describe(): string {
    return `link get ${refText(this.ref)}`;
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, seq);
    ifinfomsg(w, typeof this.ref === 'number' ? this.ref : 0);
    if (typeof this.ref === 'string') w.str(A.IFLA_IFNAME, this.ref);
    // As the dump asks: the kernel skips the per-CPU sums of the IPv6
    // statistics (IFLA_AF_SPEC), which nothing here decodes.
    w.u32(A.IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    w.endMessage();
  }
}

export interface LinkFilter {
  /** Only the ports of this master (ifindex), filtered by the kernel. */
  master?: number;
  /** Only links of this kind, filtered by the kernel. */
  kind?: string;
}

/** RTM_GETLINK dump; with strict checking the kernel applies the filter itself. */
export class LinkDumpRequest implements Request {
  constructor(readonly filter: LinkFilter = {}) {}
  describe(): string {
    return 'link dump';
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq);
    ifinfomsg(w, 0);
    // Nobody here reads statistics. (Kernel 6.18 still sends IFLA_STATS64 and
    // IFLA_STATS in a dump with this bit: it leaves out the VFs' statistics.)
    w.u32(A.IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    if (this.filter.master !== undefined) w.u32(A.IFLA_MASTER, this.filter.master);
    if (this.filter.kind !== undefined) {
      const info = w.nestStart(A.IFLA_LINKINFO);
      w.binary(A.IFLA_INFO_KIND, unterminated(this.filter.kind));
      w.nestEnd(info);
    }
    w.endMessage();
  }
}

/**
 * A new tap loses its carrier when the fd that made it is closed, and the
 * kernel records that lazily (linkwatch: at most 100 devices a second). A tap
 * put in a bridge before then counts as up: the bridge enables the port (STP
 * and multicast timers, the most expensive part of adding it) and disables it
 * again in the background later, under the rtnl lock. Asking for the link
 * (RTM_GETLINK) makes the kernel settle its state first. Measured here
 * (bench/floor, N=1000): the bridge ports take 55 ms instead of 90-120 ms, for
 * 5 ms of lookups; N=5000: 850 instead of 1500 ms.
 */
export async function settleLinks(rtnl: NetlinkConnection, indexes: ArrayLike<number>): Promise<void> {
  const replies = await rtnl.run(Array.from(indexes, (i) => new LinkGetRequest(i)));
  const failed = replies.find((r) => r.error)?.error;
  if (failed) throw failed;
}

export { decodeLink, type Link } from './link-decode.js';
