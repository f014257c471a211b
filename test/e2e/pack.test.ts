// The package as a user gets it: `npm pack` of a clean checkout (prepack
// builds dist/ and the N-API prebuild), the tarball installed in a scratch
// project with --ignore-scripts, the README's examples (examples/*.ts)
// compiled there with tsc (strict, module nodenext) and run as root; the model
// without any addon; and the install step without a prebuild, with and
// without a compiler.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshName, isRoot } from '../helpers/netns.js';
import { installTarball, mustRun, npmCli, packCheckout, repo, repoModules, run, tarballFiles } from '../helpers/pack.js';

const TSCONFIG = {
  compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, types: ['node'], outDir: 'out' },
  include: ['*.ts'],
};

// A script that tries to open a handle: the one place the addon is needed.
const OPEN = `import { open } from 'eucanet';
try {
  open({}).close();
  console.log('opened');
} catch (e) {
  console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));
}
`;

let dir = '';
let tgz = '';
let app = '';
let pkgDir = '';
const namespaces: string[] = [];

function netnsNames(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]);
}

/** Runs `fn` with the installed package holding no addon at all: no prebuilds/, no build/. */
async function withoutAddon<T>(fn: () => Promise<T>): Promise<T> {
  const aside = join(dir, 'prebuilds.aside');
  const had = existsSync(join(pkgDir, 'prebuilds'));
  if (had) renameSync(join(pkgDir, 'prebuilds'), aside);
  try {
    expect(existsSync(join(pkgDir, 'build'))).toBe(false);
    return await fn();
  } finally {
    if (had) renameSync(aside, join(pkgDir, 'prebuilds'));
  }
}

describe.skipIf(!isRoot)('the packed package (root)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'eucanet-pack-'));
    tgz = await packCheckout(dir);
    app = join(dir, 'app');
    await installTarball(tgz, app);
    pkgDir = join(app, 'node_modules/eucanet');
    for (const f of readdirSync(join(repo, 'examples')).filter((f) => f.endsWith('.ts'))) cpSync(join(repo, 'examples', f), join(app, f));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    writeFileSync(join(app, 'open.mjs'), OPEN);
  }, 300_000);

  afterAll(async () => {
    for (const ns of namespaces) if (netnsNames().includes(ns)) await run('ip', ['netns', 'delete', ns], { cwd: '/' });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('carries the N-API prebuild, dist and the install script, and no build/', async () => {
    const files = tarballFiles(tgz);
    expect(files).toContain('prebuilds/linux-x64/eucanet.node');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('scripts/install.mjs');
    expect(files).toContain('binding.gyp');
    expect(files.filter((f) => f.startsWith('build/'))).toEqual([]);
    // readelf (binutils, which g++ brings): a shared object, stripped of its symbol table.
    const so = join(pkgDir, 'prebuilds/linux-x64/eucanet.node');
    expect(execFileSync('readelf', ['-h', so], { encoding: 'utf8' })).toMatch(/Type:\s+DYN/);
    expect(execFileSync('readelf', ['-S', '-W', so], { encoding: 'utf8' })).not.toMatch(/\.symtab/);
  });

  it("exports what the README names, and refuses the package's internals", async () => {
    const resolve = async (spec: string) =>
      run(process.execPath, ['--input-type=module', '-e', `console.log(import.meta.resolve(${JSON.stringify(spec)}))`], { cwd: app });
    expect((await resolve('eucanet')).stdout).toMatch(/node_modules\/eucanet\/dist\/index\.js/);
    expect((await resolve('eucanet/schema/state.schema.json')).stdout).toMatch(/schema\/state\.schema\.json/);
    expect((await resolve('eucanet/package.json')).status).toBe(0);
    expect((await resolve('eucanet/dist/tx/reconcile.js')).stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });

  it("compiles the README's examples with tsc (strict, module nodenext)", async () => {
    const tsc = await run(process.execPath, [join(repoModules, 'typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    expect(readdirSync(join(app, 'out')).sort()).toEqual(['events.js', 'library.js', 'model.js', 'reconcile.js', 'transaction.js']);
  }, 120_000);

  it('runs them as root, each in its own namespace, which each removes', async () => {
    const example = async (name: string) => {
      const ns = freshName('eut-pack');
      namespaces.push(ns);
      const out = (await mustRun(process.execPath, [`out/${name}.js`, ns], { cwd: app })).stdout;
      expect(netnsNames()).not.toContain(ns);
      return out;
    };
    const library = await example('library');
    expect(library).toMatch(/name: 'vnet1'/);
    expect(library).toMatch(/kind: 'veth'/);
    const tx = await example('transaction');
    expect(tx).toMatch(/^ip link add name eucabr10 /m);
    expect(tx).toMatch(/^1000 taps$/m);
    expect(await example('reconcile')).toMatch(/^first: [1-9]\d* ops, again: 0 ops$/m);
    const events = await example('events');
    expect(events).toMatch(/^existing link lo\nsynced\n/m);
    expect(events).toMatch(/^new address 10\.1\.2\.1\/27 \(ours\)$/m);
    expect(events).toMatch(/^new nft table ip eucanet \(ours\)$/m);
  }, 120_000);

  it('installs the bin as the bundled command line (scripts/bundle-cli.mjs), which runs from where it is installed', async () => {
    const main = join(pkgDir, 'dist/cli/main.js');
    expect(readFileSync(main, 'utf8')).toContain('// eucanet: bundled by scripts/bundle-cli.mjs');
    const bin = join(app, 'node_modules/.bin/eucanet');
    expect((await mustRun(bin, ['--version'], { cwd: app })).stdout).toMatch(/^eucanet \d+\.\d+\.\d+\n$/);
    // A dry run in a fresh namespace: the addon is found from the bundle's place, and the seed planned.
    const ns = freshName('eut-pack');
    namespaces.push(ns);
    await mustRun('ip', ['netns', 'add', ns], { cwd: '/' });
    await mustRun('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1'], { cwd: '/' });
    // The seed with VXLAN segments (this kernel has no 802.1Q).
    const seed = join(app, 'seed-vxlan.json');
    writeFileSync(seed, JSON.stringify({ ...JSON.parse(readFileSync(join(pkgDir, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' }));
    const r = await run(bin, ['apply', '--state', seed, '--role', 'nc', '--node', 'nc1', '--netns', ns, '--dry-run'], {
      cwd: app,
      env: { ...process.env, EUCANET_PHASES: '1' },
    });
    expect(r.stderr).toMatch(/^\{"phases":\{"boot":/m);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ip tuntap add dev vnet1 mode tap$/m);
  }, 60_000);

  it('runs the model (validation, allocation, planning, rendering) with no addon, and open() says what to install', async () => {
    await withoutAddon(async () => {
      const model = (await mustRun(process.execPath, ['out/model.js', join(pkgDir, 'examples/seed.json')], { cwd: app })).stdout;
      expect(model).toMatch(/^invalid groups\[0\]\.vlan 5000: /m);
      expect(model).toMatch(/^i-1 admin\/default nc1 vnet1 10\.1\.2\.2 d0:0d:0a:01:02:02 192\.168\.32\.200$/m);
      expect(model).toMatch(/^add element ip eucanet pub2priv \{ 192\.168\.32\.200 : 10\.1\.2\.2, 192\.168\.32\.201 : 10\.1\.2\.3 \}$/m);
      expect(model).toMatch(/^d0:0d:0a:01:02:02,10\.1\.2\.2,i-1$/m);
      const opened = JSON.parse((await mustRun(process.execPath, ['open.mjs'], { cwd: app })).stdout);
      expect(opened.name).toBe('AddonMissingError');
      expect(opened.code).toBe('ERR_EUCANET_ADDON');
      expect(opened.message).not.toContain('\n');
      expect(opened.message).toMatch(/native addon is not built.*install make, g\+\+ and python3 and run `npm rebuild eucanet`/);
    });
  });

  it('without a prebuild or a compiler, installing fails with one line saying what to install', async () => {
    // A PATH with Node and a shell only: no make, g++ or python3.
    const bin = join(dir, 'bare-bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    await withoutAddon(async () => {
      const r = await run(process.execPath, [npmCli, 'rebuild', 'eucanet'], { cwd: app, env: { ...process.env, PATH: bin } });
      expect(r.status).not.toBe(0);
      const out = r.stdout + r.stderr;
      const ours = out.split('\n').filter((l) => l.includes('eucanet: '));
      expect(ours).toHaveLength(1);
      expect(ours[0]).toMatch(/no prebuilt native addon for linux-x64 and make, g\+\+, python3 are missing to build one: install make, g\+\+ and python3/);
      expect(out).not.toMatch(/gyp ERR!|Traceback| {4}at /);
      expect(existsSync(join(pkgDir, 'build'))).toBe(false);
    });
  });

  it("without a prebuild but with a compiler, installing builds the addon from the package's sources", async () => {
    await withoutAddon(async () => {
      try {
        await mustRun(process.execPath, [npmCli, 'rebuild', 'eucanet'], { cwd: app });
        expect(existsSync(join(pkgDir, 'build/Release/eucanet.node'))).toBe(true);
        expect((await mustRun(process.execPath, ['open.mjs'], { cwd: app })).stdout.trim()).toBe('opened');
      } finally {
        rmSync(join(pkgDir, 'build'), { recursive: true, force: true });
      }
    });
  }, 180_000);
});
