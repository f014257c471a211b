// counter: count packets and bytes that reach it.
//
//   NFTA_EXPR_NAME "counter"
//   NFTA_EXPR_DATA {
//     NFTA_COUNTER_BYTES    be64   (optional on write: start value)
//     NFTA_COUNTER_PACKETS  be64
//   }
// nft writes an empty NFTA_EXPR_DATA for a fresh counter. The kernel reports
// both values; decode leaves zero values out, so a fresh counter reads back
// as written, and live counts show up as numbers.
import { NFTA_COUNTER_BYTES, NFTA_COUNTER_PACKETS } from './constants.js';
import type { CounterExpr } from '../../types.js';
import type { ExprCodec } from './codec.js';

export const counter: ExprCodec<CounterExpr> = {
  name: 'counter',
  attrs: ['NFTA_COUNTER_UNSPEC', 'NFTA_COUNTER_BYTES', 'NFTA_COUNTER_PACKETS'],
  encode(w, e) {
    if (e.bytes !== undefined) w.u64be(NFTA_COUNTER_BYTES, e.bytes);
    if (e.packets !== undefined) w.u64be(NFTA_COUNTER_PACKETS, e.packets);
  },
  decode(a) {
    const e: CounterExpr = { kind: 'counter' };
    const packets = a.u64be(NFTA_COUNTER_PACKETS);
    const bytes = a.u64be(NFTA_COUNTER_BYTES);
    if (packets) e.packets = packets;
    if (bytes) e.bytes = bytes;
    return e;
  },
};
