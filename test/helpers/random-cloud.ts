// The fixed settings of the small random clouds the relevance and peer-change
// property tests build (their groups and instances are drawn per case).
import type { State } from '../../src/managed/types.js';

/** A cloud's network settings for `nodes` (each on its own underlay address), without mode, groups or instances. */
export function cloudSettings(nodes: readonly string[]): Pick<State, 'subnet' | 'addrsPerNet' | 'publicIps' | 'dns' | 'cc' | 'nodes'> {
  return {
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.220'],
    dns: '192.168.32.1',
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '10.0.0.1/24' },
    nodes: Object.fromEntries(nodes.map((n, k) => [n, { privateInterface: 'eth0', underlay: `10.0.0.${11 + k}/24` }])),
  };
}
