// A conntrack tuple on the wire (CTA_TUPLE_ORIG / CTA_TUPLE_REPLY):
//
//   CTA_TUPLE_IP    nest { CTA_IP_V4_SRC, CTA_IP_V4_DST (4 bytes) | CTA_IP_V6_SRC, CTA_IP_V6_DST (16) }
//   CTA_TUPLE_PROTO nest { CTA_PROTO_NUM u8, CTA_PROTO_SRC_PORT be16, CTA_PROTO_DST_PORT be16
//                          | CTA_PROTO_ICMP_ID be16, CTA_PROTO_ICMP_TYPE u8, CTA_PROTO_ICMP_CODE u8
//                          (ICMPV6 twins for IPv6) }
//   CTA_TUPLE_ZONE  be16 (only for a zone of one direction)
import { DecodeError } from '../errors.js';
import type { Attrs } from '../netlink/reader.js';
import type { NlWriter } from '../netlink/writer.js';
import { bytesToIp, parseIp } from '../util/ip.js';
import {
  CTA_IP_V4_DST,
  CTA_IP_V4_SRC,
  CTA_IP_V6_DST,
  CTA_IP_V6_SRC,
  CTA_PROTO_DST_PORT,
  CTA_PROTO_ICMPV6_CODE,
  CTA_PROTO_ICMPV6_ID,
  CTA_PROTO_ICMPV6_TYPE,
  CTA_PROTO_ICMP_CODE,
  CTA_PROTO_ICMP_ID,
  CTA_PROTO_ICMP_TYPE,
  CTA_PROTO_NUM,
  CTA_PROTO_SRC_PORT,
  CTA_TUPLE_IP,
  CTA_TUPLE_PROTO,
  CTA_TUPLE_ZONE,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from './constants.js';
import type { CtProtocol, CtTuple } from './types.js';

const PROTO_NUM: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP, icmp: IPPROTO_ICMP, icmpv6: IPPROTO_ICMPV6 };
const PROTO_NAME: Record<number, CtProtocol> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp', [IPPROTO_ICMP]: 'icmp', [IPPROTO_ICMPV6]: 'icmpv6' };

export function protocolNumber(p: CtProtocol): number {
  return typeof p === 'number' ? p : PROTO_NUM[p];
}
export function protocolOf(n: number): CtProtocol {
  return PROTO_NAME[n] ?? n;
}

/** Decodes one tuple nest; `proto` receives CTA_PROTO_NUM. */
export function decodeTuple(a: Attrs, v6: boolean): { tuple: CtTuple; proto: number } {
  const ip = a.nested(CTA_TUPLE_IP);
  const pr = a.nested(CTA_TUPLE_PROTO);
  if (!ip || !pr) throw new DecodeError(a.what, a.start, 'tuple without CTA_TUPLE_IP or CTA_TUPLE_PROTO');
  const n = v6 ? 16 : 4;
  const src = ip.exact(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, n);
  const dst = ip.exact(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, n);
  if (!src || !dst) throw new DecodeError(a.what, ip.start, `tuple without its IPv${v6 ? 6 : 4} source or destination`);
  const proto = pr.u8(CTA_PROTO_NUM);
  if (proto === undefined) throw new DecodeError(a.what, pr.start, 'tuple without CTA_PROTO_NUM');
  const tuple: CtTuple = { src: bytesToIp(src), dst: bytesToIp(dst) };
  const icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
  if (icmp) {
    const six = proto === IPPROTO_ICMPV6;
    const id = pr.u16be(six ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID);
    const type = pr.u8(six ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE);
    const code = pr.u8(six ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE);
    if (id !== undefined) tuple.icmpId = id;
    if (type !== undefined) tuple.icmpType = type;
    if (code !== undefined) tuple.icmpCode = code;
  } else {
    const sport = pr.u16be(CTA_PROTO_SRC_PORT);
    const dport = pr.u16be(CTA_PROTO_DST_PORT);
    if (sport !== undefined) tuple.sport = sport;
    if (dport !== undefined) tuple.dport = dport;
  }
  const zone = a.u16be(CTA_TUPLE_ZONE);
  if (zone !== undefined) tuple.zone = zone;
  return { tuple, proto };
}

/** Encodes `t` as nest `type` (CTA_TUPLE_ORIG or CTA_TUPLE_REPLY). Addresses were validated. */
export function encodeTuple(w: NlWriter, type: number, t: CtTuple, proto: number, field: string): void {
  const src = parseIp(`${field}.src`, t.src);
  const dst = parseIp(`${field}.dst`, t.dst);
  const v6 = src.family === 6;
  const outer = w.nestStart(type, true);
  const ip = w.nestStart(CTA_TUPLE_IP, true);
  w.binary(v6 ? CTA_IP_V6_SRC : CTA_IP_V4_SRC, src.bytes);
  w.binary(v6 ? CTA_IP_V6_DST : CTA_IP_V4_DST, dst.bytes);
  w.nestEnd(ip);
  const pr = w.nestStart(CTA_TUPLE_PROTO, true);
  w.u8(CTA_PROTO_NUM, proto);
  if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    const six = proto === IPPROTO_ICMPV6;
    if (t.icmpId !== undefined) w.u16be(six ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID, t.icmpId);
    if (t.icmpType !== undefined) w.u8(six ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE, t.icmpType);
    if (t.icmpCode !== undefined) w.u8(six ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE, t.icmpCode);
  } else {
    if (t.sport !== undefined) w.u16be(CTA_PROTO_SRC_PORT, t.sport);
    if (t.dport !== undefined) w.u16be(CTA_PROTO_DST_PORT, t.dport);
  }
  w.nestEnd(pr);
  if (t.zone !== undefined) w.u16be(CTA_TUPLE_ZONE, t.zone);
  w.nestEnd(outer);
}
