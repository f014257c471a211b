// diffNft (src/tx/nft-diff.ts) with no root: the kernel's side is a captured
// `nft list ruleset` dump (test/fixtures/nft/seed.dump.hex, taken from the
// real kernel) decoded by the library's decoders, its tables renamed into
// eucanet's; the desired side is the same content, then changed one way per
// case. The ops are recorded into a Batch with no connection.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { Batch, rule, type Chain, type NftSet, type Rule, type Ruleset, type Table } from '../../src/nft/index.js';
import { diffNft, type DesiredNft } from '../../src/tx/nft-diff.js';
import { decodeDump } from '../fixtures/nft/dump.js';

const RENAME: Record<string, string> = { nat: 'eucanet', filter: 'eucanet-filter' };

/** The seed's ruleset as the kernel listed it, in eucanet's tables, with a map of two elements added. */
function current(): Required<Ruleset> {
  const rs = decodeDump('seed');
  const t = <T extends { table: string }>(o: T): T => ({ ...o, table: RENAME[o.table] });
  const tables = rs.tables.map((x) => ({ ...x, name: RENAME[x.name] }));
  const pm: NftSet = { family: 'ip', table: 'eucanet', name: 'pm', key: 'ipv4_addr', data: 'ipv4_addr' };
  const b = new Batch().addSet(pm).addElements(pm, [
    ['192.168.32.200', '10.1.2.2'],
    ['192.168.32.201', '10.1.2.3'],
  ]);
  const elems = (b.ops[1] as { elements: unknown[] }).elements;
  return {
    tables,
    chains: rs.chains.map(t),
    sets: [pm],
    rules: rs.rules.map(t),
    elements: new Map([['ip eucanet pm', elems]]),
  } as never;
}

/** What the kernel holds, as a desired state: diffing the two must plan nothing. */
function same(cur: ReturnType<typeof current>): DesiredNft {
  const strip = <T extends { handle?: bigint }>(o: T): T => {
    const { handle: _h, ...rest } = o;
    return rest as T;
  };
  return {
    tables: cur.tables.map((x: Table) => strip(x)),
    chains: cur.chains.map((c: Chain) => strip(c)),
    sets: [
      {
        ...cur.sets[0],
        elements: [
          ['192.168.32.200', '10.1.2.2'],
          ['192.168.32.201', '10.1.2.3'],
        ],
      },
    ],
    rules: cur.rules.map((r: Rule) => ({ family: r.family, table: r.table, chain: r.chain, exprs: r.exprs, ...(r.comment ? { comment: r.comment } : {}) })),
  };
}

const plan = (cur: ReturnType<typeof current>, want: DesiredNft) => {
  const b = new Batch();
  const n = diffNft(cur, want, b);
  expect(n).toBe(b.length);
  return b.render().trim().split('\n').filter(Boolean);
};

describe('diffNft against a captured kernel dump', () => {
  it('the same content plans nothing', () => {
    const cur = current();
    expect(cur.rules.length).toBeGreaterThan(5);
    expect(plan(cur, same(cur))).toEqual([]);
  });

  it('a missing table, with its chain, set and rule, is added whole', () => {
    const cur = current();
    const want = same(cur);
    want.tables.push({ family: 'ip', name: 'eucanet-new' });
    want.chains.push({ family: 'ip', table: 'eucanet-new', name: 'c' });
    want.sets.push({ family: 'ip', table: 'eucanet-new', name: 's', key: 'ipv4_addr', elements: ['10.0.0.1'] });
    want.rules.push({ family: 'ip', table: 'eucanet-new', chain: 'c', exprs: rule().ipSaddr('@s').accept() });
    expect(plan(cur, want)).toEqual([
      'add table ip eucanet-new',
      'add chain ip eucanet-new c',
      'add set ip eucanet-new s { type ipv4_addr; }',
      'add element ip eucanet-new s { 10.0.0.1 }',
      'add rule ip eucanet-new c ip saddr @s accept',
    ]);
  });

  it('a base chain whose priority changed is flushed, deleted and made again with its rules; a policy change updates it in place', () => {
    const cur = current();
    const want = same(cur);
    const pre = want.chains.find((c) => c.name === 'prerouting')!;
    pre.priority = -90;
    want.chains.find((c) => c.name === 'forward')!.policy = 'accept';
    const out = plan(cur, want);
    expect(out.slice(0, 3)).toEqual([
      'flush chain ip eucanet prerouting',
      'delete chain ip eucanet prerouting',
      'add chain ip eucanet prerouting { type nat hook prerouting priority -90; policy accept; }',
    ]);
    expect(out.filter((l) => l.startsWith('add chain ip eucanet-filter forward'))).toEqual([expect.stringMatching(/policy accept; \}$/)]);
    expect(out.filter((l) => l.startsWith('add rule ip eucanet prerouting'))).toHaveLength(3);
    expect(out.some((l) => l.includes('flush chain ip eucanet-filter forward'))).toBe(false);
  });

  it('a chain whose rules differ is flushed and refilled, in order; the other chains are untouched', () => {
    const cur = current();
    const want = same(cur);
    want.rules = want.rules.filter((r) => !(r.chain === 'admin-default'));
    want.rules.push({ family: 'ip', table: 'eucanet-filter', chain: 'admin-default', exprs: rule().ipDaddr('10.1.2.0/27').l4proto('tcp').dport(80).accept() });
    expect(plan(cur, want)).toEqual([
      'flush chain ip eucanet-filter admin-default',
      'add rule ip eucanet-filter admin-default ip daddr 10.1.2.0/27 tcp dport 80 accept',
    ]);
  });

  it('elements that differ are deleted and added one by one; an element with another value is replaced', () => {
    const cur = current();
    const want = same(cur);
    want.sets[0].elements = [
      ['192.168.32.200', '10.1.2.9'],
      ['192.168.32.202', '10.1.2.4'],
    ];
    expect(plan(cur, want)).toEqual([
      'delete element ip eucanet pm { 192.168.32.200, 192.168.32.201 }',
      'add element ip eucanet pm { 192.168.32.200 : 10.1.2.9, 192.168.32.202 : 10.1.2.4 }',
    ]);
  });

  it('a set whose type changed is made again, after the chains of its table are emptied (their rules may use it), and refilled', () => {
    const cur = current();
    const want = same(cur);
    want.sets[0] = { family: 'ip', table: 'eucanet', name: 'pm', key: 'ipv4_addr', flags: ['interval'], elements: ['10.9.0.0/16'] };
    const out = plan(cur, want);
    expect(out.slice(0, 2)).toEqual(['flush chain ip eucanet prerouting', 'flush chain ip eucanet postrouting']);
    expect(out.slice(2, 5)).toEqual([
      'delete map ip eucanet pm',
      'add set ip eucanet pm { type ipv4_addr; flags interval; }',
      'add element ip eucanet pm { 10.9.0.0/16 }',
    ]);
    expect(out.filter((l) => l.startsWith('add rule ip eucanet '))).toHaveLength(6);
  });

  it('what is no longer wanted goes: a whole table; a chain (flushed, then deleted) and a set in a wanted table', () => {
    const cur = current();
    const want = same(cur);
    want.tables = want.tables.filter((t) => t.name === 'eucanet');
    want.chains = want.chains.filter((c) => c.table === 'eucanet' && c.name !== 'postrouting');
    want.rules = want.rules.filter((r) => r.table === 'eucanet' && r.chain !== 'postrouting');
    want.sets = [];
    expect(plan(cur, want)).toEqual([
      'delete table ip eucanet-filter',
      'flush chain ip eucanet postrouting',
      'delete chain ip eucanet postrouting',
      'delete map ip eucanet pm',
    ]);
  });

  it("a table that is not eucanet's is refused before any op, naming it", () => {
    const cur = current();
    const want = same(cur);
    want.tables.push({ family: 'ip', name: 'filter' });
    const b = new Batch();
    expect(() => diffNft(cur as never, want, b)).toThrow(ValidationError);
    expect(() => diffNft(cur as never, want, b)).toThrow(/nft\.tables "filter"/);
    expect(b.length).toBe(0);
  });
});
