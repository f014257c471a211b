// Decoding RTM_NEWLINK messages (replies to get and dump) into Link objects.
import { NLMSG_HDRLEN } from '../netlink/constants.js';
import { Attrs, type NlMessage } from '../netlink/reader.js';
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

/** Decodes an RTM_NEWLINK message. */
export function decodeLink(m: NlMessage): Link {
  // Checks the length before the header is read: a message too short for its
  // ifinfomsg would otherwise read the next message's bytes.
  const a = Attrs.ofMessage(m, IFINFOMSG_LEN, 'RTM_NEWLINK');
  const b = m.buf;
  const at = m.offset + NLMSG_HDRLEN;
  const index = b.readInt32LE(at + 4);
  const flags = b.readUInt32LE(at + 8);
  const link: Link = {
    index,
    name: a.str(A.IFLA_IFNAME) ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    operstate: OPERSTATES[a.u8(A.IFLA_OPERSTATE) ?? 0] ?? 'unknown',
    mtu: a.u32(A.IFLA_MTU) ?? 0,
    group: a.u32(A.IFLA_GROUP) ?? 0,
  };
  const mac = a.bytes(A.IFLA_ADDRESS);
  if (mac && mac.length === 6) link.address = formatMac(mac);
  const master = a.u32(A.IFLA_MASTER);
  if (master) link.master = master;
  const alias = a.str(A.IFLA_IFALIAS);
  if (alias) link.alias = alias;
  const parent = a.u32(A.IFLA_LINK);
  const nsid = a.i32(A.IFLA_LINK_NETNSID);
  // IFLA_LINK equal to the link's own index means "no parent", unless the
  // parent is in another namespace, where the same number is another device.
  if (parent && (parent !== index || nsid !== undefined)) link.parent = parent;
  if (nsid !== undefined) link.linkNetnsId = nsid;
  const txq = a.u32(A.IFLA_TXQLEN);
  if (txq !== undefined) link.txqlen = txq;
  const info = a.nested(A.IFLA_LINKINFO);
  const kind = info?.str(A.IFLA_INFO_KIND);
  if (kind) {
    link.kind = kind;
    // An own property only: the kernel's string must not find Object.prototype's members.
    const codec = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
    if (codec && kind !== 'veth') {
      (link as unknown as Record<string, unknown>)[kind] = codec.decode(info?.nested(A.IFLA_INFO_DATA));
    }
  }
  return link;
}
