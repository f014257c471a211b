// The README's library examples are the files in examples/, quoted whole, and
// import only what the package exports. (test/e2e/pack.test.ts compiles and
// runs those files against the packed package.)
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** Every fenced code block, with the example file named by a marker just before it. */
function codeBlocks(): Array<{ lang: string; body: string; file?: string }> {
  return [...readme.matchAll(/(?:<!-- example: (\S+) -->\n)?```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[2],
    body: m[3],
    ...(m[1] ? { file: m[1] } : {}),
  }));
}

describe('README examples', () => {
  it('quote every examples/*.ts whole, each once, under its marker', () => {
    const quoted = codeBlocks().filter((b) => b.file);
    const files = readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `examples/${f}`);
    expect(files.length).toBeGreaterThan(0);
    expect(quoted.map((b) => b.file).sort()).toEqual(files.sort());
    for (const b of quoted) {
      expect(b.lang, b.file).toBe('ts');
      expect(b.body, `the README's block for ${b.file}`).toBe(readFileSync(join(root, b.file!), 'utf8'));
    }
  });

  it('have no library code outside those files', () => {
    const loose = codeBlocks().filter((b) => !b.file && /\bfrom 'eucanet|require\('eucanet/.test(b.body));
    expect(loose.map((b) => b.body)).toEqual([]);
    expect(codeBlocks().filter((b) => ['js', 'ts', 'mjs'].includes(b.lang) && !b.file)).toEqual([]);
  });

  it('name only module paths the exports map allows', () => {
    const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, unknown>;
    const allowed = new Set(Object.keys(exportsMap).map((k) => (k === '.' ? 'eucanet' : `eucanet/${k.slice(2)}`)));
    const named = [...readme.matchAll(/[`'"](eucanet\/[\w./-]+)[`'"]/g)].map((m) => m[1]);
    expect(named.filter((p) => !allowed.has(p))).toEqual([]);
    expect(readme).not.toMatch(/eucanet\/dist\//);
  });
});
