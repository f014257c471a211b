// Routes: add, delete, dump, and the RTM_NEWROUTE decoder.
//
// RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE
//   struct rtmsg  family | dst_len | src_len | tos | table | protocol | scope | type (u8 each) | flags u32
//   RTA_DST address, RTA_GATEWAY address, RTA_OIF u32, RTA_PRIORITY u32 (metric),
//   RTA_PREFSRC address, RTA_TABLE u32 (tables above 255)
import { DecodeError, ValidationError } from '../errors.js';
import { NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST } from '../netlink/constants.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { bytesToIp, networkOf, parseCidr, parseIp, type Cidr, type Family } from '../util/ip.js';
import { RTA_DST, RTA_GATEWAY, RTA_NAMES, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE } from './attrs.js';
import { SCOPES, scopeName, type Scope } from './address.js';
import {
  AF_INET,
  AF_INET6,
  RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTMSG_LEN,
  RTN_UNICAST,
  RTPROT_BOOT,
} from './constants.js';
import type { LinkRef, Resolver } from './kinds/index.js';
import { checkRef } from './link.js';

export interface RouteSpec {
  /** "default", "10.1.0.0/16" or "fd00::/64". */
  dst: string;
  gateway?: string;
  dev?: LinkRef;
  /** Routing table id; main (254) when not given. */
  table?: number;
  /** Scope; link for device routes without a gateway, global otherwise. */
  scope?: Scope;
  metric?: number;
  /** Preferred source address. */
  src?: string;
  /** Route protocol (RTPROT_*): who added it; boot (3) when not given. eucanet marks its own. */
  protocol?: number;
}

export interface Route {
  family: Family;
  dst: string;
  table: number;
  protocol: number;
  scope: Scope | number;
  type: number;
  gateway?: string;
  oif?: number;
  metric?: number;
  src?: string;
}

interface Parsed {
  family: Family;
  dst: Cidr | null;
  gateway?: Uint8Array;
  src?: Uint8Array;
}

export function validateRoute(s: RouteSpec): Parsed {
  const out: Parsed = { family: 4, dst: null };
  if (s.dst === 'default') {
    if (s.gateway !== undefined) out.family = parseIp('gateway', s.gateway).family;
  } else {
    out.dst = parseCidr('dst', s.dst);
    out.family = out.dst.family;
  }
  if (s.gateway !== undefined) {
    const gw = parseIp('gateway', s.gateway);
    if (gw.family !== out.family) throw new ValidationError('gateway', s.gateway, `not an IPv${out.family} address like dst`);
    out.gateway = gw.bytes;
  }
  if (s.src !== undefined) out.src = parseIp('src', s.src).bytes;
  if (s.dev !== undefined) checkRef('dev', s.dev);
  if (s.gateway === undefined && s.dev === undefined) {
    throw new ValidationError('gateway', s.gateway, 'a route needs a gateway or a dev');
  }
  if (s.table !== undefined && (!Number.isInteger(s.table) || s.table < 1 || s.table > 0xffffffff)) {
    throw new ValidationError('table', s.table, 'must be an integer in 1-4294967295');
  }
  if (s.metric !== undefined && (!Number.isInteger(s.metric) || s.metric < 0 || s.metric > 0xffffffff)) {
    throw new ValidationError('metric', s.metric, 'must be an integer in 0-4294967295');
  }
  if (s.protocol !== undefined && (!Number.isInteger(s.protocol) || s.protocol < 0 || s.protocol > 255)) {
    throw new ValidationError('protocol', s.protocol, 'must be an integer in 0-255');
  }
  if (s.scope !== undefined && !Object.hasOwn(SCOPES, s.scope)) {
    throw new ValidationError('scope', s.scope, `must be one of ${Object.keys(SCOPES).join(', ')}`);
  }
  return out;
}

abstract class RouteRequest implements Request {
  private readonly p: Parsed;
  constructor(
    readonly spec: RouteSpec,
    private readonly r: Resolver,
  ) {
    this.p = validateRoute(spec);
  }
  abstract describe(): string;
  abstract encode(w: NlWriter, seq: number): void;
  protected write(w: NlWriter, type: number, flags: number, seq: number, del: boolean): void {
    const s = this.spec;
    const p = this.p;
    const table = s.table ?? RT_TABLE_MAIN;
    const scope = s.scope !== undefined ? SCOPES[s.scope] : s.gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    w.beginMessage(type, flags, seq);
    w.rawU8(p.family === 4 ? AF_INET : AF_INET6);
    w.rawU8(p.dst ? p.dst.prefix : 0);
    w.rawU8(0);
    w.rawU8(0);
    w.rawU8(table > 255 ? 0 : table);
    w.rawU8(del ? (s.protocol ?? 0) : (s.protocol ?? RTPROT_BOOT));
    w.rawU8(del && s.scope === undefined ? 255 /* RT_SCOPE_NOWHERE: any */ : scope);
    w.rawU8(del ? 0 : RTN_UNICAST);
    w.rawU32(0);
    // The order of `ip route add DST via GW src SRC metric M table T dev D`:
    // ip writes attributes as it parses them and the device last.
    if (p.dst) w.binary(RTA_DST, networkOf(p.dst));
    if (p.gateway) w.binary(RTA_GATEWAY, p.gateway);
    if (p.src) w.binary(RTA_PREFSRC, p.src);
    if (s.metric !== undefined) w.u32(RTA_PRIORITY, s.metric);
    if (table > 255) w.u32(RTA_TABLE, table);
    if (s.dev !== undefined) w.u32(RTA_OIF, this.r.index(s.dev, 'dev'));
    w.endMessage();
  }
  attrName(path: number[]): string {
    return RTA_NAMES[path[0]] ?? String(path[0]);
  }
}

export class RouteAddRequest extends RouteRequest {
  describe(): string {
    return `route add ${this.spec.dst}${this.spec.gateway ? ` via ${this.spec.gateway}` : ''}${this.spec.dev !== undefined ? ` dev ${this.spec.dev}` : ''}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, seq, false);
  }
}

export class RouteDeleteRequest extends RouteRequest {
  describe(): string {
    return `route delete ${this.spec.dst}`;
  }
  encode(w: NlWriter, seq: number): void {
    this.write(w, RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, seq, true);
  }
}

export class RouteDumpRequest implements Request {
  /**
   * `protocol`: only routes of that rtm_protocol. The kernel filters (a
   * strict-checking socket's dump request may set it in the header), so a
   * dump of eucanet's own routes does not carry the local table's thousands.
   */
  constructor(
    readonly family: 4 | 6 = 4,
    readonly protocol = 0,
  ) {}
  describe(): string {
    return 'route dump';
  }
  encode(w: NlWriter, seq: number): void {
    w.beginMessage(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, seq);
    // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
    w.rawU8(this.family === 4 ? AF_INET : AF_INET6);
    w.rawZero(4);
    w.rawU8(this.protocol);
    w.rawZero(RTMSG_LEN - 6);
    w.endMessage();
  }
}

/** Decodes an RTM_NEWROUTE message (AF_INET or AF_INET6). */
export function decodeRoute(m: NlMessage): Route {
  const a = Attrs.ofMessage(m, RTMSG_LEN, 'RTM_NEWROUTE');
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const fam = b[at];
  if (fam !== AF_INET && fam !== AF_INET6) throw new DecodeError('RTM_NEWROUTE', at, `family ${fam} is not AF_INET or AF_INET6`);
  const family: Family = fam === AF_INET ? 4 : 6;
  const len = family === 4 ? 4 : 16;
  const dstLen = b[at + 1];
  if (dstLen > len * 8) throw new DecodeError('RTM_NEWROUTE', at + 1, `destination length ${dstLen} for IPv${family}`);
  const dst = a.exact(RTA_DST, len);
  const out: Route = {
    family,
    dst: dst ? `${bytesToIp(dst)}/${dstLen}` : 'default',
    table: a.u32(RTA_TABLE) ?? b[at + 4],
    protocol: b[at + 5],
    scope: scopeName(b[at + 6]),
    type: b[at + 7],
  };
  const gw = a.exact(RTA_GATEWAY, len);
  if (gw) out.gateway = bytesToIp(gw);
  const oif = a.u32(RTA_OIF);
  if (oif !== undefined) out.oif = oif;
  const metric = a.u32(RTA_PRIORITY);
  if (metric !== undefined) out.metric = metric;
  const src = a.exact(RTA_PREFSRC, len);
  if (src) out.src = bytesToIp(src);
  return out;
}
