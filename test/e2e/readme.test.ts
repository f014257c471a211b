// The README's library example must run as written (against the built
// package in dist/, which `npm test` builds first).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/netns.js';

const root = new URL('../..', import.meta.url).pathname;

function jsBlocks(): string[] {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  return [...md.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe.skipIf(!isRoot)('README examples (root)', () => {
  it('the library example creates a bridge, a veth in it and an address in a namespace', () => {
    const example = jsBlocks()[0]!;
    expect(example).toMatch(/createNetns\('demo'\)/);
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-readme-'));
    try {
      const file = join(dir, 'example.mjs');
      // Run it as a user would, with the package import pointing at this checkout.
      writeFileSync(file, example.replace("from 'eucanet'", `from '${join(root, 'dist/index.js')}'`).replace(/'demo'/g, "'eut-readme'"));
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
      expect(out).toMatch(/name: 'vnet1'/);
      expect(out).toMatch(/kind: 'veth'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      try {
        execFileSync('ip', ['netns', 'delete', 'eut-readme'], { stdio: 'ignore' });
      } catch {
        // already gone: the example removes its namespace itself
      }
    }
  });
});
