// indexLater (src/store/check-later.ts): the counts of a first version read
// are built `ms` after the read, or, given `after` (an agent on etcd: its
// first status put), `ms` after that settles, so that they are not built in
// the middle of a first sync that takes longer than `ms`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IncrementalCheck } from '../../src/managed/check-incremental.js';
import { indexLater } from '../../src/store/check-later.js';
import { repoRoot } from '../helpers/cli.js';

const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));

afterEach(() => vi.useRealTimers());

describe('indexLater', () => {
  it('builds the counts ms after the read', async () => {
    vi.useFakeTimers();
    const check = new IncrementalCheck();
    expect(check.check(structuredClone(seed))).toBe(true);
    expect(check.pending).toBe(true);
    indexLater(check, 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(check.pending).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(check.pending).toBe(false);
  });

  it('with `after`: not before it settles, then ms after (a rejection counts as settled)', async () => {
    for (const fail of [false, true]) {
      vi.useFakeTimers();
      const check = new IncrementalCheck();
      expect(check.check(structuredClone(seed))).toBe(true);
      let settle!: () => void;
      const after = new Promise<void>((resolve, reject) => (settle = fail ? () => reject(new Error('no status')) : resolve));
      after.catch(() => undefined);
      indexLater(check, 1000, after);
      await vi.advanceTimersByTimeAsync(5000);
      expect(check.pending, `fail ${fail}`).toBe(true);
      settle();
      await vi.advanceTimersByTimeAsync(999);
      expect(check.pending).toBe(true);
      await vi.advanceTimersByTimeAsync(1);
      expect(check.pending).toBe(false);
      vi.useRealTimers();
    }
  });
});
