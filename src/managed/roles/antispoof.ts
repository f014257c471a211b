// The node controller's bridge filter (table bridge eucanet-nc), beyond what
// Eucalyptus did: an instance's port may only send from the instance's own MAC
// and private IP, plus the DHCP requests it needs before it has an address.
// Without segmentation (MANAGED-NOVLAN) the same table also keeps the groups
// apart on the shared bridge: a group's port reaches only its group's ports
// and the uplink, and a frame from the uplink reaches a group's port only if
// it does not come from another group's instance (by its source MAC, which
// that instance's own NC holds to the instance: without this an instance on
// another NC could reach a foreign group directly, with an on-link route,
// bypassing the CC's firewall). ARP is not checked (the bridge family's arp payload is left
// for later); IPv6 from instance ports is dropped, since the model is IPv4.
import type { RuleSpec } from '../../nft/batch.js';
import { rule, type RuleBuilder } from '../../nft/build/builder.js';
import type { Chain } from '../../nft/types.js';
import type { DesiredNft, DesiredSet } from '../../tx/nft-diff.js';
import { groupKey, type AllocatedInstance, type AllocatedState } from '../types.js';
import { NC_TABLE } from './names.js';

const F = 'bridge' as const;
const T = NC_TABLE;
const at = (c: string, exprs: RuleBuilder, comment?: string): RuleSpec => ({ family: F, table: T, chain: c, exprs, ...(comment ? { comment } : {}) });

/**
 * An instance's (port, MAC) and (port, address) elements, kept per instance
 * object (allocation hands an unchanged instance over as the same object):
 * the same frozen elements a version later, which the delta compares by identity.
 */
const pairs = new WeakMap<AllocatedInstance, { mac: readonly string[]; ip: readonly string[] }>();
function pairsOf(i: AllocatedInstance): { mac: readonly string[]; ip: readonly string[] } {
  let p = pairs.get(i);
  if (!p) pairs.set(i, (p = { mac: Object.freeze([i.port, i.mac]), ip: Object.freeze([i.port, i.privateIp]) }));
  return p;
}

/** The anti-spoofing sets of the node's instances `here`: the only part of its table they change (with segmentation). */
export function ncSets(here: readonly AllocatedInstance[]): DesiredSet[] {
  return [
    { family: F, table: T, name: 'ports', key: 'ifname', elements: here.map((i) => i.port) },
    { family: F, table: T, name: 'macs', key: ['ifname', 'ether_addr'], elements: here.map((i) => pairsOf(i).mac as string[]) },
    { family: F, table: T, name: 'ips', key: ['ifname', 'ipv4_addr'], elements: here.map((i) => pairsOf(i).ip as string[]) },
  ];
}

export function ncNft(state: AllocatedState, here: AllocatedInstance[], uplink: string): DesiredNft {
  const sets = ncSets(here);
  const chains: Chain[] = [{ family: F, table: T, name: 'prerouting', type: 'filter', hook: 'prerouting', priority: -200, policy: 'accept' }];
  const rules: RuleSpec[] = [
    at('prerouting', rule().iifname('@ports').lookup('@macs', ['iifname', 'ether saddr'], { not: true }).drop(), 'MAC spoofing'),
    at('prerouting', rule().iifname('@ports').ipSaddr('0.0.0.0').udpSport(68).udpDport(67).accept(), 'DHCP before an address'),
    at('prerouting', rule().iifname('@ports').lookup('@ips', ['iifname', 'ip saddr'], { not: true }).drop(), 'IP spoofing'),
    at('prerouting', rule().iifname('@ports').match('meta protocol', 'ip6').drop(), 'no IPv6 from instances'),
  ];
  if (state.segmentation === 'none') {
    chains.push({ family: F, table: T, name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: 'accept' });
    const groupsHere = state.groups.filter((g) => here.some((i) => i.group === groupKey(g)));
    if (groupsHere.length) {
      sets.push({ family: F, table: T, name: 'instmacs', key: 'ether_addr', elements: state.instances.map((i) => i.mac) });
    }
    for (const g of groupsHere) {
      const key = groupKey(g);
      const ports = here.filter((i) => i.group === key).map((i) => i.port);
      const set = `group${g.vlan}`;
      sets.push({ family: F, table: T, name: set, key: 'ifname', elements: ports });
      sets.push({ family: F, table: T, name: `${set}macs`, key: 'ether_addr', elements: state.instances.filter((i) => i.group === key).map((i) => i.mac) });
      rules.push(at('forward', rule().iifname(`@${set}`).oifname(`@${set}`, { not: true }).oifname(uplink, { not: true }).drop(), `isolate ${key}`));
      rules.push(
        at(
          'forward',
          rule().iifname(uplink).oifname(`@${set}`).lookup('@instmacs', 'ether saddr').lookup(`@${set}macs`, 'ether saddr', { not: true }).drop(),
          `isolate ${key} from other nodes' instances`,
        ),
      );
    }
  }
  return { tables: [{ family: F, name: T }], chains, sets, rules };
}
