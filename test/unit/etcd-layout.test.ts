import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffKeys, fromKeys, toKeys } from '../../src/store/etcd-layout.js';
import type { State } from '../../src/managed/types.js';

const seed = JSON.parse(readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8')) as State;

describe('etcd layout', () => {
  it('a state round-trips through its keys, one key per object', () => {
    const keys = toKeys(seed);
    expect(keys.has('settings')).toBe(true);
    for (const i of seed.instances ?? []) expect(keys.has(`instances/${i.id}`)).toBe(true);
    expect(fromKeys(keys, '/x/')).toEqual(JSON.parse(JSON.stringify(seed)));
  });

  it('adding an instance at the end changes only that instance key', () => {
    const base = structuredClone(seed);
    const g = (base.groups ?? [])[0];
    const next: State = { ...base, instances: [...(base.instances ?? []), { id: 'i-new', group: `${g.owner}/${g.name}`, node: Object.keys(base.nodes ?? {})[0] }] };
    const { put, del } = diffKeys(toKeys(base), toKeys(next));
    expect(put.map(([k]) => k)).toEqual(['instances/i-new']);
    expect(del).toEqual([]);
  });
});
