// npm's install step for eucanet. The native addon already there (a build in
// build/Release, or a prebuild in prebuilds/<platform>-<arch>/ as the packed
// package carries) is used as is; otherwise node-gyp builds it, as in a
// checkout after `npm ci`. When it cannot be built, one line says what to
// install instead of node-gyp's traceback (which goes to a log file).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const env = process.env;
const REMEDY = 'install make, g++ and python3 (Debian: apt-get install make g++ python3) and run `npm rebuild eucanet`';

/** The addon this platform would load, if there is one and it loads. */
function usableAddon() {
  if (env.npm_config_build_from_source === 'true') return undefined;
  try {
    const file = require('node-gyp-build').path(root);
    require(file);
    return file;
  } catch {
    return undefined;
  }
}

/**
 * The first of `names` that is an executable on the PATH (or an absolute path).
 * @param {...(string | undefined)} names  unset ones (an empty variable) are skipped
 */
function which(...names) {
  for (const name of names) {
    if (!name) continue;
    const dirs = isAbsolute(name) ? [''] : (env.PATH ?? '').split(delimiter).filter(Boolean);
    for (const dir of dirs) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** The build tools node-gyp needs that are not there, by the name to install. */
function missingTools() {
  const cxx = env.CXX?.split(' ')[0];
  const tools = [
    ['make', which('make')],
    [cxx ?? 'g++', cxx ? which(cxx) : which('g++', 'c++')],
    ['python3', which(env.npm_config_python, env.PYTHON, 'python3', 'python')],
  ];
  return tools.filter(([, found]) => !found).map(([name]) => name);
}

/** node-gyp as a command: this checkout's, npm's own, or the one on the PATH. */
function nodeGyp() {
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    if (env.npm_config_node_gyp) return [process.execPath, env.npm_config_node_gyp];
    const onPath = which('node-gyp');
    return onPath ? [onPath] : undefined;
  }
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  process.stderr.write(`eucanet: ${message}\n`);
  process.exit(1);
}

if (usableAddon()) process.exit(0);

const where = `${process.platform}-${process.arch}`;
const missing = missingTools();
if (missing.length > 0) {
  fail(`no prebuilt native addon for ${where} and ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing to build one: ${REMEDY}`);
}
const gyp = nodeGyp();
if (!gyp) fail(`no prebuilt native addon for ${where} and no node-gyp to build one: ${REMEDY}, with npm's node-gyp`);

const run = spawnSync(gyp[0], [...gyp.slice(1), 'rebuild'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
if (run.status !== 0) {
  const log = join(mkdtempSync(join(tmpdir(), 'eucanet-build-')), 'node-gyp.log');
  writeFileSync(log, `${run.stdout ?? ''}${run.stderr ?? ''}${run.error ? `\n${run.error.stack}\n` : ''}`);
  const first = `${run.stdout ?? ''}${run.stderr ?? ''}`
    .split('\n')
    .find((l) => /\berror\b/i.test(l))
    ?.trim();
  const why = run.error ? run.error.message : (first ?? `node-gyp exited with ${run.status ?? run.signal}`);
  fail(`building the native addon for ${where} failed (${why}; node-gyp's output is in ${log}): ${REMEDY}`);
}
if (!usableAddon()) fail(`node-gyp built the native addon but it does not load from ${root}/build/Release: ${REMEDY}`);
