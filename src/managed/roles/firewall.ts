// The cluster controller's nftables content (table ip eucanet), the seed's
// nat and filter tables in nft form:
//
//   prerouting  (nat)     metadata DNAT; public -> private DNAT through a map
//   postrouting (nat)     metadata replies keep the instance's address;
//                         private -> public SNAT through a map; MASQUERADE the rest
//   forward (filter, drop) established; outbound; inside each group; jump <owner>-<group>
//   <owner>-<group>       the group's ingress ("authorize") rules
import type { RuleSpec } from '../../nft/batch.js';
import { rule, type RuleBuilder } from '../../nft/build/builder.js';
import type { Chain } from '../../nft/types.js';
import type { DesiredNft, DesiredSet } from '../../tx/nft-diff.js';
import { ValidationError } from '../../errors.js';
import { groupNet } from '../net.js';
import { groupChain, groupKey, type AllocatedGroup, type AllocatedState, type Rule } from '../types.js';
import { CC_TABLE, METADATA_IP } from './names.js';

const F = 'ip' as const;
const T = CC_TABLE;
const chain = (name: string, extra: Partial<Chain> = {}): Chain => ({ family: F, table: T, name, ...extra });
const at = (c: string, exprs: RuleBuilder, comment?: string): RuleSpec => ({ family: F, table: T, chain: c, exprs, ...(comment ? { comment } : {}) });

/** The nft expression of one ingress rule, toward the group's block. */
export function ingressRule(state: AllocatedState, g: AllocatedGroup, r: Rule): RuleBuilder {
  const b = rule();
  const source = r.sourceGroup !== undefined ? sourceBlock(state, r.sourceGroup) : (r.cidr ?? '0.0.0.0/0');
  if (source !== '0.0.0.0/0') b.ipSaddr(source);
  b.ipDaddr(groupNet(g).cidr);
  if (r.protocol === 'tcp' || r.protocol === 'udp') {
    b.l4proto(r.protocol);
    if (r.from !== undefined) {
      const to = r.to ?? r.from;
      b.dport(r.from === to ? r.from : `${r.from}-${to}`);
    }
  } else if (r.protocol === 'icmp') {
    b.l4proto('icmp');
    if (r.icmpType !== undefined && r.icmpType !== -1) b.icmpType(r.icmpType);
    if (r.icmpCode !== undefined && r.icmpCode !== -1) b.icmpCode(r.icmpCode);
  } else {
    b.ipProtocol(r.protocol);
  }
  return b.accept();
}

function sourceBlock(state: AllocatedState, key: string): string {
  const g = state.groups.find((x) => groupKey(x) === key);
  if (!g) throw new ValidationError('sourceGroup', key, 'unknown group');
  return groupNet(g).cidr;
}

function ruleComment(r: Rule): string {
  const src = r.sourceGroup ?? r.cidr ?? '0.0.0.0/0';
  const ports = r.from !== undefined ? ` ${r.from}${r.to !== undefined && r.to !== r.from ? `-${r.to}` : ''}` : '';
  return `authorize ${r.protocol}${ports} from ${src}`;
}

export function ccNft(state: AllocatedState): DesiredNft {
  const subnet = state.subnet;
  const withPublic = state.instances.flatMap((i) => (i.publicIp !== undefined ? [{ ...i, publicIp: i.publicIp }] : []));
  const sets: DesiredSet[] = [
    { family: F, table: T, name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr', elements: withPublic.map((i) => [i.publicIp, i.privateIp] as const) },
    { family: F, table: T, name: 'priv2pub', key: 'ipv4_addr', data: 'ipv4_addr', elements: withPublic.map((i) => [i.privateIp, i.publicIp] as const) },
  ];
  const chains: Chain[] = [
    chain('prerouting', { type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' }),
    chain('postrouting', { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' }),
    chain('forward', { type: 'filter', hook: 'forward', priority: 0, policy: 'drop' }),
    ...state.groups.map((g) => chain(groupChain(g))),
  ];
  const rules: RuleSpec[] = [];
  if (state.metadata) {
    const [mdIp, mdPort] = state.metadata.split(':') as [string, string];
    rules.push(at('prerouting', rule().ipSaddr(subnet).ipDaddr(METADATA_IP).tcpDport(80).dnat(state.metadata), 'metadata'));
    // The metadata service tells instances apart by their private address: no SNAT toward it.
    rules.push(at('postrouting', rule().ipSaddr(subnet).ipDaddr(mdIp).tcpDport(Number(mdPort)).accept(), 'metadata keeps the instance address'));
  }
  rules.push(at('prerouting', rule().dnatMap('@pub2priv'), 'public -> private'));
  rules.push(at('postrouting', rule().ipDaddr(subnet, { not: true }).snatMap('@priv2pub'), 'private -> public'));
  rules.push(at('postrouting', rule().ipSaddr('127.0.0.0/8', { not: true }).ipDaddr(subnet, { not: true }).masquerade()));
  rules.push(at('forward', rule().ctState('established', 'related').accept()));
  rules.push(at('forward', rule().ipDaddr(subnet, { not: true }).accept(), 'instances may go out'));
  for (const g of state.groups) {
    const net = groupNet(g).cidr;
    rules.push(at('forward', rule().ipSaddr(net).ipDaddr(net).accept(), `inside ${groupKey(g)}`));
  }
  for (const g of state.groups) rules.push(at('forward', rule().ipDaddr(groupNet(g).cidr).jump(groupChain(g))));
  for (const g of state.groups) {
    for (const r of g.rules) rules.push(at(groupChain(g), ingressRule(state, g, r), ruleComment(r)));
  }
  return { tables: [{ family: F, name: T }], chains, sets, rules };
}
