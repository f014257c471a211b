// macvlan device (kind "macvlan") on a parent link.
//
// IFLA_LINK u32 parent ifindex            (outside IFLA_LINKINFO)
// IFLA_LINKINFO
//   IFLA_INFO_KIND "macvlan"
//   IFLA_INFO_DATA
//     IFLA_MACVLAN_MODE u32  enum macvlan_mode
import { ValidationError } from '../../errors.js';
import type { Attrs } from '../../netlink/reader.js';
import { IFLA_LINK, IFLA_MACVLAN_MODE, IFLA_MACVLAN_NAMES } from '../attrs.js';
import { MACVLAN_MODE_BRIDGE, MACVLAN_MODE_PASSTHRU, MACVLAN_MODE_PRIVATE, MACVLAN_MODE_SOURCE, MACVLAN_MODE_VEPA } from '../constants.js';
import type { KindCodec, LinkRef } from './kind.js';

export type MacvlanMode = 'private' | 'vepa' | 'bridge' | 'passthru' | 'source';

export interface MacvlanOptions {
  parent: LinkRef;
  mode?: MacvlanMode;
}

const MODES: Record<MacvlanMode, number> = {
  private: MACVLAN_MODE_PRIVATE,
  vepa: MACVLAN_MODE_VEPA,
  bridge: MACVLAN_MODE_BRIDGE,
  passthru: MACVLAN_MODE_PASSTHRU,
  source: MACVLAN_MODE_SOURCE,
};

export const macvlan: KindCodec<MacvlanOptions> = {
  kind: 'macvlan',
  dataNames: IFLA_MACVLAN_NAMES,
  validate(s) {
    if (s.mode !== undefined && !Object.hasOwn(MODES, s.mode)) {
      throw new ValidationError('macvlan.mode', s.mode, `must be one of ${Object.keys(MODES).join(', ')}`);
    }
    if (s.parent === undefined || s.parent === '') throw new ValidationError('macvlan.parent', s.parent, 'a macvlan needs a parent link');
  },
  refs: (s) => [s.parent],
  encodeTop(w, s, r) {
    w.u32(IFLA_LINK, r.index(s.parent, 'macvlan.parent'));
  },
  encodeData(w, s) {
    if (s.mode !== undefined) w.u32(IFLA_MACVLAN_MODE, MODES[s.mode]);
  },
  decode(d: Attrs | undefined) {
    const m = d?.u32(IFLA_MACVLAN_MODE);
    const mode = (Object.keys(MODES) as MacvlanMode[]).find((k) => MODES[k] === m);
    return mode ? { mode } : {};
  },
};
