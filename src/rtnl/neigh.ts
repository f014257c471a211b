// Neighbours (ARP / NDP entries): add, replace, delete, dump, and the
// RTM_NEWNEIGH decoder, which also reads bridge FDB entries (fdb.ts writes those).
//
// RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH   (/usr/include/linux/rtnetlink.h)
//   struct ndmsg  family u8 | pad1 u8 | pad2 u16 | ifindex i32 | state u16 | flags u8 | type u8
//                 (/usr/include/linux/neighbour.h); family AF_INET / AF_INET6 for neighbours,
//                 AF_BRIDGE (PF_BRIDGE) for the bridge and vxlan forwarding databases
//   NDA_DST IP address (on a vxlan FDB entry: the remote's underlay address), NDA_LLADDR MAC,
//   NDA_CACHEINFO struct nda_cacheinfo, NDA_PROBES u32, NDA_VLAN u16, NDA_PORT be16,
//   NDA_VNI u32, NDA_IFINDEX u32, NDA_MASTER u32, NDA_LINK_NETNSID i32, NDA_SRC_VNI u32,
//   NDA_PROTOCOL u8, NDA_FLAGS_EXT u32
import { DecodeError, ValidationError } from '../errors.js';
import { NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../netlink/constants.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { bytesToIp, formatMac, parseIp, parseMac, type Family } from '../util/ip.js';
import * as A from './attrs.js';
import * as C from './constants.js';
import type { LinkRef, Resolver } from './kinds/index.js';
import { checkRef } from './link.js';

/** ndm_state bits by name (NUD_*), in bit order. */
export const NUD_STATES = {
  incomplete: C.NUD_INCOMPLETE,
  reachable: C.NUD_REACHABLE,
  stale: C.NUD_STALE,
  delay: C.NUD_DELAY,
  probe: C.NUD_PROBE,
  failed: C.NUD_FAILED,
  noarp: C.NUD_NOARP,
  permanent: C.NUD_PERMANENT,
} as const;
export type NudState = keyof typeof NUD_STATES;

/** ndm_flags bits by name (NTF_*; the names `bridge fdb` and `ip neigh` print). */
export const NTF_FLAGS = {
  use: C.NTF_USE,
  self: C.NTF_SELF,
  master: C.NTF_MASTER,
  proxy: C.NTF_PROXY,
  extern_learn: C.NTF_EXT_LEARNED,
  offload: C.NTF_OFFLOADED,
  sticky: C.NTF_STICKY,
  router: C.NTF_ROUTER,
} as const;
export type NeighFlag = keyof typeof NTF_FLAGS;

/**
 * A decoded RTM_NEWNEIGH (or RTM_DELNEIGH) message: a neighbour (family 4 or
 * 6) or a bridge / vxlan FDB entry (family 'bridge').
 */
export interface Neighbor {
  family: Family | 'bridge';
  /** ndm_ifindex: the device the entry is on. */
  index: number;
  /** Names of the ndm_state bits set, in bit order; [] is NUD_NONE. */
  state: NudState[];
  /** Names of the ndm_flags bits set, in bit order. */
  flags: NeighFlag[];
  /** The raw ndmsg fields. */
  ndmState: number;
  ndmFlags: number;
  ndmType: number;
  /** NDA_DST: the neighbour's address; on a vxlan FDB entry, the remote underlay address. */
  dst?: string;
  /** NDA_LLADDR: the link-layer (MAC) address. */
  lladdr?: string;
  vlan?: number;
  /** NDA_PORT (vxlan FDB): the remote UDP port, when not the device's. */
  port?: number;
  /** NDA_VNI (vxlan FDB): the remote VNI, when not the device's. */
  vni?: number;
  srcVni?: number;
  /** NDA_IFINDEX (vxlan FDB): the underlay device to send through. */
  ifindex?: number;
  /** NDA_MASTER (bridge FDB): the bridge. */
  master?: number;
  linkNetnsid?: number;
  probes?: number;
  protocol?: number;
  flagsExt?: number;
  /** NDA_CACHEINFO, in clock ticks (USER_HZ) since the event. */
  cacheinfo?: { confirmed: number; used: number; updated: number; refcnt: number };
}

export function stateNames(bits: number): NudState[] {
  return (Object.keys(NUD_STATES) as NudState[]).filter((k) => bits & NUD_STATES[k]);
}

export function flagNames(bits: number): NeighFlag[] {
  return (Object.keys(NTF_FLAGS) as NeighFlag[]).filter((k) => bits & NTF_FLAGS[k]);
}

/** Whether an RTM_NEWNEIGH / RTM_DELNEIGH is of a family decodeNeighbor reads (a message too short to say is passed on, to be refused). */
export function isNeighborMessage(m: NlMessage): boolean {
  if (m.length < NLMSG_HDRLEN + C.NDMSG_LEN) return true;
  const fam = m.buf[m.offset + NLMSG_HDRLEN];
  return fam === C.AF_INET || fam === C.AF_INET6 || fam === C.AF_BRIDGE;
}

function ipAttr(a: Attrs, type: number, at: number, what: string): string | undefined {
  const b = a.bytes(type);
  if (!b) return undefined;
  if (b.length !== 4 && b.length !== 16) throw new DecodeError(what, at, `${A.NDA_NAMES[type]} has ${b.length} bytes, not an IPv4 or IPv6 address`);
  return bytesToIp(b);
}

/** Decodes an RTM_NEWNEIGH or RTM_DELNEIGH message (AF_INET, AF_INET6 or AF_BRIDGE). */
export function decodeNeighbor(m: NlMessage): Neighbor {
  const what = m.type === C.RTM_DELNEIGH ? 'RTM_DELNEIGH' : 'RTM_NEWNEIGH';
  const a = Attrs.ofMessage(m, C.NDMSG_LEN, what);
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const fam = b[at];
  if (fam !== C.AF_INET && fam !== C.AF_INET6 && fam !== C.AF_BRIDGE) {
    throw new DecodeError(what, at, `family ${fam} is not AF_INET, AF_INET6 or AF_BRIDGE`);
  }
  const ndmState = b.readUInt16LE(at + 8);
  const ndmFlags = b[at + 10];
  const out: Neighbor = {
    family: fam === C.AF_INET ? 4 : fam === C.AF_INET6 ? 6 : 'bridge',
    index: b.readInt32LE(at + 4),
    state: stateNames(ndmState),
    flags: flagNames(ndmFlags),
    ndmState,
    ndmFlags,
    ndmType: b[at + 11],
  };
  const dst = ipAttr(a, A.NDA_DST, at, what);
  if (dst !== undefined) out.dst = dst;
  const ll = a.bytes(A.NDA_LLADDR);
  if (ll) out.lladdr = formatMac(ll);
  const opt: Array<[keyof Neighbor, number | undefined]> = [
    ['vlan', a.u16(A.NDA_VLAN)],
    ['port', a.u16be(A.NDA_PORT)],
    ['vni', a.u32(A.NDA_VNI)],
    ['srcVni', a.u32(A.NDA_SRC_VNI)],
    ['ifindex', a.u32(A.NDA_IFINDEX)],
    ['master', a.u32(A.NDA_MASTER)],
    ['linkNetnsid', a.i32(A.NDA_LINK_NETNSID)],
    ['probes', a.u32(A.NDA_PROBES)],
    ['protocol', a.u8(A.NDA_PROTOCOL)],
    ['flagsExt', a.u32(A.NDA_FLAGS_EXT)],
  ];
  for (const [k, v] of opt) if (v !== undefined) (out as unknown as Record<string, number>)[k] = v;
  const ci = a.exact(A.NDA_CACHEINFO, 16);
  if (ci) out.cacheinfo = { confirmed: ci.readUInt32LE(0), used: ci.readUInt32LE(4), updated: ci.readUInt32LE(8), refcnt: ci.readUInt32LE(12) };
  return out;
}

// --- Neighbours: ip neigh add / replace / del ------------------------------

/** The states a neighbour can be given (`ip neigh ... nud STATE`). */
export const NEIGH_SET_STATES = ['permanent', 'reachable', 'noarp', 'stale', 'delay', 'probe', 'failed', 'incomplete', 'none'] as const;
export type NeighSetState = (typeof NEIGH_SET_STATES)[number];

export interface NeighborSpec {
  /** The link, by name or ifindex. */
  dev: LinkRef;
  /** The neighbour's IPv4 or IPv6 address. */
  address: string;
  /** Its MAC address. */
  lladdr?: string;
  /** Default: permanent. */
  state?: NeighSetState;
  /** NTF_ROUTER (IPv6): the neighbour is a router. */
  router?: boolean;
}

export function validateNeighbor(s: NeighborSpec): { family: Family; dst: Uint8Array; lladdr?: Uint8Array } {
  if (typeof s !== 'object' || s === null) throw new ValidationError('neighbor', s, 'expected a neighbour spec object');
  checkRef('dev', s.dev);
  const ip = parseIp('address', s.address);
  if (s.state !== undefined && !(NEIGH_SET_STATES as readonly string[]).includes(s.state)) {
    throw new ValidationError('state', s.state, `must be one of ${NEIGH_SET_STATES.join(', ')}`);
  }
  if (s.router !== undefined && typeof s.router !== 'boolean') throw new ValidationError('router', s.router, 'must be true or false');
  return { family: ip.family, dst: ip.bytes, ...(s.lladdr !== undefined ? { lladdr: parseMac('lladdr', s.lladdr) } : {}) };
}

/** ndm_state for a state name. */
export function nudOf(state: NeighSetState): number {
  return state === 'none' ? C.NUD_NONE : NUD_STATES[state];
}

abstract class NeighborRequest implements Request {
  private readonly p: ReturnType<typeof validateNeighbor>;
  constructor(
    readonly spec: NeighborSpec,
    private readonly r: Resolver,
  ) {
    this.p = validateNeighbor(spec);
  }
  abstract describe(): string;
  abstract encode(w: NlWriter, seq: number): void;
  protected write(w: NlWriter, type: number, flags: number, seq: number): void {
    const s = this.spec;
    const del = type === C.RTM_DELNEIGH;
    w.beginMessage(type, flags, seq);
    w.rawU8(this.p.family === 4 ? C.AF_INET : C.AF_INET6);
    w.rawZero(3);
    w.rawU32(this.r.index(s.dev, 'dev'));
    // ip sends NUD_PERMANENT on a delete too (the kernel ignores it there).
    w.rawU16(nudOf(del ? 'permanent' : (s.state ?? 'permanent')));
    w.rawU8(!del && s.router ? C.NTF_ROUTER : 0);
    w.rawU8(0);
    w.binary(A.NDA_DST, this.p.dst);
    if (!del && this.p.lladdr) w.binary(A.NDA_LLADDR, this.p.lladdr);
    w.endMessage();
  }
  attrName(path: number[]): string {
    return A.NDA_NAMES[path[0]] ?? String(path[0]);
  }
}

export class NeighborAddRequest extends NeighborRequest {
  describe(): string {
    return `neigh add ${this.spec.address} dev ${this.spec.dev}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  }
}

export class NeighborReplaceRequest extends NeighborRequest {
  describe(): string {
    return `neigh replace ${this.spec.address} dev ${this.spec.dev}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
  }
}

export class NeighborDeleteRequest extends NeighborRequest {
  describe(): string {
    return `neigh del ${this.spec.address} dev ${this.spec.dev}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, seq);
  }
}

/**
 * RTM_GETNEIGH dump of one family: 4, 6, or 'bridge' (the FDB). `index`
 * asks the kernel for one device's entries only: NDA_IFINDEX for neighbours,
 * ndm_ifindex for the FDB (what a strict-checking socket's dump filters on).
 */
export class NeighborDumpRequest implements Request {
  constructor(
    readonly family: Family | 'bridge',
    readonly index = 0,
  ) {}
  describe(): string {
    return this.family === 'bridge' ? 'fdb dump' : 'neigh dump';
  }
  encode(w: NlWriter, seq: number): void {
    const bridge = this.family === 'bridge';
    w.beginMessage(C.RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, seq);
    w.rawU8(bridge ? C.AF_BRIDGE : this.family === 4 ? C.AF_INET : C.AF_INET6);
    w.rawZero(3);
    w.rawU32(bridge ? this.index : 0);
    w.rawZero(4);
    if (!bridge && this.index) w.u32(A.NDA_IFINDEX, this.index);
    w.endMessage();
  }
}
