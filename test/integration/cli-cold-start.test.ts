// What the launcher sets up before a command runs (src/cli/cold-start.ts):
// the built bin maps its bundle and runs a short command with V8's young
// generation kept at its first size, which the agent and the demo, and
// EUCANET_V8_FLAGS, do not. The addon's side: native-map-file.test.ts. No
// root needed: no namespace is touched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LONG_LIVED_COMMANDS, SHORT_LIVED_V8_FLAGS, mapsFiles, v8FlagsFor } from '../../src/cli/cold-start.js';
import { cliPath, eucanet, repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-coldstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the V8 flags a command runs with', () => {
  it('are the short-lived set for a command that runs once, none for the agent and the demo, EUCANET_V8_FLAGS when set', () => {
    expect(v8FlagsFor('apply', {})).toBe(SHORT_LIVED_V8_FLAGS);
    expect(v8FlagsFor('run-instance', {})).toBe(SHORT_LIVED_V8_FLAGS);
    for (const c of ['agent', 'demo']) {
      expect(LONG_LIVED_COMMANDS.has(c)).toBe(true);
      expect(v8FlagsFor(c, {})).toBe('');
      // A long-lived command reads its files: one copied over in place while it runs cannot fault it.
      expect(mapsFiles(c)).toBe(false);
    }
    expect(mapsFiles('apply')).toBe(true);
    expect(mapsFiles('help')).toBe(true);
    expect(v8FlagsFor('apply', { EUCANET_V8_FLAGS: '' })).toBe('');
    expect(v8FlagsFor('agent', { EUCANET_V8_FLAGS: ' --no-opt ' })).toBe('--no-opt');
  });

  // A hook run as the command exits: it keeps 400,000 objects alive through
  // scavenges (V8 would grow the young generation for them) and reports its
  // size, and whether the bundle is mapped into the process.
  const hook = join(dir, 'hook.mjs');
  writeFileSync(
    hook,
    "import { getHeapSpaceStatistics } from 'node:v8';\nimport { readFileSync } from 'node:fs';\n" +
      "process.on('exit', () => {\n  const keep = []; for (let i = 0; i < 400000; i++) keep.push({ i, s: 'x' + i });\n" +
      "  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;\n" +
      "  const mapsBundle = readFileSync('/proc/self/maps', 'utf8').split('\\n').some((l) => l.endsWith('/dist/cli/eucanet.cjs'));\n" +
      '  process.stderr.write(`cold: ${JSON.stringify({ newSpace, mapsBundle, kept: keep.length })}\\n`);\n});\n',
  );
  const cold = (env: NodeJS.ProcessEnv, args = ['allocate', '--state', join(repoRoot, 'examples/seed.json'), '--dry-run']) => {
    const r = eucanet(args, {
      env: { ...env, EUCANET_CODE_CACHE: 'off', NODE_OPTIONS: `--import ${hook}` },
    });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('cold: '));
    expect(line, r.stderr).toBeDefined();
    return JSON.parse(line!.slice('cold: '.length)) as { newSpace: number; mapsBundle: boolean; kept: number };
  };

  it('the built bin maps its bundle and keeps a short command young generation at its first size; EUCANET_V8_FLAGS="" does not; the agent does neither', () => {
    const env = { ...process.env };
    delete env.EUCANET_V8_FLAGS;
    const short = cold(env);
    expect(short.kept).toBe(400000);
    expect(short.mapsBundle).toBe(true);
    // Node 20's young generation starts at two 1 MiB semi-spaces and grows to 2 x 16 MiB.
    expect(short.newSpace).toBeLessThanOrEqual(2 * 1024 * 1024);
    const defaults = cold({ ...env, EUCANET_V8_FLAGS: '' });
    expect(defaults.newSpace).toBeGreaterThan(4 * 1024 * 1024);
    expect(defaults.mapsBundle).toBe(true);
    // The agent (here its help: the launcher decides by the command) keeps V8's defaults and reads its bundle.
    const agent = cold(env, ['agent', '--help']);
    expect(agent.newSpace).toBeGreaterThan(4 * 1024 * 1024);
    expect(agent.mapsBundle).toBe(false);
    expect(cliPath.endsWith('dist/cli/main.js')).toBe(true);
  });
});
