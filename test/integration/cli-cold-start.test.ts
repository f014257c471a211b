// What the launcher sets up before a command runs (src/cli/cold-start.ts,
// native/cold_start.cc): files mapped rather than read (the bytes are the
// file's, private to the process, errors name the call), V8's flags set
// through the addon, and the built bin running a short command with V8's
// young generation kept at its first size, which the agent and the demo, and
// EUCANET_V8_FLAGS, do not. No root needed: no namespace is touched.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LONG_LIVED_COMMANDS, SHORT_LIVED_V8_FLAGS, v8FlagsFor } from '../../src/cli/cold-start.js';
import { runBundle, BUNDLE_HEAD } from '../../src/cli/code-cache.js';
import { addon } from '../../src/native.js';
import { cliPath, eucanet, repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-coldstart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mapped<T extends boolean>(file: string, latin1: T): T extends true ? string : ArrayBuffer {
  const fd = openSync(file, 'r');
  try {
    return (latin1 ? addon.mapFile(fd, true) : addon.mapFile(fd, false)) as T extends true ? string : ArrayBuffer;
  } finally {
    closeSync(fd);
  }
}

describe('mapFile', () => {
  it('gives the file as a Latin-1 string and as bytes, private to the process', () => {
    const f = join(dir, 'bytes');
    const data = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7) & 0xff));
    writeFileSync(f, data);
    expect(mapped(f, true)).toBe(data.toString('latin1'));
    const bytes = new Uint8Array(mapped(f, false));
    expect(Buffer.from(bytes).equals(data)).toBe(true);
    // Written through the mapping: the process sees it, the file does not.
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    expect(bytes[0]).toBe((data[0] ?? 0) ^ 0xff);
    expect(readFileSync(f).equals(data)).toBe(true);
  });

  it('gives an empty file as "" and as an empty ArrayBuffer', () => {
    const f = join(dir, 'empty');
    writeFileSync(f, '');
    expect(mapped(f, true)).toBe('');
    expect(mapped(f, false).byteLength).toBe(0);
  });

  it('refuses what is not a regular file, and a closed fd, naming the call and errno', () => {
    expect(() => mapped('/dev/null', true)).toThrow(expect.objectContaining({ errno: 22, syscall: expect.stringContaining('not a regular file') }));
    const fd = openSync(join(dir, 'empty'), 'r');
    closeSync(fd);
    expect(() => addon.mapFile(fd, false)).toThrow(expect.objectContaining({ errno: 9, syscall: 'fstat' }));
  });
});

describe('runBundle with the addon mapping', () => {
  it('runs the bundle from the mapped file as from the read one', () => {
    const bundle = join(dir, 'b.cjs');
    writeFileSync(bundle, `${BUNDLE_HEAD}\nglobalThis.__coldOut = require('node:path').basename(__filename) + ':' + (6 * 7);\n})\n`);
    const g = globalThis as { __coldOut?: string };
    g.__coldOut = undefined;
    runBundle(bundle, 'ab'.repeat(32), 'apply', { EUCANET_CODE_CACHE: 'off' }, addon);
    expect(g.__coldOut).toBe('b.cjs:42');
  });
});

describe('the V8 flags a command runs with', () => {
  it('are the short-lived set for a command that runs once, none for the agent and the demo, EUCANET_V8_FLAGS when set', () => {
    expect(v8FlagsFor('apply', {})).toBe(SHORT_LIVED_V8_FLAGS);
    expect(v8FlagsFor('run-instance', {})).toBe(SHORT_LIVED_V8_FLAGS);
    for (const c of ['agent', 'demo']) {
      expect(LONG_LIVED_COMMANDS.has(c)).toBe(true);
      expect(v8FlagsFor(c, {})).toBe('');
    }
    expect(v8FlagsFor('apply', { EUCANET_V8_FLAGS: '' })).toBe('');
    expect(v8FlagsFor('agent', { EUCANET_V8_FLAGS: ' --no-opt ' })).toBe('--no-opt');
  });

  it('setV8Flags sets a flag V8 reads as it runs (a child process: the flags are the process-wide)', () => {
    const code =
      `const a = require(${JSON.stringify(join(repoRoot, 'build/Release/eucanet.node'))});` +
      `let before; try { new Function('%IsSmi(1)'); before = 'parsed'; } catch (e) { before = e.name; }` +
      `a.setV8Flags('--allow-natives-syntax'); console.log(before, new Function('return %IsSmi(1)')());`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('SyntaxError true');
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
  const cold = (env: NodeJS.ProcessEnv) => {
    const r = eucanet(['allocate', '--state', join(repoRoot, 'examples/seed.json'), '--dry-run'], {
      env: { ...env, EUCANET_CODE_CACHE: 'off', NODE_OPTIONS: `--import ${hook}` },
    });
    expect(r.status, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('cold: '));
    expect(line, r.stderr).toBeDefined();
    return JSON.parse(line!.slice('cold: '.length)) as { newSpace: number; mapsBundle: boolean; kept: number };
  };

  it('the built bin maps its bundle and keeps a short command young generation at its first size; EUCANET_V8_FLAGS="" does not', () => {
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
    expect(cliPath.endsWith('dist/cli/main.js')).toBe(true);
  });
});
