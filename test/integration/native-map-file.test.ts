// The addon's file mapping and V8 flag setter (native/cold_start.cc), which
// the command line's launcher uses before the bundle runs (src/cli/cold-start.ts):
// the mapped bytes are the file's and private to the process, an empty file
// maps to nothing, errors name the call and errno, and a flag set takes effect.
// No root needed.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_HEAD, readTrusted, runBundle } from '../../src/cli/code-cache.js';
import { addon } from '../../src/native.js';
import { repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-mapfile-'));
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
    const viaMap = g.__coldOut;
    g.__coldOut = undefined;
    runBundle(bundle, 'ab'.repeat(32), 'apply', { EUCANET_CODE_CACHE: 'off' });
    expect(viaMap).toBe('b.cjs:42');
    expect(g.__coldOut).toBe(viaMap);
  });

  it('takes a private cache file mapped, with the bytes it would have read', () => {
    const cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
    const file = join(cacheDir, 'c.v8');
    writeFileSync(file, Buffer.from('cached bytes'), { mode: 0o600 });
    const viaMap = readTrusted(file, addon);
    expect(viaMap).toBeDefined();
    expect(Buffer.from(viaMap!).toString()).toBe('cached bytes');
    expect(Buffer.from(readTrusted(file)!).equals(Buffer.from(viaMap!))).toBe(true);
  });
});

describe('setV8Flags', () => {
  it('sets a flag V8 reads as it runs (a child process: the flags are the process-wide)', () => {
    const code =
      `const a = require(${JSON.stringify(join(repoRoot, 'build/Release/eucanet.node'))});` +
      `let before; try { new Function('%IsSmi(1)'); before = 'parsed'; } catch (e) { before = e.name; }` +
      `a.setV8Flags('--allow-natives-syntax'); console.log(before, new Function('return %IsSmi(1)')());`;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('SyntaxError true');
  });
});
