// veth pair (kind "veth"): the peer's name and, optionally, its namespace.
//
// IFLA_LINKINFO
//   IFLA_INFO_KIND "veth"
//   IFLA_INFO_DATA
//     VETH_INFO_PEER            struct ifinfomsg, then attributes:
//       IFLA_ADDRESS    6 bytes peer MAC, when given
//       IFLA_NET_NS_FD  u32     peer namespace (an open fd), when not our own
//       IFLA_IFNAME     string  peer name
import type { Attrs } from '../../netlink/reader.js';
import type { Netns } from '../../netlink/socket.js';
import { IFLA_ADDRESS, IFLA_IFNAME, IFLA_NET_NS_FD, VETH_INFO_NAMES, VETH_INFO_PEER } from '../attrs.js';
import { IFINFOMSG_LEN } from '../constants.js';
import { parseMac } from '../../util/ip.js';
import { validateLinkName } from './names.js';
import type { KindCodec } from './kind.js';

export interface VethOptions {
  peer: string;
  /** The namespace the peer end is created in (name, path or fd). */
  peerNetns?: Netns;
  peerAddress?: string;
}

export const veth: KindCodec<VethOptions> = {
  kind: 'veth',
  dataNames: VETH_INFO_NAMES,
  validate(s) {
    validateLinkName('veth.peer', s.peer);
    if (s.peerAddress !== undefined) parseMac('veth.peerAddress', s.peerAddress);
  },
  refs: () => [],
  encodeData(w, s, r) {
    const peer = w.nestStart(VETH_INFO_PEER);
    w.rawZero(IFINFOMSG_LEN);
    // ip's order: the peer's other attributes, then its name.
    if (s.peerAddress !== undefined) w.binary(IFLA_ADDRESS, parseMac('veth.peerAddress', s.peerAddress));
    if (s.peerNetns !== undefined) w.u32(IFLA_NET_NS_FD, r.netnsFd(s.peerNetns, 'veth.peerNetns'));
    w.str(IFLA_IFNAME, s.peer);
    w.nestEnd(peer);
  },
  // The kernel does not report the peer in IFLA_INFO_DATA; IFLA_LINK names its ifindex.
  decode: (_d: Attrs | undefined) => ({}),
};
