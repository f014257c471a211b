// Bridge (kind "bridge"): STP, forward delay, hello time, multicast snooping.
//
// IFLA_LINKINFO
//   IFLA_INFO_KIND  "bridge"
//   IFLA_INFO_DATA
//     IFLA_BR_STP_STATE       u32  0 off, 1 on
//     IFLA_BR_FORWARD_DELAY   u32  centiseconds (USER_HZ)
//     IFLA_BR_HELLO_TIME      u32  centiseconds
//     IFLA_BR_MCAST_SNOOPING  u8   0 off, 1 on (the kernel's default for a new bridge)
import { ValidationError } from '../../errors.js';
import type { Attrs } from '../../netlink/reader.js';
import type { NlWriter } from '../../netlink/writer.js';
import { IFLA_BR_FORWARD_DELAY, IFLA_BR_HELLO_TIME, IFLA_BR_MCAST_SNOOPING, IFLA_BR_NAMES, IFLA_BR_STP_STATE } from '../attrs.js';
import type { KindCodec } from './kind.js';

export interface BridgeOptions {
  /** Spanning tree on or off (Eucalyptus: `brctl stp off`). */
  stp?: boolean;
  /** Forward delay in seconds (Eucalyptus: `brctl setfd 2`); 2-30 with STP on, any with it off. */
  forwardDelay?: number;
  /** Hello time in seconds, 1-10. */
  helloTime?: number;
  /**
   * IGMP/MLD snooping (`ip link ... type bridge mcast_snooping 0|1`). The
   * kernel turns it on for a new bridge; off, the bridge floods multicast to
   * all its ports like a plain switch, and a port with carrier costs about a
   * third less to add (bench/bridge-options.mjs).
   */
  multicastSnooping?: boolean;
}

const centis = (s: number) => Math.round(s * 100);

function checkSeconds(field: string, v: number | undefined, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ValidationError(field, v, `must be a number of seconds in ${min}-${max}`);
  }
}

export const bridge: KindCodec<BridgeOptions> = {
  kind: 'bridge',
  dataNames: IFLA_BR_NAMES,
  validate(s) {
    checkSeconds('bridge.forwardDelay', s.forwardDelay, 0, 30);
    checkSeconds('bridge.helloTime', s.helloTime, 1, 10);
    if (s.stp !== undefined && typeof s.stp !== 'boolean') throw new ValidationError('bridge.stp', s.stp, 'must be true or false');
    if (s.multicastSnooping !== undefined && typeof s.multicastSnooping !== 'boolean') {
      throw new ValidationError('bridge.multicastSnooping', s.multicastSnooping, 'must be true or false');
    }
  },
  refs: () => [],
  encodeData(w: NlWriter, s) {
    // ip writes these in the order it is given them; this is `stp_state F forward_delay F hello_time F`.
    if (s.stp !== undefined) w.u32(IFLA_BR_STP_STATE, s.stp ? 1 : 0);
    if (s.forwardDelay !== undefined) w.u32(IFLA_BR_FORWARD_DELAY, centis(s.forwardDelay));
    if (s.helloTime !== undefined) w.u32(IFLA_BR_HELLO_TIME, centis(s.helloTime));
    if (s.multicastSnooping !== undefined) w.u8(IFLA_BR_MCAST_SNOOPING, s.multicastSnooping ? 1 : 0);
  },
  decode(d: Attrs | undefined) {
    if (!d) return {};
    return {
      stp: d.u32(IFLA_BR_STP_STATE) !== 0,
      forwardDelay: (d.u32(IFLA_BR_FORWARD_DELAY) ?? 0) / 100,
      helloTime: (d.u32(IFLA_BR_HELLO_TIME) ?? 0) / 100,
      multicastSnooping: d.u8(IFLA_BR_MCAST_SNOOPING) !== 0,
    };
  },
};
