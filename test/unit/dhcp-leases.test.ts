// Reading dnsmasq's lease file: the leases a SIGHUP cannot take back, and
// pruning stale leases while dnsmasq is stopped.
import { describe, expect, it } from 'vitest';
import { leaseConflicts, normalizeNetworks, parseLeases, pruneLeases } from '../../src/dhcp/index.js';

const LEASES = [
  '1795729413 d0:0d:0a:01:02:02 10.1.2.2 i-1 01:d0:0d:0a:01:02:02',
  '0 D0:0D:0A:01:02:03 10.1.2.3 * *',
  '1000 d0:0d:0a:01:02:04 10.1.2.4 i-4 *',
  'duid 00:01:00:01:2c:0a:0b:0c',
  '',
].join('\n');

const nets = (hosts: Array<[string, string]>) =>
  normalizeNetworks([{ interface: 'eucabr10', subnet: '10.1.2.0/27', gateway: '10.1.2.1', hosts: hosts.map(([mac, ip]) => ({ mac, ip })) }]);

describe('leases', () => {
  it('parses IPv4 lease lines, MACs lower-cased', () => {
    expect(parseLeases(LEASES).map((l) => [l.expiry, l.mac, l.ip])).toEqual([
      [1795729413, 'd0:0d:0a:01:02:02', '10.1.2.2'],
      [0, 'd0:0d:0a:01:02:03', '10.1.2.3'],
      [1000, 'd0:0d:0a:01:02:04', '10.1.2.4'],
    ]);
  });

  it('finds live leases on addresses now given to another MAC', () => {
    const now = 1_700_000_000;
    const n = nets([
      ['d0:0d:0a:01:02:99', '10.1.2.2'], // taken from ..:02, whose lease is live: conflict
      ['d0:0d:0a:01:02:03', '10.1.2.3'], // same owner: fine
      ['d0:0d:0a:01:02:98', '10.1.2.4'], // taken from ..:04, but that lease expired: fine
    ]);
    expect(leaseConflicts(parseLeases(LEASES), n, now).map((l) => l.ip)).toEqual(['10.1.2.2']);
    // A lease that never expires (0) also conflicts.
    expect(leaseConflicts(parseLeases(LEASES), nets([['d0:0d:0a:01:02:97', '10.1.2.3']]), now).map((l) => l.mac)).toEqual(['d0:0d:0a:01:02:03']);
    // A removed host is not a conflict: its lease just runs out.
    expect(leaseConflicts(parseLeases(LEASES), nets([]), now)).toEqual([]);
  });

  it('prunes every lease that does not match a host exactly', () => {
    const kept = pruneLeases(
      LEASES,
      nets([
        ['d0:0d:0a:01:02:03', '10.1.2.3'],
        ['d0:0d:0a:01:02:02', '10.1.2.5'],
      ]),
    );
    expect(kept).toBe('0 D0:0D:0A:01:02:03 10.1.2.3 * *\n');
  });
});
