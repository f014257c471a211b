// Name <-> number tables for families, hooks, verdicts and priorities.
// Numbers from /usr/include/linux/netfilter.h and nf_tables.h.
import {
  NFPROTO_ARP,
  NFPROTO_BRIDGE,
  NFPROTO_INET,
  NFPROTO_IPV4,
  NFPROTO_IPV6,
  NFPROTO_NETDEV,
  NF_ACCEPT,
  NF_DROP,
  NFT_BREAK,
  NFT_CONTINUE,
  NFT_GOTO,
  NFT_JUMP,
  NFT_RETURN,
  NF_INET_FORWARD,
  NF_INET_INGRESS,
  NF_INET_LOCAL_IN,
  NF_INET_LOCAL_OUT,
  NF_INET_POST_ROUTING,
  NF_INET_PRE_ROUTING,
  NF_NETDEV_EGRESS,
  NF_NETDEV_INGRESS,
} from './wire/constants.js';
import { DecodeError } from '../errors.js';
import type { Family, Hook, VerdictCode } from './types.js';

export const FAMILY_NUM: Record<Family, number> = {
  ip: NFPROTO_IPV4,
  ip6: NFPROTO_IPV6,
  inet: NFPROTO_INET,
  arp: NFPROTO_ARP,
  bridge: NFPROTO_BRIDGE,
  netdev: NFPROTO_NETDEV,
};
const FAMILY_BY_NUM = new Map<number, Family>(Object.entries(FAMILY_NUM).map(([k, v]) => [v, k as Family]));
/** The family of a kernel message's nfgen_family byte at `at`; DecodeError for a number nft has no family for. */
export function familyName(n: number, at: number): Family {
  const f = FAMILY_BY_NUM.get(n);
  if (!f) throw new DecodeError('nfgenmsg', at, `unknown nfgen_family ${n}`);
  return f;
}
export const FAMILIES = Object.keys(FAMILY_NUM) as Family[];

const INET_HOOKS: Partial<Record<Hook, number>> = {
  prerouting: NF_INET_PRE_ROUTING,
  input: NF_INET_LOCAL_IN,
  forward: NF_INET_FORWARD,
  output: NF_INET_LOCAL_OUT,
  postrouting: NF_INET_POST_ROUTING,
};
// NF_ARP_IN, NF_ARP_OUT, NF_ARP_FORWARD (/usr/include/linux/netfilter_arp.h)
const ARP_HOOKS: Partial<Record<Hook, number>> = { input: 0, output: 1, forward: 2 };
const NETDEV_HOOKS: Partial<Record<Hook, number>> = { ingress: NF_NETDEV_INGRESS, egress: NF_NETDEV_EGRESS };

function hookTable(family: Family): Partial<Record<Hook, number>> {
  if (family === 'netdev') return NETDEV_HOOKS;
  if (family === 'arp') return ARP_HOOKS;
  if (family === 'inet') return { ...INET_HOOKS, ingress: NF_INET_INGRESS };
  return INET_HOOKS;
}
/** The hook number, or undefined if the family has no such hook. */
export function hookNum(family: Family, hook: Hook): number | undefined {
  return hookTable(family)[hook];
}
/** The hook of a kernel NFTA_HOOK_HOOKNUM (its nest at `at`); DecodeError for a number the family has no hook for. */
export function hookName(family: Family, n: number, at: number): Hook {
  for (const [k, v] of Object.entries(hookTable(family))) if (v === n) return k as Hook;
  throw new DecodeError('NFTA_CHAIN_HOOK', at, `unknown hook ${n} in family ${family}`);
}

export const VERDICT_NUM: Record<VerdictCode, number> = {
  accept: NF_ACCEPT,
  drop: NF_DROP,
  continue: NFT_CONTINUE,
  break: NFT_BREAK,
  jump: NFT_JUMP,
  goto: NFT_GOTO,
  return: NFT_RETURN,
};
const VERDICT_BY_NUM = new Map<number, VerdictCode>(Object.entries(VERDICT_NUM).map(([k, v]) => [v, k as VerdictCode]));
export const isVerdictCode = (n: number): boolean => VERDICT_BY_NUM.has(n);
/** The verdict of a kernel NFTA_VERDICT_CODE (its nest at `at`); DecodeError for an unknown code. */
export function verdictName(n: number, at: number): VerdictCode {
  const v = VERDICT_BY_NUM.get(n);
  if (!v) throw new DecodeError('NFTA_DATA_VERDICT', at, `unknown verdict code ${n}`);
  return v;
}

/** Standard priority names nft prints, per family (nft(8), "PRIORITY"). */
export function priorityName(family: Family, prio: number): string | undefined {
  const table: Record<string, number> =
    family === 'bridge'
      ? { dstnat: -300, filter: -200, out: 100, srcnat: 300 }
      : { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };
  for (const [k, v] of Object.entries(table)) if (v === prio) return k;
  return undefined;
}
