// The hosts index (dhcp/hosts-index.ts): a change of a few hosts applied to
// the hosts last normalised in full gives what normalizeNetworks gives for the
// new networks; a change it cannot prove to be one from its own hosts is
// refused (undefined) and leaves the index as it was.
import { describe, expect, it } from 'vitest';
import { normalizeNetworks, type DhcpHost, type DhcpNetwork } from '../../src/dhcp/index.js';
import type { HostChange } from '../../src/dhcp/hosts-dir.js';
import { HostsIndex } from '../../src/dhcp/hosts-index.js';

const hex = (k: number) => k.toString(16).padStart(2, '0');
const host = (g: number, k: number, mac = `D0:0D:0A:0${g}:${hex(k >> 8)}:${hex(k & 255)}`): DhcpHost => ({
  mac,
  ip: `10.1.${g}.${k}`,
  hostname: `I-${g}-${k}`,
});
const net = (g: number, hosts: DhcpHost[], extra: Partial<DhcpNetwork> = {}): DhcpNetwork => ({
  interface: `eucabr${g}`,
  subnet: `10.1.${g}.0/24`,
  gateway: `10.1.${g}.1`,
  dns: ['192.168.32.1'],
  hosts,
  ...extra,
});
// Input order is not subnet order, and hosts are not in address order: the index must place them as normalizeNetworks sorts them.
const start = (): DhcpNetwork[] => [net(3, [host(3, 9), host(3, 4), host(3, 200)]), net(2, [host(2, 7), host(2, 2)])];
const indexOf = (networks: DhcpNetwork[]) => new HostsIndex(networks, normalizeNetworks(networks), 'm');
const without = (n: DhcpNetwork, ip: string): DhcpNetwork => ({ ...n, hosts: n.hosts.filter((h) => h.ip !== ip) });
const plus = (n: DhcpNetwork, ...hs: DhcpHost[]): DhcpNetwork => ({ ...n, hosts: [...n.hosts, ...hs] });

describe('HostsIndex', () => {
  it('follows a run of adds, removals and changed hosts exactly as normalizeNetworks would', () => {
    let networks = start();
    const idx = indexOf(networks);
    const step = (next: DhcpNetwork[], change: HostChange) => {
      expect(idx.apply(next, change)).toEqual(normalizeNetworks(next));
      networks = next;
    };
    step([plus(networks[0], host(3, 5)), networks[1]], { add: [host(3, 5)], del: [] });
    step([without(networks[0], '10.1.3.9'), networks[1]], { add: [], del: [host(3, 9)] });
    step([networks[0], plus(networks[1], host(2, 250), host(2, 3))], { add: [host(2, 250), host(2, 3)], del: [] });
    // A changed host (new MAC at the same address) is removed and added in one change; so is a name moved to another host.
    const moved = { ...host(2, 7), mac: 'd0:0d:0a:09:09:09' };
    const renamed = { ...host(3, 4), hostname: 'I-2-2' };
    const a = { ...without(networks[0], '10.1.3.4'), hosts: [...without(networks[0], '10.1.3.4').hosts, renamed] };
    const b = { ...without(without(networks[1], '10.1.2.7'), '10.1.2.2'), hosts: [...without(without(networks[1], '10.1.2.7'), '10.1.2.2').hosts, moved] };
    step([a, b], { add: [moved, renamed], del: [host(2, 7), host(3, 4), host(2, 2)] });
    // Many at once, and all removed.
    const lots = Array.from({ length: 60 }, (_, k) => host(2, 100 + k));
    step([networks[0], plus(networks[1], ...lots)], { add: lots, del: [] });
    step([{ ...networks[0], hosts: [] }, networks[1]], { add: [], del: networks[0].hosts });
  });

  it('refuses what it cannot prove, and is unchanged by a refusal', () => {
    const networks = start();
    const idx = indexOf(networks);
    const before = structuredClone(idx.nets);
    const refused = (next: DhcpNetwork[], change: HostChange) => {
      expect(idx.apply(next, change)).toBeUndefined();
      expect(idx.nets).toEqual(before);
    };
    // Removed hosts not there, or not as given.
    refused([without(networks[0], '10.1.3.8'), networks[1]], { add: [], del: [host(3, 8)] });
    refused([without(networks[0], '10.1.3.9'), networks[1]], { add: [], del: [{ ...host(3, 9), hostname: 'other' }] });
    refused([without(networks[0], '10.1.3.9'), networks[1]], { add: [], del: [{ ...host(3, 9), mac: 'd0:0d:0a:09:09:09' }] });
    // An added host taking a kept host's MAC, address or hostname (hostnames without case), or two added hosts sharing one.
    refused([plus(networks[0], host(3, 6, host(2, 7).mac)), networks[1]], { add: [host(3, 6, host(2, 7).mac)], del: [] });
    refused([plus(networks[0], { ...host(3, 9), mac: 'd0:0d:0a:09:09:09' }), networks[1]], { add: [{ ...host(3, 9), mac: 'd0:0d:0a:09:09:09' }], del: [] });
    refused([plus(networks[0], { ...host(3, 6), hostname: 'i-2-7' }), networks[1]], { add: [{ ...host(3, 6), hostname: 'i-2-7' }], del: [] });
    const twins = [host(3, 6), { ...host(3, 7), hostname: host(3, 6).hostname }];
    refused([plus(networks[0], ...twins), networks[1]], { add: twins, del: [] });
    // An added host normalizeNetworks refuses: the gateway, outside every subnet, a bad MAC or hostname, an unknown field.
    for (const bad of [host(3, 1), { ...host(3, 6), ip: '10.9.9.9' }, { ...host(3, 6), mac: '01:00:5e:00:00:01' }, { ...host(3, 6), hostname: 'infinite' }]) {
      refused([plus(networks[0], bad), networks[1]], { add: [bad], del: [] });
    }
    refused([plus(networks[0], { ...host(3, 6), extra: 1 } as DhcpHost), networks[1]], { add: [{ ...host(3, 6), extra: 1 } as DhcpHost], del: [] });
    // Networks that are not the index's with the change: a router, DNS or lease time changed, a network added, a host the change does not name.
    refused([plus(networks[0], host(3, 6)), { ...networks[1], gateway: '10.1.2.254' }], { add: [host(3, 6)], del: [] });
    refused([plus(networks[0], host(3, 6)), { ...networks[1], leaseTime: 600 }], { add: [host(3, 6)], del: [] });
    refused([plus(networks[0], host(3, 6)), networks[1], net(4, [])], { add: [host(3, 6)], del: [] });
    refused([plus(networks[0], host(3, 6), host(3, 8)), networks[1]], { add: [host(3, 6)], del: [] });
    // The same host removed twice.
    refused([without(networks[0], '10.1.3.9'), networks[1]], { add: [], del: [host(3, 9), host(3, 9)] });
  });
});
