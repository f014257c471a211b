// What an apply leaves behind for the next one of the same role on the same
// host (the agent's incremental sync): the desired state it reconciled, and
// the CC's DHCP networks and a key of its NAT maps, so that the next apply
// reads and changes only what differs (tx/delta.ts), hands dnsmasq only the
// hosts that changed (dhcp-delta.ts), and runs the conntrack step only when
// the NAT maps changed since it last succeeded. Pure.
import type { DhcpNetwork } from '../dhcp/index.js';
import { stableText } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';
import { dhcpNetworksFor } from './apply-dhcp.js';
import { natMapsOf } from './ct-reconcile.js';
import type { AllocatedInstance, AllocatedState } from './types.js';

export interface AppliedSnapshot {
  /** The desired state the apply reconciled. */
  desired: DesiredState;
  /** The CC's DHCP networks it served (absent: DHCP not run, or it failed). */
  dhcpNets?: DhcpNetwork[];
  /** What dhcpNets were made from (dhcpNetworksSince). */
  dhcpInputs?: DhcpInputs;
  /** The NAT maps its conntrack step last cleaned up after (absent: not run, or it failed). */
  natKey?: string;
  /** The interfaces preflight found, name -> ifindex (ApplyOptions.knownInterfaces). */
  interfaces?: ReadonlyMap<string, number>;
}

/** The NAT maps as text: equal exactly when the conntrack step would judge every entry the same way. */
export function natKeyOf(state: AllocatedState): string {
  const m = natMapsOf(state);
  return stableText([[...m.pub2priv].sort(), m.pool, m.subnet]);
}

/**
 * What a CC's DHCP networks are made of (dhcpNetworksFor): the settings and
 * hosts (every top-level value but the lists, as text: a few hundred bytes),
 * each group's name, VLAN and block (not its rules), and the instances, by
 * identity (allocation hands an unchanged instance over as the same object),
 * or for one that is another object, by the fields its host is made of.
 */
export interface DhcpInputs {
  ctx: string;
  groups: string;
  instances: readonly AllocatedInstance[];
}

function dhcpInputsOf(state: AllocatedState, cluster: string | undefined): DhcpInputs {
  const { groups, instances, reservedIps: _r, ...rest } = state;
  return {
    ctx: JSON.stringify([cluster ?? null, rest]),
    groups: groups.map((g) => `${g.owner}/${g.name} ${g.vlan} ${g.subnet}`).join('\n'),
    instances,
  };
}

/**
 * What of an instance its DHCP host is made of (dhcpNetworksOf: its group and
 * node pick the network, then its MAC, address and id): an instance whose
 * other fields changed (a public address associated) makes the same host.
 */
const sameHost = (x: AllocatedInstance, y: AllocatedInstance): boolean =>
  x === y || (x.id === y.id && x.group === y.group && x.node === y.node && x.mac === y.mac && x.privateIp === y.privateIp);

const sameInputs = (a: DhcpInputs, b: DhcpInputs): boolean =>
  a.ctx === b.ctx && a.groups === b.groups && a.instances.length === b.instances.length && a.instances.every((x, i) => sameHost(x, b.instances[i]));

/**
 * The CC's DHCP networks for `state`: the last apply's (the same array) when
 * nothing they are made of changed since (a rule authorized, a public address
 * associated), else made again. Pure.
 */
export function dhcpNetworksSince(
  previous: Pick<AppliedSnapshot, 'dhcpNets' | 'dhcpInputs'> | undefined,
  state: AllocatedState,
  cluster?: string,
): { networks: DhcpNetwork[]; inputs: DhcpInputs } {
  const inputs = dhcpInputsOf(state, cluster);
  if (previous?.dhcpNets && previous.dhcpInputs && sameInputs(previous.dhcpInputs, inputs)) return { networks: previous.dhcpNets, inputs };
  return { networks: dhcpNetworksFor(state, cluster), inputs };
}
