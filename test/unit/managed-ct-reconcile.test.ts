// The cluster controller's conntrack reconciler (managed/ct-reconcile.ts): the
// entries it deletes, and the ones it keeps, for each way the NAT maps change.
import { describe, expect, it } from 'vitest';
import type { CtEntry, CtProtocol } from '../../src/conntrack/index.js';
import { natMapsOf, staleConntrack } from '../../src/managed/ct-reconcile.js';
import type { AllocatedState } from '../../src/managed/types.js';

const P = '192.168.32.200';
const P2 = '192.168.32.201';
const CC = '192.168.32.20'; // the CC's own public address (masquerade), not in the pool
const CLIENT = '192.168.32.1';
const I1 = '10.1.0.2';
const I2 = '10.1.0.3';
const I3 = '10.1.0.4';

/** A state with just what the maps are made of: instances' addresses, the pool, the subnet. */
function maps(instances: Array<{ privateIp: string; publicIp?: string }>) {
  return natMapsOf({ subnet: '10.1.0.0/16', publicIps: ['192.168.32.200-192.168.32.210'], instances } as unknown as AllocatedState);
}

let nextId = 1;
function ct(protocol: CtProtocol, o: [string, string], r: [string, string], extra: Partial<CtEntry> = {}): CtEntry {
  const l4 = protocol === 'icmp' ? { icmpId: 7, icmpType: 8, icmpCode: 0 } : { sport: 40000, dport: 5000 };
  return {
    family: 'ipv4',
    protocol,
    orig: { src: o[0], dst: o[1], ...l4 },
    reply: { src: r[0], dst: r[1], ...l4 },
    status: 0,
    statusNames: [],
    mark: 0,
    zone: 0,
    id: nextId++,
    ...extra,
  };
}
const inboundTo = (p: CtProtocol, pub: string, priv: string, from = CLIENT) => ct(p, [from, pub], [priv, from]);
const outboundFrom = (p: CtProtocol, priv: string, as: string, to = CLIENT) => ct(p, [priv, to], [to, as]);
const PROTOS: CtProtocol[] = ['tcp', 'udp', 'icmp'];
const stale = (m: ReturnType<typeof maps>, es: CtEntry[], local?: Set<string>) => staleConntrack(m, es, local).map((s) => s.entry);

describe('conntrack reconciler: what goes', () => {
  it.each(PROTOS)('%s: an address moved from #1 to #2: inbound entries still going to #1, and #1 still leaving as it', (p) => {
    const m = maps([{ privateIp: I1 }, { privateIp: I2, publicIp: P }]);
    const old = [inboundTo(p, P, I1), outboundFrom(p, I1, P)];
    const fresh = [inboundTo(p, P, I2, '192.168.32.2'), outboundFrom(p, I2, P, '192.168.32.2')];
    expect(stale(m, [...old, ...fresh])).toEqual(old);
    expect(staleConntrack(m, old)[0].reason).toBe(`${P} maps to ${I2} now, not ${I1}`);
  });

  it.each(PROTOS)('%s: an address disassociated (or released, or its instance terminated): entries DNATed to it, and leaving as it', (p) => {
    const m = maps([{ privateIp: I1 }]);
    const old = [inboundTo(p, P, I1), outboundFrom(p, I1, P)];
    expect(stale(m, old)).toEqual(old);
  });

  it('an entry made while the address was mapped to nobody (forwarded un-NATed) goes once it is associated', () => {
    const m = maps([{ privateIp: I1, publicIp: P }]);
    const unNated = inboundTo('udp', P, P);
    expect(staleConntrack(m, [unNated])).toEqual([{ entry: unNated, reason: `${P} maps to ${I1} now; this entry was made un-NATed` }]);
  });

  it('an instance that gets a public address: its masqueraded entries go (it leaves under its own address from now on)', () => {
    const m = maps([{ privateIp: I1, publicIp: P }]);
    const masq = outboundFrom('tcp', I1, CC);
    expect(stale(m, [masq])).toEqual([masq]);
  });

  it('an instance that gets another public address: entries under the old one go', () => {
    const m = maps([{ privateIp: I1, publicIp: P2 }]);
    const es = [inboundTo('udp', P, I1), outboundFrom('udp', I1, P)];
    expect(stale(m, es)).toEqual(es);
  });

  it("a private address that comes back to another instance without a public address: the old instance's entries go", () => {
    const m = maps([{ privateIp: I1 }]); // #3 terminated, I1 reused by a new instance with no public address
    const es = [outboundFrom('tcp', I1, P), inboundTo('tcp', P, I1)];
    expect(stale(m, es)).toEqual(es);
  });

  it('an instance reaching a moved public address of another instance (hairpin): goes', () => {
    const m = maps([{ privateIp: I1 }, { privateIp: I2, publicIp: P }, { privateIp: I3, publicIp: P2 }]);
    const hairpin = ct('tcp', [I3, P], [I1, I3]);
    expect(stale(m, [hairpin])).toEqual([hairpin]);
  });
});

describe('conntrack reconciler: what stays', () => {
  const m = maps([{ privateIp: I1, publicIp: P }, { privateIp: I2 }]);

  it.each(PROTOS)("%s: unchanged instances' flows, both ways", (p) => {
    expect(stale(m, [inboundTo(p, P, I1), outboundFrom(p, I1, P)])).toEqual([]);
  });

  it('masqueraded flows of an instance without a public address; traffic between instances; hairpin to an unchanged address', () => {
    expect(stale(m, [outboundFrom('udp', I2, CC), ct('tcp', [I2, I1], [I1, I2]), ct('tcp', [I2, P], [I1, I2])])).toEqual([]);
  });

  it('the metadata DNAT, and an unmapped pool address reached un-NATed', () => {
    expect(stale(m, [ct('tcp', [I1, '169.254.169.254'], ['10.0.0.5', I1]), inboundTo('udp', P2, P2)])).toEqual([]);
  });

  it("the CC's own flows: out from its addresses, and to its own (local) public addresses", () => {
    const own = [ct('tcp', [CC, '8.8.8.8'], ['8.8.8.8', CC]), ct('tcp', [CC, P], [P, CC]), ct('icmp', [P, P], [P, P])];
    expect(stale(m, own, new Set([CC, P, '127.0.0.1']))).toEqual([]);
  });

  it('other zones and IPv6 are not the CC table', () => {
    expect(
      stale(m, [{ ...inboundTo('udp', P, I2), zone: 4 }, ct('udp', ['2001:db8::1', '2001:db8::2'], ['2001:db8::2', '2001:db8::1'], { family: 'ipv6' })]),
    ).toEqual([]);
  });

  it('nothing when there are no entries', () => {
    expect(staleConntrack(m, [])).toEqual([]);
  });
});
