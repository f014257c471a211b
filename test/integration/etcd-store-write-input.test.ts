// EtcdStore.write() validates the state it is given without copying it
// first: neither the validation nor the write may change it. A deeply frozen
// state (any change throws in strict mode) is written and read back equal; an
// invalid one is refused naming the field, nothing written.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { State } from '../../src/managed/types.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import { repoRoot } from '../helpers/cli.js';
import { withEtcd } from '../helpers/etcd.js';

const seed = JSON.parse(readFileSync(`${repoRoot}/examples/seed.json`, 'utf8')) as State;

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

describe('etcd store: write() and the state it is given', () => {
  it('writes a deeply frozen state unchanged and reads it back equal; an invalid frozen one is refused naming the field', () =>
    withEtcd(async (etcd) => {
      const store = openEtcdStore({ urls: [etcd.url], cloud: 'frozen' });
      try {
        const state = deepFreeze(structuredClone(seed));
        const version = await store.write(state, { ifVersion: '' });
        expect((await store.read({ fresh: true })).state).toEqual(seed);
        const bad = deepFreeze({ ...structuredClone(seed), addrsPerNet: 7 });
        const err = await store.write(bad).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect(err).toMatchObject({ field: 'addrsPerNet', value: 7 });
        expect(await store.revision()).toBe(Number(version));
      } finally {
        await store.close();
      }
    }));
});
