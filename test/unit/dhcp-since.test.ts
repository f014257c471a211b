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

const raw = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' } as {
  groups: Array<Record<string, unknown>>;
  instances: Array<Record<string, unknown>>;
};
const seed = allocate(raw);
const rule = { protocol: 'tcp' as const, from: 8080, to: 8080, cidr: '0.0.0.0/0' };

/** The snapshot an apply of `state` leaves (its networks and what they were made of). */
const applied = (state: AllocatedState) => {
  const { networks, inputs } = dhcpNetworksSince(undefined, state);
  return { dhcpNets: networks, dhcpInputs: inputs };
};

describe('dhcpNetworksSince', () => {
  it('an instance appended (run-instance): its host appended to its network, the other networks the same objects, equal to a fresh build', () => {
    const prev = applied(seed);
    const grown = allocate({ ...raw, instances: [...raw.instances, { id: 'i-new', group: 'admin/web', node: 'nc2' }] });
    const next: AllocatedState = { ...seed, instances: [...seed.instances, grown.instances.at(-1)!] };
    const { networks } = dhcpNetworksSince(prev, next);
    expect(networks).toEqual(dhcpNetworksFor(next));
    const changed = networks.filter((n, i) => n !== prev.dhcpNets[i]);
    expect(changed).toHaveLength(1);
    expect(changed[0].hosts.at(-1)).toMatchObject({ ip: grown.instances.at(-1)!.privateIp, hostname: 'i-new' });
    // Into a group with no host yet: its network is new, all made again (equal to a fresh build).
    const groups = [...raw.groups, { owner: 'admin', name: 'lone', rules: [] }];
    const lone = allocate({ ...raw, groups });
    const withLone = allocate({ ...raw, groups, instances: [...raw.instances, { id: 'i-lone', group: 'admin/lone', node: 'nc1' }] });
    const lonely: AllocatedState = { ...lone, instances: [...lone.instances, withLone.instances.at(-1)!] };
    const prevLone = applied(lone);
    expect(dhcpNetworksSince(prevLone, lonely).networks).toEqual(dhcpNetworksFor(lonely));
    expect(dhcpNetworksFor(lonely)).toHaveLength(prevLone.dhcpNets.length + 1);
  });

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
