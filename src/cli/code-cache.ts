// The bundled command line (dist/cli/eucanet.cjs, scripts/bundle-cli.mjs) run
// with a V8 code cache (issue 19, the cold path). A cold `eucanet apply` would
// otherwise parse the whole bundle and compile each function it calls before
// doing anything; with the cache V8 takes the compiled code from the last run
// of the same command instead (vm.Script's cachedData; Node 20 has no
// module.enableCompileCache).
//
// The cache is code that this process runs, so it is trusted only from a
// place that only this user can write: a directory owned by this user with no
// group or other write bit, in it a file owned by this user with none either
// (a file anyone else could have put there is ignored). Its name carries the
// bundle's content hash, Node's version and architecture and the command, so a
// rebuilt bundle never meets an old cache; V8 itself refuses a cache made by
// another V8 version or with other flags (then a new one is written). It is
// written once, when there is none (or V8 refused it), after the command ran,
// so it holds what that command compiled; written to a temporary name and
// renamed, so a reader never sees half a file. Every failure of the cache
// itself is silent: the command runs the same without it.
//
// Where: $EUCANET_CODE_CACHE (a directory; "off" for none), else
// $XDG_CACHE_HOME/eucanet, else ~/.cache/eucanet.
//
// Node's modules are taken with process.getBuiltinModule, not imported: run
// as an ES module (tsc's output), each builtin it imports is wrapped as a
// module of its own (about 8 million instructions of every cold command for
// these five); bundled as the CommonJS launcher, the imports would be
// require()s, and getBuiltinModule costs no more.
// Types only: erased from the launcher, which loads the addon itself (cold-start.ts).
import type { Addon } from '../native.js';
const { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } =
  process.getBuiltinModule('node:fs');
const { createRequire } = process.getBuiltinModule('node:module');
const { homedir } = process.getBuiltinModule('node:os');
// eslint-disable-next-line @typescript-eslint/unbound-method -- node:path's functions do not use `this`
const { basename, dirname, join } = process.getBuiltinModule('node:path');
const { Script } = process.getBuiltinModule('node:vm');

/** How many cache files the directory keeps (the oldest beyond this are removed when one is written). */
export const KEEP_FILES = 64;

/** The cache directory from the environment, or undefined for none. */
export function cacheDirOf(env: NodeJS.ProcessEnv): string | undefined {
  const set = env.EUCANET_CODE_CACHE;
  if (set !== undefined) return set === '' || set === 'off' ? undefined : set;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'eucanet');
  const home = env.HOME || safeHomedir();
  return home ? join(home, '.cache', 'eucanet') : undefined;
}

function safeHomedir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}

/** Owned by this user, writable by nobody else. */
function ownedPrivately(st: { uid: number; mode: number }): boolean {
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

/** The command a command line runs: its first word that is not an option ("help" when there is none). */
export function commandOf(argv: string[]): string {
  return argv.find((a) => !a.startsWith('-')) ?? 'help';
}

/**
 * How the launcher takes a file's bytes when the addon is there
 * (native/cold_start.cc): mapped, not read. Without it, files are read.
 */
export type FileMapper = Pick<Addon, 'mapFile'>;

/**
 * What names the cache: each command keeps what it compiles, each role its
 * own (a CC runs code a node controller never does, DHCP and conntrack), and
 * a dry run (which renders, and commits nothing) its own.
 */
export function cacheKey(argv: string[]): string {
  const command = commandOf(argv);
  const i = argv.indexOf('--role');
  const role = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--role='))?.slice('--role='.length);
  return [command, ...(role === 'cc' || role === 'nc' ? [role] : []), ...(argv.includes('--dry-run') ? ['dry-run'] : [])].join('-');
}

/** The cache file for one bundle (its content hash) and command. */
export function cacheFileOf(dir: string, hash: string, command: string): string {
  const cmd = /^[a-z][a-z-]{0,30}$/.test(command) ? command : 'other';
  return join(dir, `cli-${hash.slice(0, 16)}-node${process.versions.node}-${process.arch}-${cmd}.v8`);
}

/** The cache's bytes when the file and its directory are this user's alone; undefined otherwise. */
export function readTrusted(file: string, mapper?: FileMapper): Uint8Array | undefined {
  try {
    const d = lstatSync(dirname(file));
    if (!d.isDirectory() || !ownedPrivately(d)) return undefined;
    const fd = openSync(file, 'r');
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !ownedPrivately(st)) return undefined;
      return mapper ? mapBytes(fd, mapper) : readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** The file open as `fd` mapped; read instead when it cannot be mapped. */
function mapBytes(fd: number, mapper: FileMapper): Uint8Array {
  try {
    return new Uint8Array(mapper.mapFile(fd, false));
  } catch {
    return readFileSync(fd);
  }
}

/**
 * Writes the cache (temporary name, then rename: a command may have the file
 * mapped, and one rewritten in place would fault it), keeps at most
 * KEEP_FILES; silent on failure.
 */
export function writeCache(file: string, data: Buffer): void {
  const dir = dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const d = lstatSync(dir);
    if (!d.isDirectory() || !ownedPrivately(d)) return;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
    prune(dir, basename(file));
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // no directory to remove it from
    }
  }
}

/** The part of a cache file's name that names its bundle, Node and architecture (cacheFileOf): "cli-HASH-nodeV-ARCH". */
const bundleOf = (name: string): string => name.split('-').slice(0, 4).join('-');

/**
 * Keeps KEEP_FILES files: other bundles' caches go first, oldest first, and
 * only then this bundle's own. Several builds sharing the directory (an
 * upgrade, two checkouts) then never evict the caches of the bundle that
 * runs, which a cold command would otherwise compile again.
 */
function prune(dir: string, keep: string): void {
  const mine = bundleOf(keep);
  const files = readdirSync(dir)
    .filter((f) => /^cli-.*\.v8$/.test(f) && f !== keep)
    .map((f) => ({ f, own: bundleOf(f) === mine, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => (a.own === b.own ? b.t - a.t : a.own ? -1 : 1));
  for (const { f } of files.slice(KEEP_FILES - 1)) rmSync(join(dir, f), { force: true });
}

export interface RunInfo {
  /** The cache file used or to be written (undefined: no cache directory). */
  file?: string;
  /** A cache was found and V8 took it. */
  used: boolean;
  /** Writes the cache of what has been compiled so far (when none was used and there is a directory). */
  save(): void;
}

/**
 * The first line of the bundle as scripts/bundle-cli.mjs writes it (taking
 * it from here, as built): the wrapper Node gives a CommonJS module (the
 * code sees the usual five names), closed by the bundle's last line of code. The bundle is a script whose value
 * is that function, compiled as the file is, with no copy of its text made
 * to wrap it.
 */
export const BUNDLE_HEAD = '(function (exports, require, module, __filename, __dirname) {';

/** A file that is not a bundle as scripts/bundle-cli.mjs writes it. */
export class NotABundleError extends Error {
  override name = 'NotABundleError';
}

/**
 * Runs the CommonJS bundle `file` (its source hashed as `hash`) in this
 * context, as Node would run it as a module, with the code cache for
 * `command`. The caller saves the cache once the command is done (the
 * launcher: as the process exits), so that it holds what the command compiled.
 *
 * The bundle is ASCII (the build checks it), so it is taken as Latin-1 and
 * given to V8 as it is, with no UTF-8 decoding (about 15 ms of a cold command
 * went to decoding the 1.1 MB file as UTF-8 and copying it again to wrap it;
 * issue 19). With `mapper` the bundle and the cache are mapped, not copied
 * (about 770 fresh pages fewer; native/cold_start.cc says why); without it
 * the bundle is read, one copy of its bytes into a string.
 */
export function runBundle(file: string, hash: string, command: string, env: NodeJS.ProcessEnv = process.env, mapper?: FileMapper): RunInfo {
  const source = mapper ? mapText(file, mapper) : readFileSync(file, 'latin1');
  if (!source.startsWith(BUNDLE_HEAD))
    throw new NotABundleError(`${file}: not a bundle of scripts/bundle-cli.mjs (its first line is not the module wrapper): rebuild with npm run build:ts`);
  const dir = cacheDirOf(env);
  const cacheFile = dir !== undefined ? cacheFileOf(dir, hash, command) : undefined;
  const cachedData = cacheFile !== undefined ? readTrusted(cacheFile, mapper) : undefined;
  const script = new Script(source, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const used = cachedData !== undefined && script.cachedDataRejected === false;
  const save = (): void => {
    if (cacheFile !== undefined && !used) writeCache(cacheFile, script.createCachedData());
  };
  const mod = { exports: {} };
  (script.runInThisContext() as (...a: unknown[]) => void)(mod.exports, createRequire(file), mod, file, dirname(file));
  return { ...(cacheFile !== undefined ? { file: cacheFile } : {}), used, save };
}

/** The bundle's text mapped; read instead when the file cannot be mapped (a file system without mmap). */
function mapText(file: string, mapper: FileMapper): string {
  const fd = openSync(file, 'r');
  try {
    return mapper.mapFile(fd, true);
  } catch {
    return readFileSync(fd, 'latin1');
  } finally {
    closeSync(fd);
  }
}
