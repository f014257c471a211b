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

/** A group's part of the table: its chain, its two forward rules, its ingress rules. */
interface GroupNft {
  chain: Chain;
  inside: RuleSpec;
  jump: RuleSpec;
  ingress: RuleSpec[];
}

/**
 * Each group's part, per group object, with the source blocks of its rules
 * it was made with (a rule's source may be another group's block): a group
 * unchanged since the last plan (the store and allocation hand it over as
 * the same object) gets the same frozen rule objects, which the next delta
 * (tx/delta.ts) compares by identity instead of as text.
 */
const groupMemo = new WeakMap<AllocatedGroup, { sources: string; part: GroupNft }>();

function groupPart(state: AllocatedState, g: AllocatedGroup, blocks: () => Map<string, string>): GroupNft {
  let sources = '';
  for (const r of g.rules) {
    if (r.sourceGroup === undefined) continue;
    const b = blocks().get(r.sourceGroup);
    if (b === undefined) throw new ValidationError('sourceGroup', r.sourceGroup, 'unknown group');
    sources += `${b} `;
  }
  const had = groupMemo.get(g);
  if (had && had.sources === sources) return had.part;
  const net = groupNet(g).cidr;
  const part: GroupNft = {
    chain: Object.freeze(chain(groupChain(g))),
    inside: Object.freeze(at('forward', rule().ipSaddr(net).ipDaddr(net).accept(), `inside ${groupKey(g)}`)),
    jump: Object.freeze(at('forward', rule().ipDaddr(net).jump(groupChain(g)))),
    ingress: g.rules.map((r) => Object.freeze(at(groupChain(g), ingressRule(state, g, r), ruleComment(r)))),
  };
  groupMemo.set(g, { sources, part });
  return part;
}

/** Every group's block by key, made only when asked for (a rule names a source group). */
function blocksOf(state: AllocatedState): () => Map<string, string> {
  let byKey: Map<string, string> | undefined;
  return () => (byKey ??= new Map(state.groups.map((g) => [groupKey(g), groupNet(g).cidr])));
}

/**
 * The ingress rules of group `g` (one of `state`'s groups), in its chain, as
 * ccNft makes them: the same frozen objects for a group object they were
 * made for (the CC agent's rules-only sync: agent/cc-rules-sync.ts).
 */
export function groupIngress(state: AllocatedState, g: AllocatedGroup): readonly RuleSpec[] {
  return groupPart(state, g, blocksOf(state)).ingress;
}

export function ccNft(state: AllocatedState): DesiredNft {
  const subnet = state.subnet;
  const pub2priv: Array<readonly [string, string]> = [];
  const priv2pub: Array<readonly [string, string]> = [];
  for (const i of state.instances) {
    if (i.publicIp === undefined) continue;
    pub2priv.push([i.publicIp, i.privateIp]);
    priv2pub.push([i.privateIp, i.publicIp]);
  }
  const sets: DesiredSet[] = [
    { family: F, table: T, name: 'pub2priv', key: 'ipv4_addr', data: 'ipv4_addr', elements: pub2priv },
    { family: F, table: T, name: 'priv2pub', key: 'ipv4_addr', data: 'ipv4_addr', elements: priv2pub },
  ];
  const blocks = blocksOf(state);
  const parts = state.groups.map((g) => groupPart(state, g, blocks));
  const chains: Chain[] = [
    chain('prerouting', { type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' }),
    chain('postrouting', { type: 'nat', hook: 'postrouting', priority: 100, policy: 'accept' }),
    chain('forward', { type: 'filter', hook: 'forward', priority: 0, policy: 'drop' }),
    ...parts.map((p) => p.chain),
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
  for (const p of parts) rules.push(p.inside);
  for (const p of parts) rules.push(p.jump);
  for (const p of parts) rules.push(...p.ingress);
  return { tables: [{ family: F, name: T }], chains, sets, rules };
}
