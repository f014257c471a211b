// Decoding RTM_NEWLINK messages (replies to get and dump) into Link objects.
import { NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from '../netlink/constants.js';
import { DecodeError } from '../errors.js';
import { Attrs, attrsStart, strAt, type NlMessage } from '../netlink/reader.js';
import { formatMac } from '../util/ip.js';
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
    const left = end - off;
    if (left < NLA_HDRLEN) throw new DecodeError(WHAT, off, `${left} trailing bytes, too few for an attribute header`);
    const len = b[off] | (b[off + 1] << 8);
    const type = (b[off + 2] | (b[off + 3] << 8)) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || len > left) {
      throw new DecodeError(WHAT, off, `attribute type ${type} has length ${len} (at least ${NLA_HDRLEN}; ${left} bytes left)`);
    }
    const p = off + NLA_HDRLEN;
    const n = len - NLA_HDRLEN;
    off += (len + 3) & ~3;
    switch (type) {
      case A.IFLA_IFNAME:
        if (name === undefined) name = strAt(b, p, n);
        break;
      case A.IFLA_IFALIAS:
        if (alias === undefined) alias = strAt(b, p, n);
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
  if (macLen === 6) link.address = formatMac(b.subarray(mac, mac + 6));
  if (master > 0) link.master = master;
  if (alias) link.alias = alias;
  // IFLA_LINK equal to the link's own index means "no parent", unless the
  // parent is in another namespace, where the same number is another device.
  if (parent > 0 && (parent !== index || nsid !== undefined)) link.parent = parent;
  if (nsid !== undefined) link.linkNetnsId = nsid;
  if (txq >= 0) link.txqlen = txq;
  if (info >= 0) kindOf(link, new Attrs(b, info, info + infoLen, WHAT));
  return link;
}

const WHAT = 'RTM_NEWLINK';

/** `p` if the attribute's `n` bytes hold `need`; DecodeError otherwise. */
function sized(p: number, n: number, need: number, type: number): number {
  if (n < need) throw new DecodeError(WHAT, p - NLA_HDRLEN, `attribute type ${type} has ${n} bytes, needs ${need}`);
  return p;
}

/** The kind (IFLA_INFO_KIND) and the kind's own settings (IFLA_INFO_DATA), from IFLA_LINKINFO. */
function kindOf(link: Link, info: Attrs): void {
  const kind = info.str(A.IFLA_INFO_KIND);
  if (!kind) return;
  link.kind = kind;
  // An own property only: the kernel's string must not find Object.prototype's members.
  const codec = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (codec && kind !== 'veth') {
    (link as unknown as Record<string, unknown>)[kind] = codec.decode(info.nested(A.IFLA_INFO_DATA));
  }
}
