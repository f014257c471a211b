// Decoding RTM_NEWLINK messages (replies to get and dump) into Link objects.
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from '../netlink/constants.js';
import { DecodeError } from '../errors.js';
import { Attrs, attrsStart, strAt, type NlMessage } from '../netlink/reader.js';
import * as A from './attrs.js';
import { IFF_UP, IFINFOMSG_LEN, OPERSTATES } from './constants.js';
import { KINDS, type BridgeOptions, type MacvlanOptions, type VxlanOptions } from './kinds/index.js';

/** A link as the kernel reports it. */
export interface Link {
  index: number;
  name: string;
  kind?: string;
  flags: number;
  up: boolean;
  operstate: string;
  mtu: number;
  address?: string;
  master?: number;
  group: number;
  alias?: string;
  /** IFLA_LINK: the parent (vlan, macvlan) or the peer (veth) ifindex. */
  parent?: number;
  /** The parent or peer lives in another namespace, known to this one by this id. */
  linkNetnsId?: number;
  txqlen?: number;
  bridge?: Required<BridgeOptions>;
  vlan?: { id: number; protocol: '802.1Q' | '802.1ad' };
  vxlan?: Partial<VxlanOptions>;
  macvlan?: Partial<MacvlanOptions>;
}

/**
 * Decodes an RTM_NEWLINK message. One pass over the attributes, reading each
 * one decodeLink wants as it goes by (the first of a type counts, as with
 * Attrs): a dump of thousands of links builds no attribute index per link.
 * The checks are those of Attrs: every attribute's length fits the message,
 * and an attribute read is long enough for what is read from it.
 */
export function decodeLink(m: NlMessage): Link {
  // Checks the length before the header is read: a message too short for its
  // ifinfomsg would otherwise read the next message's bytes.
  const start = attrsStart(m, IFINFOMSG_LEN, WHAT);
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const end = m.offset + m.length;
  const index = b.readInt32LE(at + 4);
  const flags = b.readUInt32LE(at + 8);
  let name: string | undefined;
  let operstate = -1;
  let mtu = -1;
  let group = -1;
  let mac = -1;
  let macLen = 0;
  let master = -1;
  let alias: string | undefined;
  let parent = -1;
  let nsid: number | undefined;
  let txq = -1;
  let info = -1;
  let infoLen = 0;
  for (let off = start; off < end;) {
    const len = attrLen(b, off, end);
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    const p = off + NLA_HDRLEN;
    const n = len - NLA_HDRLEN;
    off += (len + 3) & ~3;
    switch (type) {
      case A.IFLA_IFNAME:
        if (name === undefined) name = strAt(b, p, n);
        break;
      case A.IFLA_IFALIAS:
        if (alias === undefined) alias = recentStr(b, p, n, recentAlias);
        break;
      case A.IFLA_OPERSTATE:
        if (operstate < 0) operstate = b[sized(p, n, 1, type)];
        break;
      case A.IFLA_MTU:
        if (mtu < 0) mtu = b.readUInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_GROUP:
        if (group < 0) group = b.readUInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_MASTER:
        if (master < 0) master = b.readUInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_LINK:
        if (parent < 0) parent = b.readUInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_LINK_NETNSID:
        if (nsid === undefined) nsid = b.readInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_TXQLEN:
        if (txq < 0) txq = b.readUInt32LE(sized(p, n, 4, type));
        break;
      case A.IFLA_ADDRESS:
        if (mac < 0) {
          mac = p;
          macLen = n;
        }
        break;
      case A.IFLA_LINKINFO:
        if (info < 0) {
          info = p;
          infoLen = n;
        }
        break;
    }
  }
  const link: Link = {
    index,
    name: name ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    operstate: OPERSTATES[operstate < 0 ? 0 : operstate] ?? 'unknown',
    mtu: mtu < 0 ? 0 : mtu,
    group: group < 0 ? 0 : group,
  };
  if (macLen === 6) link.address = macAt(b, mac);
  if (master > 0) link.master = master;
  if (alias) link.alias = alias;
  // IFLA_LINK equal to the link's own index means "no parent", unless the
  // parent is in another namespace, where the same number is another device.
  if (parent > 0 && (parent !== index || nsid !== undefined)) link.parent = parent;
  if (nsid !== undefined) link.linkNetnsId = nsid;
  if (txq >= 0) link.txqlen = txq;
  if (info >= 0) kindOf(link, b, info, info + infoLen);
  return link;
}

const WHAT = 'RTM_NEWLINK';

/** `p` if the attribute's `n` bytes hold `need`; DecodeError otherwise. */
function sized(p: number, n: number, need: number, type: number): number {
  if (n < need) throw new DecodeError(WHAT, p - NLA_HDRLEN, `attribute type ${type} has ${n} bytes, needs ${need}`);
  return p;
}

/**
 * The length of the attribute at `off`, checked as Attrs checks it: a whole
 * header, a length of at least the header, and no further than `end`.
 */
function attrLen(b: Buffer, off: number, end: number): number {
  const left = end - off;
  if (left < NLA_HDRLEN) throw new DecodeError(WHAT, off, `${left} trailing bytes, too few for an attribute header`);
  const len = b[off] | (b[off + 1] << 8);
  if (len < NLA_HDRLEN || len > left) {
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    throw new DecodeError(WHAT, off, `attribute type ${type} has length ${len} (at least ${NLA_HDRLEN}; ${left} bytes left)`);
  }
  return len;
}

/** The last string read for a field whose value repeats from link to link (the kind, eucanet's port alias). */
interface Recent {
  s: string;
}
const recentKind: Recent = { s: '' };
const recentAlias: Recent = { s: '' };

/**
 * strAt(b, p, n), but the string read last for the same field is returned
 * again when the bytes are the same (ASCII only): a dump of a thousand taps
 * then holds one "tun" and one alias string, not a thousand of each.
 */
function recentStr(b: Buffer, p: number, n: number, last: Recent): string {
  let len = 0;
  while (len < n && b[p + len] !== 0) len++;
  const s = last.s;
  if (s.length === len) {
    let i = 0;
    while (i < len && b[p + i] < 0x80 && b[p + i] === s.charCodeAt(i)) i++;
    if (i === len) return s;
  }
  return (last.s = b.toString('utf8', p, p + len));
}

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const hi = (x: number) => HEX_CODES[x >> 4];
const lo = (x: number) => HEX_CODES[x & 15];
const COLON = 58;

/** The 6 bytes at `p` as a MAC address, as formatMac writes it, built as one string. */
function macAt(b: Buffer, p: number): string {
  const o0 = b[p];
  const o1 = b[p + 1];
  const o2 = b[p + 2];
  const o3 = b[p + 3];
  const o4 = b[p + 4];
  const o5 = b[p + 5];
  // prettier-ignore
  return String.fromCharCode(hi(o0), lo(o0), COLON, hi(o1), lo(o1), COLON, hi(o2), lo(o2), COLON,
    hi(o3), lo(o3), COLON, hi(o4), lo(o4), COLON, hi(o5), lo(o5));
}

/**
 * The kind (IFLA_INFO_KIND) and the kind's own settings (IFLA_INFO_DATA),
 * from the IFLA_LINKINFO area b[start, end): one pass, checked as Attrs
 * checks a nest, the first of each type counting; an attribute index only
 * for the settings of a kind that has a codec.
 */
function kindOf(link: Link, b: Buffer, start: number, end: number): void {
  let kind = -1;
  let kindLen = 0;
  let data = -1;
  let dataLen = 0;
  for (let off = start; off < end;) {
    const len = attrLen(b, off, end);
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    if (type === A.IFLA_INFO_KIND && kind < 0) {
      kind = off + NLA_HDRLEN;
      kindLen = len - NLA_HDRLEN;
    } else if (type === A.IFLA_INFO_DATA && data < 0) {
      data = off + NLA_HDRLEN;
      dataLen = len - NLA_HDRLEN;
    }
    off += (len + 3) & ~3;
  }
  if (kind < 0) return;
  const name = recentStr(b, kind, kindLen, recentKind);
  if (!name) return;
  link.kind = name;
  // An own property only: the kernel's string must not find Object.prototype's members.
  const codec = Object.hasOwn(KINDS, name) ? KINDS[name] : undefined;
  if (codec && name !== 'veth') {
    (link as unknown as Record<string, unknown>)[name] = codec.decode(data >= 0 ? new Attrs(b, data, data + dataLen, WHAT) : undefined);
  }
}
