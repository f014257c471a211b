// What changed between two desired states (src/tx/delta.ts), section by
// section: the seam of the agent's incremental sync. Pure.
import { describe, expect, it } from 'vitest';
import { deltaOf, describeDelta, isEmptyDelta, stableText } from '../../src/tx/delta.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { rule } from '../../src/nft/build/builder.js';

const F = 'ip' as const;
const T = 'eucanet';
function state(
  o: { ports?: string[]; rules?: number[]; pub?: Array<[string, string]>; policy?: 'accept' | 'drop'; setType?: string; sysctl?: number } = {},
): DesiredState {
  return {
    links: [{ kind: 'bridge', name: 'eucabr10', up: true }],
    ports: (o.ports ?? ['vnet0']).map((name) => ({ name, master: 'eucabr10', up: true, tap: true })),
    addresses: [{ dev: 'eucabr10', address: '10.1.2.1/27' }],
    sysctls: { 'net.ipv4.ip_forward': o.sysctl ?? 1 },
    nft: {
      tables: [{ family: F, name: T }],
      chains: [
        { family: F, table: T, name: 'forward', type: 'filter', hook: 'forward', priority: 0, policy: o.policy ?? 'drop' },
        { family: F, table: T, name: 'admin-default' },
        { family: F, table: T, name: 'admin-web' },
      ],
      sets: [{ family: F, table: T, name: 'pub2priv', key: (o.setType ?? 'ipv4_addr') as 'ipv4_addr', data: 'ipv4_addr', elements: o.pub ?? [] }],
      rules: [
        { family: F, table: T, chain: 'forward', exprs: rule().ctState('established', 'related').accept() },
        ...(o.rules ?? [22]).map((p) => ({ family: F, table: T, chain: 'admin-default', exprs: rule().l4proto('tcp').dport(p).accept() })),
        { family: F, table: T, chain: 'admin-web', exprs: rule().l4proto('tcp').dport(80).accept() },
      ],
    },
  };
}

describe('deltaOf', () => {
  it('equal states: nothing differs', () => {
    const d = deltaOf(state(), state());
    expect(isEmptyDelta(d)).toBe(true);
    expect(describeDelta(d)).toBe('nothing');
  });

  it('a rule added to one group: that chain only', () => {
    const d = deltaOf(state(), state({ rules: [22, 8080] }));
    expect([...d.nft.chains]).toEqual(['ip eucanet admin-default']);
    expect(d.nft.whole).toBe(false);
    expect(describeDelta(d)).toBe('nft chains 1');
  });

  it('a port added or removed: that port only', () => {
    expect([...deltaOf(state(), state({ ports: ['vnet0', 'vnet1'] })).ports]).toEqual(['vnet1']);
    const d = deltaOf(state({ ports: ['vnet0', 'vnet1'] }), state({ ports: ['vnet1'] }));
    expect([...d.ports]).toEqual(['vnet0']);
    expect(describeDelta(d)).toBe('ports 1');
  });

  it('a map element added, removed or given another value: the elements to add and delete, not the whole map', () => {
    const a = deltaOf(
      state({ pub: [['1.1.1.1', '10.0.0.1']] }),
      state({
        pub: [
          ['1.1.1.1', '10.0.0.1'],
          ['1.1.1.2', '10.0.0.2'],
        ],
      }),
    );
    expect(a.nft.sets.get('ip eucanet pub2priv')).toEqual({ add: [['1.1.1.2', '10.0.0.2']], del: [] });
    const m = deltaOf(state({ pub: [['1.1.1.1', '10.0.0.1']] }), state({ pub: [['1.1.1.1', '10.0.0.9']] }));
    expect(m.nft.sets.get('ip eucanet pub2priv')).toEqual({ add: [['1.1.1.1', '10.0.0.9']], del: [['1.1.1.1', '10.0.0.1']] });
    expect(describeDelta(m)).toBe('nft sets 1 (+1 -1)');
  });

  it("a set's type, a chain's policy, or the tables changed: the whole nftables content", () => {
    expect(deltaOf(state(), state({ setType: 'ipv4_addr ' })).nft.whole).toBe(true);
    expect(deltaOf(state(), state({ policy: 'accept' })).nft.whole).toBe(true);
    const more = state();
    more.nft!.tables.push({ family: 'bridge', name: 'eucanet-nc' });
    expect(deltaOf(state(), more).nft.whole).toBe(true);
  });

  it('a chain added or removed is a changed chain, not the whole content', () => {
    const more = state();
    more.nft!.chains.push({ family: F, table: T, name: 'admin-extra' });
    const d = deltaOf(state(), more);
    expect(d.nft.whole).toBe(false);
    expect([...d.nft.chains]).toEqual(['ip eucanet admin-extra']);
    expect([...deltaOf(more, state()).nft.chains]).toEqual(['ip eucanet admin-extra']);
  });

  it('links, addresses and sysctls: by section (links with their names), sysctls by key', () => {
    const s = state({ sysctl: 0 });
    s.links!.push({ kind: 'bridge', name: 'eucabr11' });
    s.addresses!.push({ dev: 'eucabr11', address: '10.1.2.33/27' });
    const d = deltaOf(state(), s);
    expect({ links: d.links, addresses: d.addresses, routes: d.routes, fdb: d.fdb, sysctls: d.sysctls }).toEqual({
      links: true,
      addresses: true,
      routes: false,
      fdb: false,
      sysctls: ['net.ipv4.ip_forward'],
    });
    expect([...d.linkNames].sort()).toEqual(['eucabr10', 'eucabr11']);
  });
});

it('FDB entries added and removed: those entries only', () => {
  const a = state();
  a.fdb = [{ dev: 'eucavx10', lladdr: '00:00:00:00:00:00', dst: '10.0.0.11' }];
  const b = state();
  b.fdb = [
    { dev: 'eucavx10', lladdr: '00:00:00:00:00:00', dst: '10.0.0.12' },
    { dev: 'eucavx10', lladdr: 'd0:0d:00:00:00:01', dst: '10.0.0.12' },
  ];
  const d = deltaOf(a, b);
  expect(d.fdbChange).toEqual({ add: b.fdb, del: a.fdb });
  expect(describeDelta(d)).toBe('fdb (+2 -1)');
  expect(deltaOf(a, state()).fdbChange).toEqual({ add: [], del: a.fdb });
  expect(deltaOf(b, b).fdbChange).toBeUndefined();
});

describe('stableText', () => {
  it('is equal exactly for equal values, bigints and byte arrays included', () => {
    expect(stableText({ a: 1n, b: new Uint8Array([1, 2]) })).toBe(stableText({ a: 1n, b: new Uint8Array([1, 2]) }));
    expect(stableText({ a: 1n })).not.toBe(stableText({ a: 2n }));
    expect(stableText({ a: 1n })).not.toBe(stableText({ a: '1' }));
    expect(stableText([1, 2])).not.toBe(stableText([2, 1]));
  });
});
