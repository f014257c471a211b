// Semantic checks of security groups and their ingress rules.
import { ValidationError } from '../errors.js';
import type { NetCtx } from './check-network.js';
import { clustersOf } from './clusters.js';
import { checkIcmp, checkPort, checkVlanNumber, Unique } from './fields.js';
import { contains, formatBlock, lastOf, parseBlock, type Block } from './net.js';
import { groupChain, groupKey, type Group, type Rule, type State } from './types.js';
import { must } from '../util/must.js';

export interface GroupInfo {
  index: number;
  key: string;
  vlan?: number;
  block?: Block;
}

/** Checks every group and rule; returns the groups by "owner/name". */
export function checkGroups(s: State, ctx: NetCtx): Map<string, GroupInfo> {
  const groups = new Map<string, GroupInfo>();
  const keys = new Unique<string>('group');
  const chains = new Unique<string>('chain name (<owner>-<name>)');
  const vlans = new Unique<number>('vlan');
  const blocks = new Unique<number>('group subnet');
  (s.groups ?? []).forEach((g, i) => {
    const field = `groups[${i}]`;
    const key = groupKey(g);
    keys.add(key, `${field}.name`, g.name);
    chains.add(groupChain(g), `${field}.name`, g.name);
    const info: GroupInfo = { index: i, key };
    if (g.vlan !== undefined) {
      checkGroupVlan(s, ctx, g.vlan, `${field}.vlan`);
      vlans.add(g.vlan, `${field}.vlan`, g.vlan);
      info.vlan = g.vlan;
    }
    if (g.subnet !== undefined) {
      info.block = checkGroupSubnet(ctx, g.subnet, `${field}.subnet`);
      blocks.add(info.block.network, `${field}.subnet`, g.subnet);
    }
    groups.set(key, info);
  });
  (s.groups ?? []).forEach((g, i) => checkRules(g, `groups[${i}]`, groups));
  return groups;
}

/** One group's checks that do not depend on the other groups, and what the checks across groups need of it. */
export interface GroupAlone {
  key: string;
  chain: string;
  vlan?: number;
  block?: Block;
  /** The groups its rules name as sources (each must exist). */
  sources: string[];
}

/**
 * Checks one group (already valid by the schema) as checkGroups does, but
 * for what involves other groups: unique names, chains, VLANs and subnets,
 * and that its rules' source groups exist, which the caller checks across
 * the list with what this returns (check-incremental.ts: only a changed
 * group is checked again). Throws the ValidationError checkGroups would.
 */
export function checkGroupAlone(s: State, ctx: NetCtx, g: Group, field = 'group'): GroupAlone {
  const out: GroupAlone = { key: groupKey(g), chain: groupChain(g), sources: [] };
  if (g.vlan !== undefined) {
    checkGroupVlan(s, ctx, g.vlan, `${field}.vlan`);
    out.vlan = g.vlan;
  }
  if (g.subnet !== undefined) out.block = checkGroupSubnet(ctx, g.subnet, `${field}.subnet`);
  checkRules(g, field, undefined);
  for (const r of g.rules ?? []) if (r.sourceGroup !== undefined) out.sources.push(r.sourceGroup);
  return out;
}

function checkGroupVlan(s: State, ctx: NetCtx, vlan: number, field: string): void {
  checkVlanNumber(field, vlan);
  const [lo, hi] = ctx.vlanRange;
  if (vlan < lo || vlan > hi) throw new ValidationError(field, vlan, `is outside vlanRange ${lo}-${hi}`);
  if (ctx.segmentation !== 'vlan' && ctx.segmentation !== 'auto') return;
  // The VLAN device <privateInterface>.<vlan> must fit in IFNAMSIZ - 1 bytes.
  const hosts: Array<[string, string]> = [];
  for (const c of clustersOf(s)) {
    hosts.push([`${c.ccField}.privateInterface`, c.cc.privateInterface]);
    for (const [n, h] of Object.entries(c.nodes)) hosts.push([c.nodeField(n, 'privateInterface'), h.privateInterface]);
  }
  for (const [hostField, ifname] of hosts) {
    const dev = `${ifname}.${vlan}`;
    if (Buffer.byteLength(dev) > 15) {
      throw new ValidationError(field, vlan, `VLAN device ${dev} on ${hostField} would be longer than 15 bytes`);
    }
  }
}

function checkGroupSubnet(ctx: NetCtx, text: string, field: string): Block {
  const b = parseBlock(field, text, { requirePrefix: true });
  if (b.prefix !== ctx.blockPrefix) {
    throw new ValidationError(field, text, `must be a /${ctx.blockPrefix} (a block of addrsPerNet ${ctx.addrsPerNet} addresses)`);
  }
  if (!contains(ctx.subnet, b.network) || !contains(ctx.subnet, lastOf(b))) {
    throw new ValidationError(field, text, `is outside the private subnet ${formatBlock(ctx.subnet)}`);
  }
  return b;
}

const PORTS = new Set<Rule['protocol']>(['tcp', 'udp', 6, 17]);
const ICMP = new Set<Rule['protocol']>(['icmp', 1]);

/**
 * The groups by key from each one's own checks (in list order), when what
 * must hold across them holds (checkGroups' unique names, chains, VLANs and
 * subnets; every rule's source group exists); else undefined.
 */
export function groupsAcross(all: readonly GroupAlone[]): Map<string, GroupInfo> | undefined {
  const out = new Map<string, GroupInfo>();
  const chains = new Set<string>();
  const vlans = new Set<number>();
  const blocks = new Set<number>();
  for (let i = 0; i < all.length; i++) {
    const a = all[i];
    if (out.has(a.key) || chains.has(a.chain)) return undefined;
    if (a.vlan !== undefined && vlans.has(a.vlan)) return undefined;
    if (a.block && blocks.has(a.block.network)) return undefined;
    chains.add(a.chain);
    const info: GroupInfo = { index: i, key: a.key };
    if (a.vlan !== undefined) vlans.add((info.vlan = a.vlan));
    if (a.block) blocks.add((info.block = a.block).network);
    out.set(a.key, info);
  }
  for (const a of all) for (const src of a.sources) if (!out.has(src)) return undefined;
  return out;
}

/** A group's rules; their source groups must be in `groups` (undefined: not checked here). */
function checkRules(g: Group, field: string, groups: Map<string, GroupInfo> | undefined): void {
  const seen = new Unique<string>('rule');
  (g.rules ?? []).forEach((r, j) => {
    const f = `${field}.rules[${j}]`;
    checkProtocol(r, f);
    checkRulePorts(r, f);
    checkRuleIcmp(r, f);
    checkSource(r, f, groups);
    seen.add(ruleIdentity(r), f, r);
  });
}

function checkProtocol(r: Rule, f: string): void {
  const p = r.protocol;
  const ok = typeof p === 'number' ? Number.isInteger(p) && p >= 0 && p <= 255 : ['tcp', 'udp', 'icmp'].includes(p);
  if (!ok) throw new ValidationError(`${f}.protocol`, p, 'must be "tcp", "udp", "icmp" or a protocol number 0-255');
}

function checkRulePorts(r: Rule, f: string): void {
  if (r.from === undefined && r.to === undefined) return;
  const which = r.from !== undefined ? 'from' : 'to';
  if (!PORTS.has(r.protocol)) {
    throw new ValidationError(`${f}.${which}`, r[which], `ports apply to tcp and udp only, not ${r.protocol}`);
  }
  if (r.from === undefined) throw new ValidationError(`${f}.from`, undefined, 'is required when "to" is given');
  checkPort(`${f}.from`, r.from);
  if (r.to === undefined) return;
  checkPort(`${f}.to`, r.to);
  if (r.to < r.from) throw new ValidationError(`${f}.to`, r.to, `is below from (${r.from})`);
}

function checkRuleIcmp(r: Rule, f: string): void {
  if (r.icmpType === undefined && r.icmpCode === undefined) return;
  const which = r.icmpType !== undefined ? 'icmpType' : 'icmpCode';
  if (!ICMP.has(r.protocol)) {
    throw new ValidationError(`${f}.${which}`, r[which], `applies to icmp only, not ${r.protocol}`);
  }
  if (r.icmpType !== undefined) checkIcmp(`${f}.icmpType`, r.icmpType);
  if (r.icmpCode !== undefined) checkIcmp(`${f}.icmpCode`, r.icmpCode);
  if ((r.icmpType ?? -1) === -1 && (r.icmpCode ?? -1) !== -1) {
    throw new ValidationError(`${f}.icmpCode`, r.icmpCode, 'a code needs an icmpType');
  }
}

function checkSource(r: Rule, f: string, groups: Map<string, GroupInfo> | undefined): void {
  if ((r.cidr === undefined) === (r.sourceGroup === undefined)) {
    const field = r.cidr === undefined ? f : `${f}.sourceGroup`;
    throw new ValidationError(field, r.cidr === undefined ? r : r.sourceGroup, 'give exactly one source: cidr or sourceGroup');
  }
  if (r.cidr !== undefined) {
    parseBlock(`${f}.cidr`, r.cidr);
    return;
  }
  const sourceGroup = must(r.sourceGroup, `${f}.sourceGroup`);
  if (!/^[^/]+\/[^/]+$/.test(sourceGroup)) {
    throw new ValidationError(`${f}.sourceGroup`, r.sourceGroup, 'expected "owner/name"');
  }
  if (groups && !groups.has(sourceGroup)) {
    throw new ValidationError(`${f}.sourceGroup`, r.sourceGroup, 'no such group in groups');
  }
}

/** Two rules are the same when they match the same packets. */
export function ruleIdentity(r: Rule): string {
  const ports = PORTS.has(r.protocol) && r.from !== undefined ? [r.from, r.to ?? r.from] : null;
  const icmp = ICMP.has(r.protocol) ? [r.icmpType ?? -1, r.icmpCode ?? -1] : null;
  return JSON.stringify([r.protocol, ports, icmp, r.cidr ?? null, r.sourceGroup ?? null]);
}
