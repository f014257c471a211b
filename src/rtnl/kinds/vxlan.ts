// VXLAN device (kind "vxlan"). `remote` (unicast) and `multicastGroup` are the
// same attribute to the kernel; it tells them apart by the address. (Not
// `group`: that is every link's device group, IFLA_GROUP.)
//
// IFLA_LINKINFO
//   IFLA_INFO_KIND "vxlan"
//   IFLA_INFO_DATA
//     IFLA_VXLAN_TTL       u8
//     IFLA_VXLAN_LINK      u32   underlying device ifindex
//     IFLA_VXLAN_ID        u32   VNI, 1-16777215
//     IFLA_VXLAN_LOCAL     4 B   local underlay address (IFLA_VXLAN_LOCAL6)
//     IFLA_VXLAN_GROUP     4 B   remote or group (IFLA_VXLAN_GROUP6 for IPv6)
//     IFLA_VXLAN_LEARNING  u8
//     IFLA_VXLAN_PORT      be16  UDP destination port
import { ValidationError } from '../../errors.js';
import type { Attrs } from '../../netlink/reader.js';
import { bytesToIp, parseIp } from '../../util/ip.js';
import {
  IFLA_VXLAN_GROUP,
  IFLA_VXLAN_GROUP6,
  IFLA_VXLAN_ID,
  IFLA_VXLAN_LEARNING,
  IFLA_VXLAN_LINK,
  IFLA_VXLAN_LOCAL,
  IFLA_VXLAN_LOCAL6,
  IFLA_VXLAN_NAMES,
  IFLA_VXLAN_PORT,
  IFLA_VXLAN_TTL,
} from '../attrs.js';
import type { KindCodec, LinkRef } from './kind.js';

export interface VxlanOptions {
  vni: number;
  local?: string;
  /** Unicast remote endpoint. */
  remote?: string;
  /** Multicast group (`ip ... type vxlan group ADDR`). */
  multicastGroup?: string;
  /** UDP port; 4789 (IANA) when not given. */
  port?: number;
  /** Underlying device. */
  device?: LinkRef;
  ttl?: number;
  learning?: boolean;
}

export const VXLAN_PORT = 4789;

export const vxlan: KindCodec<VxlanOptions> = {
  kind: 'vxlan',
  dataNames: IFLA_VXLAN_NAMES,
  validate(s) {
    if (!Number.isInteger(s.vni) || s.vni < 1 || s.vni > 0xffffff) {
      throw new ValidationError('vxlan.vni', s.vni, 'VNI must be an integer in 1-16777215');
    }
    if (s.remote !== undefined && s.multicastGroup !== undefined) {
      throw new ValidationError('vxlan.multicastGroup', s.multicastGroup, 'give either remote or multicastGroup, not both');
    }
    if (s.local !== undefined) parseIp('vxlan.local', s.local);
    if (s.remote !== undefined) parseIp('vxlan.remote', s.remote);
    if (s.multicastGroup !== undefined) parseIp('vxlan.multicastGroup', s.multicastGroup);
    if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) {
      throw new ValidationError('vxlan.port', s.port, 'must be a UDP port in 1-65535');
    }
    if (s.ttl !== undefined && (!Number.isInteger(s.ttl) || s.ttl < 0 || s.ttl > 255)) {
      throw new ValidationError('vxlan.ttl', s.ttl, 'must be 0-255');
    }
  },
  refs: (s) => (s.device !== undefined ? [s.device] : []),
  // The order `ip link add ... type vxlan ttl T dev D ...` uses: ip writes ttl
  // and dev as it parses them, then id, local, remote/group, learning, port.
  encodeData(w, s, r) {
    if (s.ttl !== undefined) w.u8(IFLA_VXLAN_TTL, s.ttl);
    if (s.device !== undefined) w.u32(IFLA_VXLAN_LINK, r.index(s.device, 'vxlan.device'));
    w.u32(IFLA_VXLAN_ID, s.vni);
    if (s.local !== undefined) {
      const ip = parseIp('vxlan.local', s.local);
      w.binary(ip.family === 4 ? IFLA_VXLAN_LOCAL : IFLA_VXLAN_LOCAL6, ip.bytes);
    }
    const peer = s.remote ?? s.multicastGroup;
    if (peer !== undefined) {
      const ip = parseIp(s.remote !== undefined ? 'vxlan.remote' : 'vxlan.multicastGroup', peer);
      w.binary(ip.family === 4 ? IFLA_VXLAN_GROUP : IFLA_VXLAN_GROUP6, ip.bytes);
    }
    if (s.learning !== undefined) w.u8(IFLA_VXLAN_LEARNING, s.learning ? 1 : 0);
    w.u16be(IFLA_VXLAN_PORT, s.port ?? VXLAN_PORT);
  },
  decode(d: Attrs | undefined) {
    if (!d) return {};
    const out: Record<string, unknown> = { vni: d.u32(IFLA_VXLAN_ID), port: d.u16be(IFLA_VXLAN_PORT) };
    const peer = d.exact(IFLA_VXLAN_GROUP, 4) ?? d.exact(IFLA_VXLAN_GROUP6, 16);
    if (peer && peer.some((b) => b !== 0)) {
      const text = bytesToIp(peer);
      const multicast = peer.length === 4 ? (peer[0] & 0xf0) === 0xe0 : peer[0] === 0xff;
      out[multicast ? 'multicastGroup' : 'remote'] = text;
    }
    const local = d.exact(IFLA_VXLAN_LOCAL, 4) ?? d.exact(IFLA_VXLAN_LOCAL6, 16);
    if (local && local.some((b) => b !== 0)) out.local = bytesToIp(local);
    const link = d.u32(IFLA_VXLAN_LINK);
    if (link) out.device = link;
    const ttl = d.u8(IFLA_VXLAN_TTL);
    if (ttl !== undefined) out.ttl = ttl;
    const learning = d.u8(IFLA_VXLAN_LEARNING);
    if (learning !== undefined) out.learning = learning === 1;
    return out;
  },
};
