// Packing this checkout as a user would get it, and installing the tarball in
// a scratch project, for test/e2e/pack.test.ts.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const repo = realpathSync(new URL('../..', import.meta.url).pathname);
export const repoModules = realpathSync(join(repo, 'node_modules'));
/** npm's own entry point, run with this Node (so a PATH without tools can still run it). */
export const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, without blocking this process (vitest's worker must keep answering). */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Like run, but a non-zero exit is an error carrying the output. */
export async function mustRun(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const r = await run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** What a clean checkout has after `npm ci`: the sources, and node_modules; no dist/, build/ or prebuilds/. */
const SOURCES = ['package.json', 'README.md', 'tsconfig.json', 'binding.gyp', 'src', 'native', 'schema', 'examples', 'scripts'];

/** Copies the checkout's sources to `dir`, runs `npm pack` there (prepack and all), returns the tarball's path. */
export async function packCheckout(dir: string): Promise<string> {
  const src = join(dir, 'checkout');
  mkdirSync(src);
  for (const f of SOURCES) cpSync(join(repo, f), join(src, f), { recursive: true });
  symlinkSync(repoModules, join(src, 'node_modules'));
  await mustRun(process.execPath, [npmCli, 'pack', '--pack-destination', dir, '--loglevel=error'], { cwd: src });
  const tgz = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1) throw new Error(`npm pack left ${tgz.length} tarballs in ${dir}`);
  return join(dir, tgz[0]);
}

/**
 * A scratch project with the tarball as its one dependency, installed with
 * `npm ci --ignore-scripts` from npm's cache: its lock file takes the
 * versions and integrities of eucanet's dependencies from this repository's
 * lock (the cache holds them since `npm ci` ran here). Only when the cache
 * lacks one does npm go to the registry.
 */
export async function installTarball(tgz: string, app: string): Promise<void> {
  mkdirSync(app);
  const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')).packages as Record<string, any>;
  const deps = lock['']!.dependencies as Record<string, string>;
  const packages: Record<string, unknown> = {};
  // Each dependency resolved as Node does: the nearest node_modules/<name> up
  // from the package that needs it (a nested copy wins over the top-level one).
  const resolve = (from: string, name: string): string => {
    for (let at = from; at; at = at.includes('/node_modules/') ? at.slice(0, at.lastIndexOf('/node_modules/')) : '') {
      if (lock[`${at}/node_modules/${name}`]) return `${at}/node_modules/${name}`;
    }
    return `node_modules/${name}`;
  };
  const todo = Object.keys(deps).map((name) => `node_modules/${name}`);
  while (todo.length) {
    const key = todo.pop()!;
    if (packages[key]) continue;
    if (!lock[key]) throw new Error(`package-lock.json has no ${key}`);
    packages[key] = lock[key];
    todo.push(...Object.keys(lock[key].dependencies ?? {}).map((name) => resolve(key, name)));
  }
  const spec = `file:../${basename(tgz)}`;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tgz)).digest('base64')}`;
  const { version, bin } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  const pkg = { name: 'eucanet-scratch', private: true, type: 'module', dependencies: { eucanet: spec } };
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify(
      {
        name: pkg.name,
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: pkg.name, dependencies: pkg.dependencies },
          // npm ci links node_modules/.bin from the lock's bin, not the package's.
          'node_modules/eucanet': { version, resolved: spec, integrity, dependencies: deps, bin },
          ...packages,
        },
      },
      null,
      2,
    ),
  );
  const args = [npmCli, 'ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'];
  const offline = await run(process.execPath, [...args, '--offline'], { cwd: app });
  if (offline.status !== 0) await mustRun(process.execPath, [...args, '--prefer-offline'], { cwd: app });
  // The examples' types: Node's, from this repository (no registry needed),
  // unless a dependency brought them (protobufjs, under etcd3, does).
  mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
  if (!existsSync(join(app, 'node_modules/@types/node'))) symlinkSync(join(repoModules, '@types/node'), join(app, 'node_modules/@types/node'));
}

/** Files in a tarball, as tar lists them (without npm's "package/" prefix). */
export function tarballFiles(tgz: string): string[] {
  return execFileSync('tar', ['-tzf', tgz], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
}
