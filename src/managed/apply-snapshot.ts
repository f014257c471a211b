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
import { dhcpNetworksOf } from './roles/dhcp.js';
import { bridgeOf } from './roles/index.js';
import { natChangeOf, natChangeUnion, natMapsOf, type NatChange, type NatMaps } from './ct-reconcile.js';
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
  /** The CC's NAT maps this apply committed. */
  nat?: NatMaps;
  /**
   * While natKey is absent (the step not yet run, or failed): the addresses
   * whose entries it owes a look at since it last succeeded (absent: the
   * whole table).
   */
  ctOwed?: NatChange;
  /** The interfaces preflight found, name -> ifindex (ApplyOptions.knownInterfaces). */
  interfaces?: ReadonlyMap<string, number>;
}

/** The NAT maps as text: equal exactly when the conntrack step would judge every entry the same way. */
export function natKeyOf(state: AllocatedState | NatMaps): string {
  const m = 'pub2priv' in state ? state : natMapsOf(state);
  return stableText([[...m.pub2priv].sort(), m.pool, m.subnet]);
}

/**
 * What the conntrack step of an apply that committed `nat` after `previous`
 * owes: the addresses whose mappings changed since the step last succeeded
 * (that apply's changes, with those still owed before it), or undefined for
 * the whole table (no previous maps known, the pool or subnet changed). Pure.
 */
export function ctOwedSince(previous: AppliedSnapshot | undefined, nat: NatMaps): NatChange | undefined {
  if (!previous?.nat) return undefined;
  const change = natChangeOf(previous.nat, nat);
  return previous.natKey !== undefined ? change : natChangeUnion(previous.ctOwed, change);
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

export function dhcpInputsOf(state: AllocatedState, cluster: string | undefined): DhcpInputs {
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
  a.ctx === b.ctx &&
  a.groups === b.groups &&
  // The same list (a version that changed no instance: an authorize) is not walked.
  (a.instances === b.instances || (a.instances.length === b.instances.length && a.instances.every((x, i) => sameHost(x, b.instances[i]))));

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
  const grown = previous?.dhcpNets && previous.dhcpInputs && withAppended(previous.dhcpNets, previous.dhcpInputs, inputs, state, cluster);
  return { networks: grown || dhcpNetworksFor(state, cluster), inputs };
}

/**
 * The networks when the only change is one instance appended (run-instance):
 * the last ones with its host appended to its network (hosts are in the
 * state's order: the appended instance's is last in its network), without
 * making every host again. Undefined when that is not the change, or its
 * network had no host before (the networks themselves change).
 */
function withAppended(nets: DhcpNetwork[], prev: DhcpInputs, next: DhcpInputs, state: AllocatedState, cluster: string | undefined): DhcpNetwork[] | undefined {
  const n = prev.instances.length;
  if (prev.ctx !== next.ctx || prev.groups !== next.groups || next.instances.length !== n + 1) return undefined;
  for (let i = 0; i < n; i++) if (!sameHost(prev.instances[i], next.instances[i])) return undefined;
  const added = dhcpNetworksOf(
    { ...state, instances: [next.instances[n]] },
    { bridge: (g) => bridgeOf(state, g), ...(cluster !== undefined ? { cluster } : {}) },
  );
  const at = added.findIndex((x) => x.hosts.length);
  if (at < 0) return nets; // not a host this CC serves (another cluster's node)
  const into = nets.findIndex((x) => x.interface === added[at].interface && x.subnet === added[at].subnet);
  if (into < 0) return undefined;
  const out = nets.slice();
  out[into] = { ...nets[into], hosts: [...nets[into].hosts, ...added[at].hosts] };
  return out;
}
