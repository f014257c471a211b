// The README's command-line section quotes the program's help: every
// ```console block that starts with "$ eucanet ..." must be, word for word,
// what that command prints.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eucanet, repoRoot } from '../helpers/cli.js';

const md = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const quoted = [...md.matchAll(/```console\n\$ eucanet ([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ args: m[1].split(' '), text: m[2] }));

describe("README's command-line section", () => {
  it('quotes the help of eucanet, apply and down', () => {
    expect(quoted.map((q) => q.args.join(' '))).toEqual(expect.arrayContaining(['help', 'apply --help', 'down --help']));
  });

  it.each(quoted.map((q) => [q.args.join(' '), q] as const))('"eucanet %s" prints what the README quotes', (_name, q) => {
    const r = eucanet(q.args);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(q.text);
  });
});
