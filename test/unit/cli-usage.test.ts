// The command line's own contract, without root: help for every command from
// its option table, the version, unknown options and missing ones named with
// the command's usage, and exit codes by failure class.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { eucanet, repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eucanet help, --help and --version', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const r = eucanet(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`eucanet ${pkg.version}\n`);
  });

  it('eucanet help lists every command with its one line', () => {
    const r = eucanet(['help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
    for (const c of COMMANDS) expect(r.stdout).toContain(c.summary);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help lists each of its options in one line, and an example; help %s says the same', (name) => {
    const c = COMMANDS.find((x) => x.name === name)!;
    const r = eucanet([name, '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith(`usage: eucanet ${name}`)).toBe(true);
    for (const o of c.options) {
      const line = r.stdout.split('\n').find((l) => l.includes(`--${o.name}`) && l.includes(o.help));
      expect(line, `--${o.name}`).toBeDefined();
    }
    expect(r.stdout).toContain(`example:\n  ${c.example}\n`);
    expect(eucanet(['help', name]).stdout).toBe(r.stdout);
  });
});

describe('usage errors: exit 2, the problem named, the command usage printed', () => {
  it('an unknown option is named with the command usage, in balanced quotes', () => {
    const r = eucanet(['down', '--role', 'cc', '--state', 'x.json']);
    expect(r.status).toBe(2);
    const [first, usage] = r.stderr.split('\n');
    expect(first).toBe('eucanet: unknown option --state for eucanet down');
    expect(usage).toMatch(/^usage: eucanet down --role cc\|nc/);
    expect((r.stderr.match(/'/g) ?? []).length % 2).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('an option of another command is unknown here (allocate has no --role)', () => {
    const r = eucanet(['allocate', '--state', 'x.json', '--role', 'cc', '--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('eucanet: unknown options --role, --bogus for eucanet allocate');
  });

  it('every missing required option is named at once', () => {
    const r = eucanet(['apply']);
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('eucanet: missing --state FILE or --etcd URL, --role cc|nc');
    const nc = eucanet(['apply', '--role', 'nc']);
    expect(nc.stderr.split('\n')[0]).toBe('eucanet: missing --state FILE or --etcd URL, --node NAME (with --role nc)');
  });

  it('an unknown command, a missing value, a value given to a switch, a stray argument', () => {
    expect(eucanet(['frobnicate']).stderr).toMatch(/^eucanet: unknown command "frobnicate"\nusage: eucanet COMMAND/);
    expect(eucanet(['show', '--netns']).stderr.split('\n')[0]).toBe('eucanet: option --netns needs a value (NAME)');
    expect(eucanet(['show', '--json=yes']).stderr.split('\n')[0]).toBe('eucanet: option --json takes no value (got "yes")');
    expect(eucanet(['show', 'extra']).stderr.split('\n')[0]).toBe('eucanet: unexpected argument "extra"');
    expect(eucanet(['down', '--role', 'xx']).stderr.split('\n')[0]).toBe('eucanet: --role must be cc or nc (got "xx")');
    for (const a of [['frobnicate'], ['show', '--netns'], ['show', '--json=yes'], ['show', 'extra'], ['down', '--role', 'xx'], []]) {
      expect(eucanet(a).status, a.join(' ')).toBe(2);
    }
  });
});

describe('exit codes by failure class', () => {
  it('a directory given as --state is bad input (2), named', () => {
    for (const cmd of [['allocate'], ['apply', '--role', 'cc'], ['show']]) {
      const r = eucanet([...cmd, '--state', dir]);
      expect(r.status, cmd[0]).toBe(2);
      expect(r.stderr).toContain(`invalid --state "${dir}": is a directory`);
    }
  });

  it('a state file that does not exist is bad input (2)', () => {
    const r = eucanet(['allocate', '--state', join(dir, 'nope.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no such file');
  });

  it.skipIf(process.getuid?.() !== 0)('a write-back that fails is a failure (1), not bad input (runs as nobody in a root-owned directory)', () => {
    const d = join(dir, 'ro');
    mkdirSync(d, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const file = join(d, 'cloud.json');
    writeFileSync(file, readFileSync(join(repoRoot, 'examples/seed.json')));
    chmodSync(file, 0o644);
    const r = eucanet(['allocate', '--state', file], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] });
    expect(r.stderr).toContain(`writing ${file}`);
    expect(r.status).toBe(1);
  });
});
