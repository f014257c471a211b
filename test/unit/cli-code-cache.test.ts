// The bundled command line's V8 code cache (src/cli/code-cache.ts): where it
// lives, that it is taken on the second run and gives the same results, that
// a file another user could have written is never taken, that a bundle with
// another hash or a damaged cache is not run from it; and the built bin
// (dist/cli/main.js, the launcher) writing and then using it.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLE_HEAD, KEEP_FILES, NotABundleError, cacheDirOf, cacheKey, cacheFileOf, readTrusted, runBundle, writeCache } from '../../src/cli/code-cache.js';
import { cliPath, repoRoot } from '../helpers/cli.js';

let dir: string;
let bundle: string;
const runs = (): number => (globalThis as { __ccRuns?: number }).__ccRuns ?? 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eucanet-cc-'));
  bundle = join(dir, 'b.cjs');
  // A CommonJS "bundle" as scripts/bundle-cli.mjs writes one (the module wrapper around the code) that uses
  // what Node gives a module, counts its runs, and has functions to compile.
  const fns = Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x * ${i} + ${i % 7}; }`).join('\n');
  writeFileSync(
    bundle,
    `${BUNDLE_HEAD}\n${fns}\nlet s = 0; for (let i = 0; i < 200; i++) s += eval('f' + i)(2);\n` +
      `globalThis.__ccRuns = (globalThis.__ccRuns ?? 0) + 1; globalThis.__ccOut = { s, name: require('node:path').basename(__filename), dir: __dirname, exp: typeof module.exports };\n})\n`,
  );
  (globalThis as { __ccRuns?: number }).__ccRuns = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (cache: string) => ({ EUCANET_CODE_CACHE: cache });

/** A state file in `dir` with 1600 instances to allocate (4 groups of /21 on 2 nodes): its allocate output is far over a pipe's 64 KiB. */
function bigState(dir: string, name: string): string {
  const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')) as Record<string, unknown>;
  const groups = Array.from({ length: 4 }, (_, g) => ({ owner: 'admin', name: `g${g}` }));
  const instances = Array.from({ length: 1600 }, (_, k) => ({ id: `i-${k}`, group: `admin/g${k % 4}`, node: `nc${(k % 2) + 1}`, port: `vn${k}` }));
  const state = join(dir, name);
  writeFileSync(state, JSON.stringify({ ...seed, subnet: '172.16.0.0/12', addrsPerNet: 2048, publicIps: [], groups, instances }));
  return state;
}
// Each run from its own copy (another file name): V8 keeps a script it compiled
// in this process by source and name, and would not look at the cache given.
let copies = 0;
const fresh = (): string => {
  const f = join(dir, `b${++copies}.cjs`);
  copyFileSync(bundle, f);
  return f;
};

describe('the code cache directory', () => {
  it('is $EUCANET_CODE_CACHE, else $XDG_CACHE_HOME/eucanet, else ~/.cache/eucanet; "off" or empty: none', () => {
    expect(cacheDirOf({ EUCANET_CODE_CACHE: '/x/y', XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/x/y');
    expect(cacheDirOf({ EUCANET_CODE_CACHE: 'off', HOME: '/h' })).toBeUndefined();
    expect(cacheDirOf({ EUCANET_CODE_CACHE: '', HOME: '/h' })).toBeUndefined();
    expect(cacheDirOf({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/eucanet');
    expect(cacheDirOf({ HOME: '/h' })).toBe('/h/.cache/eucanet');
  });

  it("names a file by the bundle's hash, Node's version and architecture, and the command", () => {
    const f = cacheFileOf('/d', 'ab'.repeat(32), 'apply');
    expect(f).toBe(`/d/cli-${'ab'.repeat(8)}-node${process.versions.node}-${process.arch}-apply.v8`);
    expect(cacheFileOf('/d', 'ab'.repeat(32), '../../etc/x')).toMatch(/-other\.v8$/);
  });
});

describe('cacheKey', () => {
  it('is the command, with the role and a dry run when given', () => {
    expect(cacheKey(['apply', '--state', 's.json', '--role', 'cc'])).toBe('apply-cc');
    expect(cacheKey(['apply', '--role=nc', '--node', 'nc1', '--dry-run'])).toBe('apply-nc-dry-run');
    expect(cacheKey(['show', '--netns', 'x'])).toBe('show');
    expect(cacheKey(['--version'])).toBe('help');
    expect(cacheKey(['apply', '--role', 'xx'])).toBe('apply');
  });
});

describe('runBundle', () => {
  it('runs the bundle once as a CommonJS module, writes the cache (0600, in a 0700 directory), and takes it the next time', () => {
    const cache = join(dir, 'cache');
    const first = runBundle(fresh(), 'h1', 'apply', env(cache));
    expect(runs()).toBe(1);
    const out1 = (globalThis as { __ccOut?: unknown }).__ccOut;
    expect(out1).toEqual({ s: expect.any(Number), name: 'b1.cjs', dir, exp: 'object' });
    expect(first.used).toBe(false);
    first.save();
    const file = first.file ?? '';
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const second = runBundle(fresh(), 'h1', 'apply', env(cache));
    expect(second.used).toBe(true);
    expect(runs()).toBe(2);
    expect((globalThis as { __ccOut?: unknown }).__ccOut).toEqual({ ...(out1 as object), name: 'b2.cjs' });
  });

  it("does not take another bundle's cache, nor another command's", () => {
    const cache = join(dir, 'cache');
    runBundle(fresh(), 'h1', 'apply', env(cache)).save();
    expect(runBundle(fresh(), 'h2', 'apply', env(cache)).used).toBe(false);
    expect(runBundle(fresh(), 'h1', 'show', env(cache)).used).toBe(false);
    expect(runs()).toBe(3);
  });

  it('never takes a file that others could have written (group or other write bit, on the file or its directory)', () => {
    const cache = join(dir, 'cache');
    const r = runBundle(fresh(), 'h1', 'apply', env(cache));
    r.save();
    const file = r.file ?? '';
    chmodSync(file, 0o620);
    expect(readTrusted(file)).toBeUndefined();
    expect(runBundle(fresh(), 'h1', 'apply', env(cache)).used).toBe(false);
    chmodSync(file, 0o600);
    chmodSync(cache, 0o777);
    expect(readTrusted(file)).toBeUndefined();
    expect(runBundle(fresh(), 'h1', 'apply', env(cache)).used).toBe(false);
    chmodSync(cache, 0o700);
    expect(runBundle(fresh(), 'h1', 'apply', env(cache)).used).toBe(true);
  });

  it('runs the source, not a damaged cache, and replaces the damaged one', () => {
    const cache = join(dir, 'cache');
    const r = runBundle(fresh(), 'h1', 'apply', env(cache));
    r.save();
    const file = r.file ?? '';
    const bytes = readFileSync(file);
    bytes.fill(0x5a, 0, 64);
    writeFileSync(file, bytes, { mode: 0o600 });
    const again = runBundle(fresh(), 'h1', 'apply', env(cache));
    expect(again.used).toBe(false);
    expect(runs()).toBe(2);
    again.save();
    expect(runBundle(fresh(), 'h1', 'apply', env(cache)).used).toBe(true);
  });

  it('refuses a file that is not a bundle as the build writes it (no module wrapper), naming it, and runs nothing', () => {
    const plain = join(dir, 'plain.cjs');
    writeFileSync(plain, '#!/usr/bin/env node\nglobalThis.__ccRuns = 99;\n');
    expect(() => runBundle(plain, 'h1', 'apply', env('off'))).toThrow(NotABundleError);
    expect(() => runBundle(plain, 'h1', 'apply', env('off'))).toThrow(`${plain}: not a bundle of scripts/bundle-cli.mjs`);
    expect(runs()).toBe(0);
  });

  it('runs without a cache when there is no directory, or it cannot be made', () => {
    expect(runBundle(fresh(), 'h1', 'apply', env('off'))).toMatchObject({ used: false });
    writeFileSync(join(dir, 'plain'), 'a file where the directory would be');
    const r = runBundle(fresh(), 'h1', 'apply', env(join(dir, 'plain', 'cache')));
    r.save();
    expect(r.used).toBe(false);
    expect(runs()).toBe(2);
  });
});

describe('writeCache', () => {
  it(`keeps the ${KEEP_FILES} newest cache files`, () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    for (let i = 0; i < KEEP_FILES + 4; i++) {
      const f = join(cache, `cli-old${i}.v8`);
      writeFileSync(f, 'x', { mode: 0o600 });
      utimesSync(f, 1000 + i, 1000 + i);
    }
    writeCache(join(cache, 'cli-new.v8'), Buffer.from('y'));
    const left = readdirSync(cache).sort();
    expect(left).toHaveLength(KEEP_FILES);
    expect(left).toContain('cli-new.v8');
    expect(left).not.toContain('cli-old0.v8');
    expect(left).toContain(`cli-old${KEEP_FILES + 3}.v8`);
  });
});

describe('writeCache, with caches of other bundles in the directory', () => {
  it("removes other bundles' caches before the running bundle's own, however new they are", () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    const own = (cmd: string) => cacheFileOf(cache, 'a'.repeat(64), cmd);
    const other = (i: number) => cacheFileOf(cache, 'b'.repeat(64), `cmd${String.fromCharCode(97 + (i % 26))}${'x'.repeat(Math.floor(i / 26))}`);
    // Ten of this bundle's commands, written long ago; then a full directory of another build's, newer.
    for (let i = 0; i < 10; i++) {
      writeFileSync(own(`old${String.fromCharCode(97 + i)}`), 'x', { mode: 0o600 });
      utimesSync(own(`old${String.fromCharCode(97 + i)}`), 1000 + i, 1000 + i);
    }
    for (let i = 0; i < KEEP_FILES; i++) {
      writeFileSync(other(i), 'x', { mode: 0o600 });
      utimesSync(other(i), 5000 + i, 5000 + i);
    }
    writeCache(own('apply-cc'), Buffer.from('y'));
    const left = readdirSync(cache);
    expect(left).toHaveLength(KEEP_FILES);
    for (let i = 0; i < 10; i++)
      expect(left).toContain(
        own(`old${String.fromCharCode(97 + i)}`)
          .split('/')
          .pop(),
      );
    expect(left).toContain(own('apply-cc').split('/').pop());
    // The other bundle's oldest went; its newest stayed.
    expect(left).not.toContain(other(0).split('/').pop());
    expect(left).toContain(
      other(KEEP_FILES - 1)
        .split('/')
        .pop(),
    );
  });
});

describe.skipIf(!existsSync(cliPath))('the bin (dist/cli/main.js, the launcher)', () => {
  it('runs a bundle that is ASCII, its first line the module wrapper and its source map still matching its lines', () => {
    const file = join(repoRoot, 'dist/cli/eucanet.cjs');
    const bytes = readFileSync(file);
    expect(bytes.findIndex((b) => b > 0x7f)).toBe(-1);
    const text = bytes.toString('latin1');
    expect(text.startsWith(`${BUNDLE_HEAD}\n`)).toBe(true);
    expect(text).toMatch(/\n\}\)\n\/\/# sourceMappingURL=eucanet\.cjs\.map\n?$/);
    // The bundle's own marks are on the lines the map was made for: line 2 its banner, the entry's main() near the end.
    const lines = text.split('\n');
    expect(lines[1]).toBe('// eucanet: bundled by scripts/bundle-cli.mjs');
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { mappings: string };
    // One ';' per generated line in the mappings: the map covers the code's lines, not the wrapper's closing line after them.
    expect(map.mappings.split(';').length).toBeLessThanOrEqual(lines.length - 2);
    expect(map.mappings.split(';').length).toBeGreaterThan(lines.length - 10);
  });

  it('writes the cache on its first run of a command, takes it on the next, and says the same both times', () => {
    const cache = join(dir, 'cache');
    const run = () => spawnSync(process.execPath, [cliPath, 'help', 'apply'], { env: { ...process.env, ...env(cache) }, encoding: 'utf8' });
    const a = run();
    expect(a.status).toBe(0);
    const files = readdirSync(cache);
    expect(files).toEqual([expect.stringMatching(/^cli-[0-9a-f]{16}-node.*-help\.v8$/)]);
    const mtime = statSync(join(cache, files[0])).mtimeMs;
    const b = run();
    expect(b.status).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(b.stdout).toMatch(/--role/);
    // Taken, so not written again.
    expect(statSync(join(cache, files[0])).mtimeMs).toBe(mtime);
  });

  it('is CommonJS: Node runs it without its ES module loader (about 17 million instructions of every command)', () => {
    // Node's own list of the internal modules it loaded, read as the process exits (a CommonJS preload).
    const hook = join(dir, 'esm-list.cjs');
    writeFileSync(hook, "process.on('exit', () => process.stderr.write(`esm: ${JSON.stringify(process.moduleLoadList)}\\n`));\n");
    const r = spawnSync(process.execPath, ['-r', hook, cliPath, 'help', 'apply'], { env: { ...process.env, ...env('off') }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--role/);
    const line = r.stderr.split('\n').find((l) => l.startsWith('esm: '));
    const loaded = JSON.parse(line!.slice('esm: '.length)) as string[];
    // The oracle sees the CommonJS loader run the entry, and no ES module job.
    expect(loaded).toContain('NativeModule internal/modules/cjs/loader');
    expect(loaded.filter((m) => /internal\/modules\/esm\/(module_job|translators)$/.test(m))).toEqual([]);
  });

  it('loses nothing of a long output through a pipe though the process exits as soon as the command returns', () => {
    // 1600 instances to allocate (4 groups of /21 on 2 nodes): one line each, far more than a pipe's 64 KiB buffer.
    const state = bigState(dir, 'big.json');
    const r = spawnSync(process.execPath, [cliPath, 'allocate', '--state', state, '--dry-run'], {
      env: { ...process.env, ...env('off') },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1 << 16);
    const lines = r.stdout.split('\n').filter((l) => /^ {2}instances\[\d+\] i-\d+: privateIp /.test(l));
    expect(lines).toHaveLength(1600);
    expect(lines[1599]).toMatch(/^ {2}instances\[1599\] i-1599: /);
    expect(r.stdout.endsWith('\n')).toBe(true);
  });

  it('loses nothing through a pipe its reader leaves full for a while (the process waits for the pipe, then exits)', () => {
    // The reader does not read for 700 ms: a pipe takes 64 KiB, and what did not fit
    // was queued by libuv, which an exit right after the command dropped (the
    // benchmark's 5000-instance dry run was cut at 65536 bytes).
    const state = bigState(dir, 'big-paused.json');
    // The shell's pipe into a reader that sleeps first; the CLI's own exit status is the one checked.
    const script = `"$0" "$1" allocate --state "$2" --dry-run | (sleep 0.7; cat); exit \${PIPESTATUS[0]}`;
    const r = spawnSync('bash', ['-c', script, process.execPath, cliPath, state], {
      env: { ...process.env, ...env('off') },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout;
    expect(out.length).toBeGreaterThan(1 << 16);
    expect(out.split('\n').filter((l) => /^ {2}instances\[\d+\] i-\d+: privateIp /.test(l))).toHaveLength(1600);
    expect(out.endsWith('\n')).toBe(true);
  });

  it('never grows the young generation 16-fold, as rounds 3 to 12 did (a short command now keeps it at its first size: cold-start.ts)', () => {
    // 1600 instances to allocate: with the 16-fold growth, at most 4 scavenges; a young generation that does not grow makes more.
    const state = bigState(dir, 'big.json');
    const r = spawnSync(process.execPath, ['--trace-gc', cliPath, 'allocate', '--state', state, '--dry-run'], {
      env: { ...process.env, ...env('off') },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    expect(r.status).toBe(0);
    const scavenges = r.stdout.split('\n').filter((l) => / Scavenge /.test(l)).length;
    expect(scavenges).toBeGreaterThan(4);
  });

  it('leaves no cache after a failed run; a dry run has its own', () => {
    const cache = join(dir, 'cache');
    const run = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env(cache) }, encoding: 'utf8' });
    const failed = run('apply', '--state', join(dir, 'missing.json'), '--role', 'cc', '--dry-run');
    expect(failed.status).not.toBe(0);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    const state = join(dir, 'state.json');
    writeFileSync(state, '{"mode": "MANAGED"');
    expect(run('show', '--state', state).status).not.toBe(0);
    expect(existsSync(cache) ? readdirSync(cache) : []).toEqual([]);
    const seed = join(dir, 'seed.json');
    copyFileSync(join(repoRoot, 'examples/seed.json'), seed);
    expect(run('allocate', '--state', seed, '--dry-run').status).toBe(0);
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/-allocate-dry-run\.v8$/)]);
  });
});
