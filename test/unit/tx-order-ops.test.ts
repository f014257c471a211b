// orderOps and tapSets (src/tx/execute.ts): a new tap's marks (alias and
// group) are set on their own, first in the sets phase, while the tap is still
// down; its master, up and other attributes follow in the set that brings it up.
import { describe, expect, it } from 'vitest';
import { orderOps, tapSets } from '../../src/tx/execute.js';
import type { Op } from '../../src/tx/ops.js';

const tap = (name: string, spec: Record<string, unknown>): Op => ({ op: 'tap.add', name, spec });
const sets = (ops: Op[]) => orderOps(ops).filter((it) => it.op.op === 'link.set');

describe('tapSets', () => {
  it('puts the alias and group of a tap that is brought up in a set of their own, ahead of the rest', () => {
    expect(tapSets({ master: 'eucabr10', up: true, group: 4200, alias: 'eucanet:port', mtu: 1450 })).toEqual([
      { group: 4200, alias: 'eucanet:port' },
      { master: 'eucabr10', up: true, mtu: 1450 },
    ]);
    expect(tapSets({ up: true, alias: 'eucanet:port' })).toEqual([{ alias: 'eucanet:port' }, { up: true }]);
  });

  it('leaves the attributes whole when nothing brings the tap up, or it has no marks', () => {
    expect(tapSets({ master: 'eucabr10', group: 4200, alias: 'a' })).toEqual([{ master: 'eucabr10', group: 4200, alias: 'a' }]);
    expect(tapSets({ master: 'eucabr10', up: false, group: 4200 })).toEqual([{ master: 'eucabr10', up: false, group: 4200 }]);
    expect(tapSets({ master: 'eucabr10', up: true })).toEqual([{ master: 'eucabr10', up: true }]);
  });
});

describe('orderOps', () => {
  it("sends every new tap's marks before any set that brings a link up, each under its tap's op index", () => {
    const ops: Op[] = [
      { op: 'link.set', ref: 'eucabr10', changes: { up: true } },
      tap('vnet0', { master: 'eucabr10', up: true, group: 4200, alias: 'eucanet:port i-0' }),
      tap('vnet1', { master: 'eucabr10', up: true, group: 4200, alias: 'eucanet:port i-1' }),
      tap('vnet2', { master: 'eucabr10', up: true }),
    ];
    const got = sets(ops).map((it) => [it.index, (it.op as { ref: string }).ref, (it.op as { changes: object }).changes]);
    expect(got).toEqual([
      [1, 'vnet0', { group: 4200, alias: 'eucanet:port i-0' }],
      [2, 'vnet1', { group: 4200, alias: 'eucanet:port i-1' }],
      [0, 'eucabr10', { up: true }],
      [1, 'vnet0', { master: 'eucabr10', up: true }],
      [2, 'vnet1', { master: 'eucabr10', up: true }],
      [3, 'vnet2', { master: 'eucabr10', up: true }],
    ]);
  });

  it('keeps a later set of the same tap after its own sets, so that it still has the last word', () => {
    const ops: Op[] = [tap('vnet0', { master: 'eucabr10', up: true, group: 4200 }), { op: 'link.set', ref: 'vnet0', changes: { group: 7 } }];
    const got = sets(ops).map((it) => (it.op as { changes: object }).changes);
    expect(got).toEqual([{ group: 4200 }, { master: 'eucabr10', up: true }, { group: 7 }]);
  });

  it('puts the taps first and their sets in the sets phase', () => {
    const ops: Op[] = [{ op: 'address.add', spec: { dev: 'eth0', address: '10.0.0.1/32' } }, tap('vnet0', { up: true, alias: 'x' })];
    expect(orderOps(ops).map((it) => it.op.op)).toEqual(['tap.add', 'link.set', 'link.set', 'address.add']);
  });
});
