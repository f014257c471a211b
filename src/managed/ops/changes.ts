// What an operation changed: a small typed record per change, for people (one
// line each, describeChange) and for programs (--json, the agent's log).
import type { Rule } from '../types.js';

export type Change =
  | { kind: 'instance-added'; id: string; group: string; node: string; port: string; privateIp: string; mac: string; publicIp?: string }
  | { kind: 'instance-removed'; id: string; group: string; node: string; privateIp: string; publicIp?: string }
  | { kind: 'group-added'; group: string; vlan: number; subnet: string }
  | { kind: 'group-removed'; group: string; vlan: number; subnet: string }
  | { kind: 'rule-added'; group: string; rule: Rule }
  | { kind: 'rule-removed'; group: string; rule: Rule }
  | { kind: 'address-allocated'; ip: string }
  | { kind: 'address-associated'; ip: string; instance: string }
  | { kind: 'address-disassociated'; ip: string; instance: string }
  | { kind: 'address-released'; ip: string };

/** A rule as people write it: "tcp 22-23 from 0.0.0.0/0", "icmp type 8 from admin/web". */
export function formatRule(r: Rule): string {
  const parts = [String(r.protocol)];
  if (r.from !== undefined) parts.push(r.to !== undefined && r.to !== r.from ? `${r.from}-${r.to}` : String(r.from));
  if ((r.icmpType ?? -1) !== -1) parts.push(`type ${r.icmpType}`);
  if ((r.icmpCode ?? -1) !== -1) parts.push(`code ${r.icmpCode}`);
  parts.push(`from ${r.cidr ?? r.sourceGroup}`);
  return parts.join(' ');
}

/** One line for people. */
export function describeChange(c: Change): string {
  switch (c.kind) {
    case 'instance-added':
      return `instance ${c.id} added: group ${c.group}, node ${c.node}, port ${c.port}, privateIp ${c.privateIp}, mac ${c.mac}${c.publicIp ? `, publicIp ${c.publicIp}` : ''}`;
    case 'instance-removed':
      return `instance ${c.id} removed: privateIp ${c.privateIp}${c.publicIp ? ` and publicIp ${c.publicIp} back in their pools` : ' back in its pool'}`;
    case 'group-added':
      return `group ${c.group} added: vlan ${c.vlan}, subnet ${c.subnet}`;
    case 'group-removed':
      return `group ${c.group} removed: vlan ${c.vlan} and subnet ${c.subnet} free`;
    case 'rule-added':
      return `group ${c.group}: rule added: ${formatRule(c.rule)}`;
    case 'rule-removed':
      return `group ${c.group}: rule removed: ${formatRule(c.rule)}`;
    case 'address-allocated':
      return `address ${c.ip} allocated`;
    case 'address-associated':
      return `address ${c.ip} associated with instance ${c.instance}`;
    case 'address-disassociated':
      return `address ${c.ip} disassociated from instance ${c.instance} (still allocated)`;
    case 'address-released':
      return `address ${c.ip} released to the pool`;
  }
}
