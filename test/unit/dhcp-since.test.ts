// The CC's DHCP networks between two applies (managed/apply-snapshot.ts
// dhcpNetworksSince): the last ones kept, the very same array, when nothing
// they are made of changed (a rule authorized: a group's rules only); made
// again, equal to a fresh dhcpNetworksFor, when an instance, a group's VLAN
// or block, or a setting (DNS) changed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { dhcpNetworksFor } from '../../src/managed/apply-dhcp.js';
import { dhcpNetworksSince } from '../../src/managed/apply-snapshot.js';
import type { AllocatedState } from '../../src/managed/types.js';
import { repoRoot } from '../helpers/cli.js';

const seed = allocate({ ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' });
const rule = { protocol: 'tcp' as const, from: 8080, to: 8080, cidr: '0.0.0.0/0' };

/** The snapshot an apply of `state` leaves (its networks and what they were made of). */
const applied = (state: AllocatedState) => {
  const { networks, inputs } = dhcpNetworksSince(undefined, state);
  return { dhcpNets: networks, dhcpInputs: inputs };
};

describe('dhcpNetworksSince', () => {
  it('keeps the last networks when only a group rule changed', () => {
    const prev = applied(seed);
    const next: AllocatedState = {
      ...seed,
      groups: seed.groups.map((g, i) => (i === 0 ? { ...g, rules: [...g.rules, rule] } : g)),
      instances: [...seed.instances],
    };
    expect(dhcpNetworksSince(prev, next).networks).toBe(prev.dhcpNets);
  });

  it('keeps the last networks when an instance changed in nothing its host is made of (a public address associated)', () => {
    const prev = applied(seed);
    const next: AllocatedState = { ...seed, instances: seed.instances.map((x, i) => (i === 0 ? { ...x, publicIp: '192.168.32.250' } : x)) };
    expect(dhcpNetworksSince(prev, next).networks).toBe(prev.dhcpNets);
    expect(dhcpNetworksFor(next)).toEqual(prev.dhcpNets);
  });

  it('makes them again when an instance, a group block or a setting changed', () => {
    const prev = applied(seed);
    const moved = seed.instances.map((x, i) => (i === 0 ? { ...x, mac: 'd0:0d:00:00:99:99' } : x));
    const cases: Array<[string, AllocatedState]> = [
      ['an instance changed', { ...seed, instances: moved }],
      ['an instance gone', { ...seed, instances: seed.instances.slice(1) }],
      ['an instance address', { ...seed, instances: seed.instances.map((x, i) => (i === 1 ? { ...x, privateIp: '10.1.2.30' } : x)) }],
      ['an instance id', { ...seed, instances: seed.instances.map((x, i) => (i === 1 ? { ...x, id: 'i-renamed' } : x)) }],
      ['a group VLAN', { ...seed, groups: seed.groups.map((g, i) => (i === 0 ? { ...g, vlan: 99 } : g)) }],
      ['the DNS', { ...seed, dns: '192.168.32.2' }],
    ];
    for (const [what, next] of cases) {
      const got = dhcpNetworksSince(prev, next).networks;
      expect(got, what).not.toBe(prev.dhcpNets);
      expect(got, what).toEqual(dhcpNetworksFor(next));
      expect(got, what).not.toEqual(prev.dhcpNets);
    }
  });
});
