// nat: source or destination NAT to addresses/ports held in registers.
//
//   NFTA_EXPR_NAME "nat"
//   NFTA_EXPR_DATA {
//     NFTA_NAT_TYPE            be32  enum nft_nat_types: 0 snat, 1 dnat
//     NFTA_NAT_FAMILY          be32  NFPROTO_IPV4 (2) / NFPROTO_IPV6 (10)
//     NFTA_NAT_REG_ADDR_MIN    be32  register holding the (first) address
//     NFTA_NAT_REG_ADDR_MAX    be32  register holding the last address of a range
//     NFTA_NAT_REG_PROTO_MIN   be32  register holding the (first) port, be16
//     NFTA_NAT_REG_PROTO_MAX   be32  last port of a range
//     NFTA_NAT_FLAGS           be32  NF_NAT_RANGE_* (/usr/include/linux/netfilter/nf_nat.h)
//   }
// Example, "dnat to 169.254.169.254:8773": immediate reg 1 = a9fea9fe, immediate
// reg 2 = 2245, then TYPE 1, FAMILY 2, ADDR_MIN 1, PROTO_MIN 2, FLAGS 2 (PROTO_SPECIFIED).
//
// Like nft, ADDR_MAX / PROTO_MAX are only sent for real ranges and FLAGS only
// when non-zero. The kernel reports MAX = MIN and adds MAP_IPS /
// PROTO_SPECIFIED on dumps; decode folds those back so a rule reads back as
// written.
import {
  NFTA_NAT_FAMILY,
  NFTA_NAT_FLAGS,
  NFTA_NAT_REG_ADDR_MAX,
  NFTA_NAT_REG_ADDR_MIN,
  NFTA_NAT_REG_PROTO_MAX,
  NFTA_NAT_REG_PROTO_MIN,
  NFTA_NAT_TYPE,
  NFT_NAT_DNAT,
  NF_NAT_RANGE_MAP_IPS,
  NF_NAT_RANGE_NETMAP,
  NF_NAT_RANGE_PERSISTENT,
  NF_NAT_RANGE_PROTO_RANDOM,
  NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  NF_NAT_RANGE_PROTO_SPECIFIED,
} from './constants.js';
import { NFPROTO_IPV4, NFPROTO_IPV6 } from '../constants.js';
import type { NatExpr, NatFlag } from '../../types.js';
import { req, type ExprCodec } from './codec.js';

const NAT_FLAG_BITS: Record<NatFlag, number> = {
  random: NF_NAT_RANGE_PROTO_RANDOM,
  'fully-random': NF_NAT_RANGE_PROTO_RANDOM_FULLY,
  persistent: NF_NAT_RANGE_PERSISTENT,
  netmap: NF_NAT_RANGE_NETMAP,
};

export function natFlagBits(flags: readonly NatFlag[] | undefined): number {
  let n = 0;
  for (const f of flags ?? []) n |= NAT_FLAG_BITS[f];
  return n;
}

/** The user-visible flags; MAP_IPS and PROTO_SPECIFIED follow from the registers. */
export function natFlagNames(bits: number): NatFlag[] | undefined {
  const out = (Object.keys(NAT_FLAG_BITS) as NatFlag[]).filter((f) => bits & NAT_FLAG_BITS[f]);
  return out.length ? out : undefined;
}

export const nat: ExprCodec<NatExpr> = {
  name: 'nat',
  attrs: [
    'NFTA_NAT_UNSPEC',
    'NFTA_NAT_TYPE',
    'NFTA_NAT_FAMILY',
    'NFTA_NAT_REG_ADDR_MIN',
    'NFTA_NAT_REG_ADDR_MAX',
    'NFTA_NAT_REG_PROTO_MIN',
    'NFTA_NAT_REG_PROTO_MAX',
    'NFTA_NAT_FLAGS',
  ],
  encode(w, e) {
    w.u32be(NFTA_NAT_TYPE, e.nat === 'dnat' ? NFT_NAT_DNAT : 0);
    w.u32be(NFTA_NAT_FAMILY, e.family === 'ip6' ? NFPROTO_IPV6 : NFPROTO_IPV4);
    if (e.regAddrMin !== undefined) w.u32be(NFTA_NAT_REG_ADDR_MIN, e.regAddrMin);
    if (e.regAddrMax !== undefined) w.u32be(NFTA_NAT_REG_ADDR_MAX, e.regAddrMax);
    if (e.regProtoMin !== undefined) w.u32be(NFTA_NAT_REG_PROTO_MIN, e.regProtoMin);
    if (e.regProtoMax !== undefined) w.u32be(NFTA_NAT_REG_PROTO_MAX, e.regProtoMax);
    const flags = natFlagBits(e.flags) | (e.regProtoMin !== undefined ? NF_NAT_RANGE_PROTO_SPECIFIED : 0);
    if (flags) w.u32be(NFTA_NAT_FLAGS, flags);
  },
  decode(a) {
    const e: NatExpr = {
      kind: 'nat',
      nat: req(a.u32be(NFTA_NAT_TYPE), 'nat type') === NFT_NAT_DNAT ? 'dnat' : 'snat',
      family: a.u32be(NFTA_NAT_FAMILY) === NFPROTO_IPV6 ? 'ip6' : 'ip',
    };
    const amin = a.u32be(NFTA_NAT_REG_ADDR_MIN);
    const amax = a.u32be(NFTA_NAT_REG_ADDR_MAX);
    const pmin = a.u32be(NFTA_NAT_REG_PROTO_MIN);
    const pmax = a.u32be(NFTA_NAT_REG_PROTO_MAX);
    if (amin !== undefined) e.regAddrMin = amin;
    if (amax !== undefined && amax !== amin) e.regAddrMax = amax;
    if (pmin !== undefined) e.regProtoMin = pmin;
    if (pmax !== undefined && pmax !== pmin) e.regProtoMax = pmax;
    const flags = natFlagNames((a.u32be(NFTA_NAT_FLAGS) ?? 0) & ~(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED));
    if (flags) e.flags = flags;
    return e;
  },
};
