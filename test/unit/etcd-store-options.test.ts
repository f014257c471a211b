// The etcd store's options are checked before any connection: a ValidationError naming the field and the value.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { openEtcdStore } from '../../src/store/etcd.js';

describe('etcd store options', () => {
  it.each([
    [{ urls: [] }, 'urls', ''],
    [{ urls: ['localhost:2379'] }, 'urls', 'localhost:2379'],
    [{ urls: ['http://127.0.0.1:2379', 'ftp://x:1'] }, 'urls', 'ftp://x:1'],
    [{ urls: ['http://127.0.0.1:2379'], cloud: 'a/b' }, 'cloud', 'a/b'],
  ])('%j is refused', (opts, field, value) => {
    const err = (() => {
      try {
        openEtcdStore(opts);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe(field);
    expect((err as ValidationError).value).toBe(value);
  });
});
