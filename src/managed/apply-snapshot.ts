// What an apply leaves behind for the next one of the same role on the same
// host (the agent's incremental sync): the desired state it reconciled, and
// the CC's DHCP networks and a key of its NAT maps, so that the next apply
// reads and changes only what differs (tx/delta.ts), hands dnsmasq only the
// hosts that changed (dhcp-delta.ts), and runs the conntrack step only when
// the NAT maps changed since it last succeeded. Pure.
import type { DhcpNetwork } from '../dhcp/index.js';
import { stableText } from '../tx/delta.js';
import type { DesiredState } from '../tx/desired.js';
import { natMapsOf } from './ct-reconcile.js';
import type { AllocatedState } from './types.js';

export interface AppliedSnapshot {
  /** The desired state the apply reconciled. */
  desired: DesiredState;
  /** The CC's DHCP networks it served (absent: DHCP not run, or it failed). */
  dhcpNets?: DhcpNetwork[];
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
