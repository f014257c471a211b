// Decoding one IPCTNL_MSG_CT_NEW (a dump's entry):
//
//   nlmsghdr  type = NFNL_SUBSYS_CTNETLINK << 8 | IPCTNL_MSG_CT_NEW
//   nfgenmsg  u8 nfgen_family (AF_INET / AF_INET6) | u8 version | be16 res_id
//   CTA_TUPLE_ORIG, CTA_TUPLE_REPLY  nests (tuple.ts)
//   CTA_STATUS be32, CTA_MARK be32, CTA_ZONE be16, CTA_TIMEOUT be32, CTA_ID be32, CTA_USE be32
//   CTA_PROTOINFO nest { CTA_PROTOINFO_TCP nest { CTA_PROTOINFO_TCP_STATE u8, ... } }
import { DecodeError } from '../errors.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
import {
  AF_INET,
  AF_INET6,
  CTA_ID,
  CTA_MARK,
  CTA_PROTOINFO,
  CTA_PROTOINFO_TCP,
  CTA_PROTOINFO_TCP_STATE,
  CTA_STATUS,
  CTA_TIMEOUT,
  CTA_TUPLE_ORIG,
  CTA_TUPLE_REPLY,
  CTA_USE,
  CTA_ZONE,
  IPCTNL_MSG_CT_NEW,
  IPS_NAMES,
  NFGENMSG_LEN,
  NFNL_SUBSYS_CTNETLINK,
  TCP_CONNTRACK_NAMES,
} from './constants.js';
import { decodeTuple, protocolOf } from './tuple.js';
import type { CtEntry, CtStatusName } from './types.js';

const WHAT = 'IPCTNL_MSG_CT_NEW';

/** IPS_* bits to names, lowest bit first; bits this table has no name for are left out. */
export function statusNames(status: number): CtStatusName[] {
  const out: CtStatusName[] = [];
  for (let bit = 0; bit < IPS_NAMES.length; bit++) if (status & (1 << bit)) out.push(IPS_NAMES[bit]);
  return out;
}

/** Decodes one entry. Throws DecodeError (only) on anything malformed. */
export function decodeEntry(m: NlMessage): CtEntry {
  if (m.type !== ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW)) {
    throw new DecodeError(WHAT, m.offset, `message type 0x${m.type.toString(16)} is not a conntrack entry`);
  }
  const a = Attrs.ofMessage(m, NFGENMSG_LEN, WHAT);
  const fam = m.buf[m.offset + 16];
  if (fam !== AF_INET && fam !== AF_INET6) throw new DecodeError(WHAT, m.offset + 16, `nfgen_family ${fam} is not AF_INET or AF_INET6`);
  const v6 = fam === AF_INET6;
  const o = a.nested(CTA_TUPLE_ORIG);
  const r = a.nested(CTA_TUPLE_REPLY);
  if (!o || !r) throw new DecodeError(WHAT, m.offset, 'entry without CTA_TUPLE_ORIG or CTA_TUPLE_REPLY');
  const orig = decodeTuple(o, v6);
  const reply = decodeTuple(r, v6);
  const status = a.u32be(CTA_STATUS) ?? 0;
  const e: CtEntry = {
    family: v6 ? 'ipv6' : 'ipv4',
    protocol: protocolOf(orig.proto),
    orig: orig.tuple,
    reply: reply.tuple,
    status,
    statusNames: statusNames(status),
    mark: a.u32be(CTA_MARK) ?? 0,
    zone: a.u16be(CTA_ZONE) ?? 0,
  };
  const timeout = a.u32be(CTA_TIMEOUT);
  if (timeout !== undefined) e.timeout = timeout;
  const id = a.u32be(CTA_ID);
  if (id !== undefined) e.id = id;
  const use = a.u32be(CTA_USE);
  if (use !== undefined) e.use = use;
  const tcp = a.nested(CTA_PROTOINFO)?.nested(CTA_PROTOINFO_TCP);
  const state = tcp?.u8(CTA_PROTOINFO_TCP_STATE);
  if (tcp && state !== undefined) {
    const name = TCP_CONNTRACK_NAMES[state];
    if (name === undefined) throw new DecodeError(WHAT, tcp.start, `TCP state ${state} has no name (TCP_CONNTRACK_*)`);
    e.tcpState = name;
  }
  return e;
}
