// Bridge forwarding database entries (`bridge fdb add / append / replace / del`):
// RTM_NEWNEIGH / RTM_DELNEIGH with ndm_family AF_BRIDGE (see neigh.ts for the
// message layout and the decoder, decodeNeighbor, which reads these too).
//
// On a vxlan device, entries with NTF_SELF say where to send a MAC: NDA_DST
// (the remote's underlay address), NDA_PORT, NDA_VNI, NDA_IFINDEX. The
// all-zeros MAC is the flood list: every entry of it (added with NLM_F_APPEND,
// one per remote) gets a copy of broadcast, unknown-unicast and multicast
// frames — head-end replication, with no multicast group.
import { ValidationError } from '../errors.js';
import { NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST } from '../netlink/constants.js';
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { parseIp, parseMac } from '../util/ip.js';
import * as A from './attrs.js';
import * as C from './constants.js';
import type { LinkRef, Resolver } from './kinds/index.js';
import { checkRef } from './link.js';

/**
 * `bridge fdb`'s states: permanent (NUD_PERMANENT|NUD_NOARP; the default),
 * static (NUD_REACHABLE|NUD_NOARP), dynamic (NUD_REACHABLE: ages out).
 */
export const FDB_STATES = {
  permanent: C.NUD_PERMANENT | C.NUD_NOARP,
  static: C.NUD_REACHABLE | C.NUD_NOARP,
  dynamic: C.NUD_REACHABLE,
} as const;
export type FdbState = keyof typeof FDB_STATES;

export interface FdbSpec {
  /** The device: a bridge port (with `master`) or a vxlan device (with `self`). */
  dev: LinkRef;
  /** The MAC address; 00:00:00:00:00:00 on a vxlan device is the flood list. */
  lladdr: string;
  /** NDA_DST: the remote's underlay IP (vxlan). */
  dst?: string;
  /** NDA_VNI: the remote VNI (vxlan), 0-16777215; default the device's. */
  vni?: number;
  /** NDA_PORT: the remote UDP port (vxlan), 1-65535; default the device's. */
  port?: number;
  /** NDA_IFINDEX: the underlay device to send through (vxlan). */
  via?: LinkRef;
  /** NTF_SELF: the entry is the device's own (vxlan, or a bridge's own table). */
  self?: boolean;
  /** NTF_MASTER: the entry is in the bridge the device is a port of. */
  master?: boolean;
  /** Default: permanent. */
  state?: FdbState;
}

export const VNI_MAX = 0xffffff;

function checkInt(field: string, v: unknown, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(field, v, `must be an integer in ${min}-${max}`);
  }
}

/**
 * Each spec's MAC and remote as parsed when it was last validated: an op is
 * validated as it is added to a transaction and again by its request and its
 * undo (tx/commit.ts), so the text is parsed once for as long as the spec
 * holds the same strings (the other fields are checked each time).
 */
const parsed = new WeakMap<FdbSpec, { lladdrText: string; dstText: string | undefined; lladdr: Uint8Array; dst: Uint8Array | undefined }>();

function addressesOf(s: FdbSpec): { lladdr: Uint8Array; dst: Uint8Array | undefined } {
  const had = parsed.get(s);
  if (had !== undefined && had.lladdrText === s.lladdr && had.dstText === s.dst) return had;
  const lladdr = parseMac('lladdr', s.lladdr);
  const dst = s.dst !== undefined ? parseIp('dst', s.dst).bytes : undefined;
  parsed.set(s, { lladdrText: s.lladdr, dstText: s.dst, lladdr, dst });
  return { lladdr, dst };
}

export function validateFdb(s: FdbSpec): { lladdr: Uint8Array; dst?: Uint8Array } {
  if (typeof s !== 'object' || s === null) throw new ValidationError('fdb', s, 'expected an FDB entry spec object');
  checkRef('dev', s.dev);
  const { lladdr, dst } = addressesOf(s);
  if (s.vni !== undefined) checkInt('vni', s.vni, 0, VNI_MAX);
  if (s.port !== undefined) checkInt('port', s.port, 1, 65535);
  if (s.via !== undefined) checkRef('via', s.via);
  for (const k of ['self', 'master'] as const) {
    if (s[k] !== undefined && typeof s[k] !== 'boolean') throw new ValidationError(k, s[k], 'must be true or false');
  }
  if (s.state !== undefined && !Object.hasOwn(FDB_STATES, s.state)) {
    throw new ValidationError('state', s.state, `must be one of ${Object.keys(FDB_STATES).join(', ')}`);
  }
  return dst ? { lladdr, dst } : { lladdr };
}

/** The words `bridge fdb` takes for a spec, after the verb: "00:00:00:00:00:00 dev vx0 dst 10.0.0.2 self permanent". */
export function fdbWords(s: FdbSpec): string {
  const w = [s.lladdr, 'dev', String(s.dev)];
  if (s.dst !== undefined) w.push('dst', s.dst);
  if (s.port !== undefined) w.push('port', String(s.port));
  if (s.vni !== undefined) w.push('vni', String(s.vni));
  if (s.via !== undefined) w.push('via', String(s.via));
  if (s.self) w.push('self');
  if (s.master) w.push('master');
  w.push(s.state ?? 'permanent');
  return w.join(' ');
}

abstract class FdbRequest implements Request {
  private readonly p: ReturnType<typeof validateFdb>;
  constructor(
    readonly spec: FdbSpec,
    private readonly r: Resolver,
  ) {
    this.p = validateFdb(spec);
  }
  abstract readonly verb: string;
  abstract encode(w: NlWriter, seq: number): void;
  describe(): string {
    return `fdb ${this.verb} ${fdbWords(this.spec)}`;
  }
  protected write(w: NlWriter, type: number, flags: number, seq: number): void {
    const s = this.spec;
    w.beginMessage(type, flags, seq);
    w.rawU8(C.AF_BRIDGE);
    w.rawZero(3);
    w.rawU32(this.r.index(s.dev, 'dev'));
    w.rawU16(FDB_STATES[s.state ?? 'permanent']);
    w.rawU8((s.self ? C.NTF_SELF : 0) | (s.master ? C.NTF_MASTER : 0));
    w.rawU8(0);
    // bridge's order: lladdr, dst, port, vni, ifindex.
    w.binary(A.NDA_LLADDR, this.p.lladdr);
    if (this.p.dst) w.binary(A.NDA_DST, this.p.dst);
    if (s.port !== undefined) w.u16be(A.NDA_PORT, s.port);
    if (s.vni !== undefined) w.u32(A.NDA_VNI, s.vni);
    if (s.via !== undefined) w.u32(A.NDA_IFINDEX, this.r.index(s.via, 'via'));
    w.endMessage();
  }
  attrName(path: number[]): string {
    return A.NDA_NAMES[path[0]] ?? String(path[0]);
  }
}

/** `bridge fdb add`: refused (EEXIST) if the MAC has an entry. */
export class FdbAddRequest extends FdbRequest {
  readonly verb = 'add';
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq);
  }
}

/** `bridge fdb append`: one more destination for the MAC (vxlan: a flood list entry). */
export class FdbAppendRequest extends FdbRequest {
  readonly verb = 'append';
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND, seq);
  }
}

/** `bridge fdb replace`: creates the entry or replaces its (first) destination. */
export class FdbReplaceRequest extends FdbRequest {
  readonly verb = 'replace';
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, seq);
  }
}

/** `bridge fdb del`: on a vxlan device with `dst`, only that destination of the MAC. */
export class FdbDeleteRequest extends FdbRequest {
  readonly verb = 'del';
  encode(w: NlWriter, seq: number): void {
    this.write(w, C.RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK, seq);
  }
}
