// ctnetlink requests:
//
//   dump    IPCTNL_MSG_CT_GET     NLM_F_REQUEST | NLM_F_DUMP, nfgen_family = AF_* or AF_UNSPEC,
//                                 optional CTA_MARK + CTA_MARK_MASK, CTA_STATUS + CTA_STATUS_MASK, CTA_ZONE,
//                                 CTA_TUPLE_ORIG { CTA_TUPLE_IP { src and/or dst } } + CTA_FILTER { CTA_FILTER_ORIG_FLAGS }
//   delete  IPCTNL_MSG_CT_DELETE  NLM_F_REQUEST | NLM_F_ACK, CTA_TUPLE_ORIG [, CTA_ZONE] [, CTA_ID]
//   flush   IPCTNL_MSG_CT_DELETE  no tuple: the kernel deletes every entry its filter selects
//                                 (family, mark, status, zone; not CTA_FILTER)
//   count   IPCTNL_MSG_CT_GET_STATS  NLM_F_REQUEST | NLM_F_ACK, AF_UNSPEC: answered with
//                                 CTA_STATS_GLOBAL_ENTRIES, the namespace's entry count
import { ValidationError } from '../errors.js';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../netlink/constants.js';
import type { Request } from '../netlink/socket.js';
import type { NlWriter } from '../netlink/writer.js';
import { bytesToIp, ipFamily } from '../util/ip.js';
import {
  AF_INET,
  AF_INET6,
  CTA_ID,
  CTA_TUPLE_ORIG,
  CTA_ZONE,
  IPCTNL_MSG_CT_DELETE,
  IPCTNL_MSG_CT_GET,
  IPCTNL_MSG_CT_GET_STATS,
  AF_UNSPEC,
  NFNETLINK_V0,
  NFNL_SUBSYS_CTNETLINK,
} from './constants.js';
import { checkProtocol, encodeKernelFilter, encodeOrigFilter, type CompiledFilter } from './filter.js';
import { deleteCommand } from './render.js';
import { encodeTuple } from './tuple.js';
import type { CtEntry, CtTuple } from './types.js';

/** What a delete needs: the original tuple and protocol, and (best) the id and zone. */
export type CtEntryRef = Pick<CtEntry, 'protocol' | 'orig'> & Partial<Pick<CtEntry, 'id' | 'zone'>>;

function begin(w: NlWriter, msg: number, flags: number, seq: number, family: number): void {
  w.beginMessage((NFNL_SUBSYS_CTNETLINK << 8) | msg, flags, seq, 0);
  w.rawU8(family);
  w.rawU8(NFNETLINK_V0);
  w.rawU16BE(0);
}

function describeFilter(c: CompiledFilter): string {
  const parts: string[] = [];
  if (c.family === AF_INET) parts.push('-f ipv4');
  if (c.family === AF_INET6) parts.push('-f ipv6');
  if (c.mark) parts.push(`-m ${c.mark.value}/0x${c.mark.mask.toString(16)}`);
  if (c.status) parts.push(`status 0x${c.status.value.toString(16)}/0x${c.status.mask.toString(16)}`);
  if (c.zone !== undefined) parts.push(`-w ${c.zone}`);
  if (c.origAddr?.src) parts.push(`-s ${bytesToIp(c.origAddr.src)}`);
  if (c.origAddr?.dst) parts.push(`-d ${bytesToIp(c.origAddr.dst)}`);
  return parts.length ? ` ${parts.join(' ')}` : '';
}

export function dumpRequest(c: CompiledFilter): Request {
  return {
    describe: () => `conntrack -L${describeFilter(c)}`,
    encode(w, seq) {
      begin(w, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP, seq, c.family);
      encodeKernelFilter(w, c);
      encodeOrigFilter(w, c);
      w.endMessage();
    },
  };
}

/** The namespace's conntrack entry count (every family, the unconfirmed ones too): no walk of the table. */
export function countRequest(): Request {
  return {
    describe: () => 'conntrack -C',
    encode(w, seq) {
      begin(w, IPCTNL_MSG_CT_GET_STATS, NLM_F_REQUEST | NLM_F_ACK, seq, AF_UNSPEC);
      w.endMessage();
    },
  };
}

export function flushRequest(c: CompiledFilter): Request {
  return {
    describe: () => `conntrack -F${describeFilter(c)}`,
    encode(w, seq) {
      begin(w, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, seq, c.family);
      encodeKernelFilter(w, c);
      w.endMessage();
    },
  };
}

const port = (field: string, v: unknown): void => {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535)) throw new ValidationError(field, v, 'expected a port 0..65535');
};
const byte = (field: string, v: unknown): void => {
  if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255)) throw new ValidationError(field, v, 'expected an integer 0..255');
};

/** Checks an entry to delete; returns its protocol number and address family. */
export function checkEntryRef(e: CtEntryRef): { proto: number; family: number } {
  if (typeof e !== 'object' || e === null) throw new ValidationError('entry', e, 'expected a conntrack entry');
  const proto = checkProtocol('protocol', e.protocol);
  const t: CtTuple = e.orig;
  if (typeof t !== 'object' || t === null) throw new ValidationError('orig', t, 'expected the original tuple { src, dst, ... }');
  const fs = typeof t.src === 'string' ? ipFamily(t.src) : undefined;
  const fd = typeof t.dst === 'string' ? ipFamily(t.dst) : undefined;
  if (!fs) throw new ValidationError('orig.src', t.src, 'expected an IPv4 or IPv6 address');
  if (!fd) throw new ValidationError('orig.dst', t.dst, 'expected an IPv4 or IPv6 address');
  if (fs !== fd) throw new ValidationError('orig.dst', t.dst, `is IPv${fd} but orig.src is IPv${fs}`);
  port('orig.sport', t.sport);
  port('orig.dport', t.dport);
  port('orig.icmpId', t.icmpId);
  byte('orig.icmpType', t.icmpType);
  byte('orig.icmpCode', t.icmpCode);
  if (t.zone !== undefined && (!Number.isInteger(t.zone) || t.zone < 0 || t.zone > 65535)) throw new ValidationError('orig.zone', t.zone, 'expected 0..65535');
  if (e.zone !== undefined && (!Number.isInteger(e.zone) || e.zone < 0 || e.zone > 65535)) throw new ValidationError('zone', e.zone, 'expected 0..65535');
  if (e.id !== undefined && (!Number.isInteger(e.id) || e.id < 0 || e.id > 0xffffffff)) throw new ValidationError('id', e.id, 'expected 0..4294967295');
  return { proto, family: fs === 6 ? AF_INET6 : AF_INET };
}

/** Deletes one entry by its original tuple (+ zone, + id when known). Check it with checkEntryRef first. */
export function deleteRequest(e: CtEntryRef, proto: number, family: number): Request {
  return {
    describe: () => deleteCommand(e),
    encode(w, seq) {
      begin(w, IPCTNL_MSG_CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, seq, family);
      encodeTuple(w, CTA_TUPLE_ORIG, e.orig, proto, 'orig');
      if (e.zone) w.u16be(CTA_ZONE, e.zone);
      if (e.id !== undefined) w.u32be(CTA_ID, e.id);
      w.endMessage();
    },
  };
}
