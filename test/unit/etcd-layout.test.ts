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
    const next: State = {
      ...base,
      instances: [...(base.instances ?? []), { id: 'i-new', group: `${g.owner}/${g.name}`, node: Object.keys(base.nodes ?? {})[0] }],
    };
    const { put, del } = diffKeys(toKeys(base), toKeys(next));
    expect(put.map(([k]) => k)).toEqual(['instances/i-new']);
    expect(del).toEqual([]);
  });
});

describe('etcd layout: the values of ordered keys', () => {
  it('are the object with its order number last, byte for byte as JSON.stringify({ ...x, order }) (an empty object, odd text, an own order)', () => {
    const odd: unknown[] = [{}, { id: 'ü"}\\', order: 7 }, { id: 'a', publicIp: false, nested: { order: 1 } }, { id: 'b', gone: undefined }];
    const state = { ...seed, instances: [...(seed.instances ?? []), ...odd] } as State;
    const keys = toKeys(state);
    let last = -1;
    for (const x of state.instances ?? []) {
      const order = ++last;
      expect(keys.get(`instances/${(x as { id?: string }).id}`)).toBe(JSON.stringify({ ...x, order }));
    }
    for (const [i, g] of (seed.groups ?? []).entries()) expect(keys.get(`groups/${g.owner}/${g.name}`)).toBe(JSON.stringify({ ...g, order: i }));
  });
});

describe('etcd layout: order numbers and clusters', () => {
  it('removing the first instance rewrites no other instance key (their order numbers stay)', () => {
    const before = toKeys(seed);
    const next: State = { ...seed, instances: (seed.instances ?? []).slice(1) };
    const after = toKeys(next, before);
    const { put, del } = diffKeys(before, after);
    expect(put).toEqual([]);
    expect(del).toEqual([`instances/${seed.instances?.[0]?.id}`]);
    expect(fromKeys(after, '/x/')).toEqual(JSON.parse(JSON.stringify(next)));
  });

  it('an instance inserted in the middle keeps the state order on read back', () => {
    const before = toKeys(seed);
    const list = [...(seed.instances ?? [])];
    list.splice(3, 0, { id: 'i-mid', group: 'admin/web', node: 'nc1' });
    const next: State = { ...seed, instances: list };
    const after = toKeys(next, before);
    expect((fromKeys(after, '/x/') as State).instances?.map((i) => i.id)).toEqual(list.map((i) => i.id));
  });

  it('a multi-cluster state: one key per cluster (its CC and nodes), not in settings', () => {
    const { cc, nodes, ...rest } = seed;
    const multi: State = { ...rest, clusters: { east: { cc: cc!, nodes: nodes! }, west: { cc: { ...cc!, underlay: '10.0.1.1/24' }, nodes: {} } } };
    const keys = toKeys(multi);
    expect([...keys.keys()].filter((k) => k.startsWith('clusters/'))).toEqual(['clusters/east', 'clusters/west']);
    expect(keys.get('settings')).not.toContain('clusters');
    expect(fromKeys(keys, '/x/')).toEqual(JSON.parse(JSON.stringify(multi)));
  });

  it('a value that is not JSON is a ValidationError naming the key', () => {
    const keys = toKeys(seed);
    keys.set('instances/i-1', '{oops');
    expect(() => fromKeys(keys, '/eucanet/default/state/')).toThrow(/invalid \/eucanet\/default\/state\/instances\/i-1/);
  });
});
