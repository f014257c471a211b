// The agent's idle collection (src/agent/idle-gc.ts) in this very process:
// with little of the young generation in use (under its share, or under its
// least bytes) it does nothing (a version that concerns the agent little
// costs no scavenge), past both it empties it. And, in two processes of the
// built module, that a V8 code cache made after it ran is still taken by the
// next process (the agent's bundle cache, cli/code-cache.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minorGc, youngGeneration } from '../../src/agent/idle-gc.js';
import { repoRoot } from '../helpers/cli.js';

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

const built = join(repoRoot, 'dist/agent/idle-gc.js');

describe.skipIf(!existsSync(built))('idle collection and the code cache (the built module, two processes)', () => {
  it("leaves V8's flags as they were: a code cache made after a collection is taken by the next process", () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-gc-cache-'));
    try {
      const file = join(dir, 'cache.bin');
      // Each process compiles the same script; the first runs a collection (gc() exposed for it), then saves its cache.
      const script = (make: boolean) => `
        const vm = require('node:vm');
        const fs = require('node:fs');
        const src = 'function f(x) { return x * 2; } f(21);';
        (async () => {
          if (${make}) {
            const s = new vm.Script(src, { filename: 'cached.js' });
            s.runInThisContext();
            (await import(${JSON.stringify(built)})).minorGc(0, 0)();
            fs.writeFileSync(${JSON.stringify(file)}, s.createCachedData());
          } else {
            const s = new vm.Script(src, { filename: 'cached.js', cachedData: fs.readFileSync(${JSON.stringify(file)}) });
            process.stdout.write(s.cachedDataRejected ? 'refused' : 'taken');
          }
        })();`;
      const made = spawnSync(process.execPath, ['-e', script(true)], { encoding: 'utf8' });
      expect(made.status, made.stderr).toBe(0);
      const used = spawnSync(process.execPath, ['-e', script(false)], { encoding: 'utf8' });
      expect(used.status, used.stderr).toBe(0);
      expect(used.stdout).toBe('taken');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
