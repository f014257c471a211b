// The agent's idle collection (src/agent/idle-gc.ts) in this very process:
// with little of the young generation in use (under its share, or under its
// least bytes) it does nothing (a version that concerns the agent little
// costs no scavenge), past both it empties it.
import { describe, expect, it } from 'vitest';
import { minorGc, youngGeneration } from '../../src/agent/idle-gc.js';

/** Garbage: about `bytes` of short-lived arrays, none kept. */
function garbage(bytes: number): number {
  let n = 0;
  for (let k = 0; k < bytes / 1024; k++) n += new Array(120).fill(k).length;
  return n;
}

describe('idle young-generation collection', () => {
  it('skips a young generation little used, and empties one used past its share', () => {
    minorGc(0, 0)(); // empty now
    const empty = youngGeneration();
    expect(empty.room).toBeGreaterThan(0);
    const gate = minorGc(0.5, 0);
    garbage(Math.min(64 * 1024, empty.room / 20));
    const little = youngGeneration().used;
    expect(little).toBeLessThan(empty.room / 2);
    gate();
    expect(youngGeneration().used, 'not collected below its share').toBeGreaterThanOrEqual(little);
    while (youngGeneration().used < youngGeneration().room * 0.6) garbage(256 * 1024);
    const much = youngGeneration().used;
    gate();
    expect(youngGeneration().used, 'collected past its share').toBeLessThan(much / 4);
  });

  it('skips a young generation used past its share but under its least bytes (V8 shrank it)', () => {
    minorGc(0, 0)();
    const gate = minorGc(0, 2 ** 40);
    garbage(64 * 1024);
    const used = youngGeneration().used;
    expect(used).toBeGreaterThan(0);
    gate();
    expect(youngGeneration().used, 'not collected').toBeGreaterThanOrEqual(used);
  });
});
