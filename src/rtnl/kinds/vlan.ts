// 802.1Q / 802.1ad VLAN device (kind "vlan") on a parent link.
//
// IFLA_LINK u32 parent ifindex            (outside IFLA_LINKINFO)
// IFLA_LINKINFO
//   IFLA_INFO_KIND "vlan"
//   IFLA_INFO_DATA
//     IFLA_VLAN_ID       u16  1-4094
//     IFLA_VLAN_PROTOCOL be16 0x8100 (802.1Q) or 0x88a8 (802.1ad)
import { ValidationError } from '../../errors.js';
import type { Attrs } from '../../netlink/reader.js';
import { IFLA_LINK, IFLA_VLAN_ID, IFLA_VLAN_NAMES, IFLA_VLAN_PROTOCOL } from '../attrs.js';
import { ETH_P_8021AD, ETH_P_8021Q } from '../constants.js';
import type { KindCodec, LinkRef } from './kind.js';

export type VlanProtocol = '802.1Q' | '802.1ad';

export interface VlanOptions {
  parent: LinkRef;
  id: number;
  protocol?: VlanProtocol;
}

export const vlan: KindCodec<VlanOptions> = {
  kind: 'vlan',
  dataNames: IFLA_VLAN_NAMES,
  validate(s) {
    if (!Number.isInteger(s.id) || s.id < 1 || s.id > 4094) {
      throw new ValidationError('vlan.id', s.id, 'VLAN id must be an integer in 1-4094');
    }
    if (s.protocol !== undefined && s.protocol !== '802.1Q' && s.protocol !== '802.1ad') {
      throw new ValidationError('vlan.protocol', s.protocol, "must be '802.1Q' or '802.1ad'");
    }
    if (s.parent === undefined || s.parent === '') throw new ValidationError('vlan.parent', s.parent, 'a VLAN needs a parent link');
  },
  refs: (s) => [s.parent],
  encodeTop(w, s, r) {
    w.u32(IFLA_LINK, r.index(s.parent, 'vlan.parent'));
  },
  encodeData(w, s) {
    if (s.protocol !== undefined) w.u16be(IFLA_VLAN_PROTOCOL, s.protocol === '802.1ad' ? ETH_P_8021AD : ETH_P_8021Q);
    w.u16(IFLA_VLAN_ID, s.id);
  },
  decode(d: Attrs | undefined) {
    if (!d) return {};
    const proto = d.u16be(IFLA_VLAN_PROTOCOL);
    return { id: d.u16(IFLA_VLAN_ID), protocol: proto === ETH_P_8021AD ? '802.1ad' : '802.1Q' };
  },
};
