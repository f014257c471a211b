// What the launcher (launch.ts) sets up before the bundle runs, for a command
// that runs once and exits (issue 19, the cold command line): V8's flags for
// such a process, and the addon's file mapping (native/cold_start.cc) for it.
//
// On this kind of machine (a VM where a fresh page costs 12 to 14 us) what a
// cold command costs beyond its kernel work is mostly memory touched for the
// first time. Two V8 defaults made for long-lived processes touch more of it:
// - TurboFan: its compilations (on a background thread, zone memory and code)
//   serve a process that runs for seconds; a cold apply is over before most of
//   them pay. `--no-opt` leaves the interpreter and Sparkplug's baseline code.
// - the young generation growing 2-fold at a time up to 16 MB semi-spaces:
//   each growth is fresh pages. `--semi-space-growth-factor=1` keeps it at its
//   first size (1 MB): more scavenges, each of a small space, and fewer pages.
// Together, a cold apply of 1000 instances faulted about 1,300 pages fewer per
// process (NC 7,650 to 6,120, CC 6,500 to 5,320) and one of 5000 about 5,000
// fewer (docs/performance.md, round 18). The agent and the demo run for long
// and keep V8's defaults.
//
// EUCANET_V8_FLAGS, when set, replaces these for every command ("" for none):
// for measuring, and for an operator's own choice. Only flags V8 reads as it
// runs take effect this way (not the heap's sizes, which Node fixes at start).
// Types only: erased from the launcher's bundle.
import type { Addon } from '../native.js';

const { createRequire } = process.getBuiltinModule('node:module');
// eslint-disable-next-line @typescript-eslint/unbound-method -- node:path's functions do not use `this`
const { dirname, join } = process.getBuiltinModule('node:path');

/** The commands that run for long: V8's defaults suit them. */
export const LONG_LIVED_COMMANDS: ReadonlySet<string> = new Set(['agent', 'demo']);

/** V8's flags for a command that runs once and exits (the comment above says why). */
export const SHORT_LIVED_V8_FLAGS = '--no-opt --semi-space-growth-factor=1';

/** The V8 flags the launcher sets for `command` ("" for none). */
export function v8FlagsFor(command: string, env: NodeJS.ProcessEnv = process.env): string {
  const set = env.EUCANET_V8_FLAGS;
  if (set !== undefined) return set.trim();
  return LONG_LIVED_COMMANDS.has(command) ? '' : SHORT_LIVED_V8_FLAGS;
}

/**
 * Whether the launcher maps the bundle and its code cache for `command`
 * rather than reading them: for a command that runs once. A private mapping
 * still shows the file as it is on disk for every page not yet touched, and a
 * file cut short under it faults the process (SIGBUS): the build replaces the
 * bundle by a rename, but a copy made over it in place (`cp` onto dist/)
 * would not. A command that runs for minutes or days (the agent, the demo)
 * reads the files, as before, and holds its own copy.
 */
export function mapsFiles(command: string): boolean {
  return !LONG_LIVED_COMMANDS.has(command);
}

/** What the launcher uses of the addon. */
export type LauncherAddon = Pick<Addon, 'mapFile' | 'setV8Flags'>;

/**
 * The addon, found as src/native.ts finds it (node-gyp-build, from the
 * package's root two levels above the bundle), so that the bundle's own
 * require of it is then Node's cached module, not a second load. Undefined
 * when there is none or it does not load: the launcher then reads files as
 * before, and a command that needs the addon says so itself.
 */
export function loadLauncherAddon(bundleFile: string): LauncherAddon | undefined {
  try {
    const require = createRequire(bundleFile);
    const finder = require('node-gyp-build') as { path(dir: string): string };
    const addon = require(finder.path(join(dirname(bundleFile), '..', '..'))) as Partial<LauncherAddon>;
    return typeof addon.mapFile === 'function' && typeof addon.setV8Flags === 'function' ? (addon as LauncherAddon) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Node's modules that every command loads once the bundle runs (parse.ts's
 * parseArgs: two of Node's internal modules), loaded before V8's flags are
 * set. A change of flags changes the hash V8 checks a code cache against, so
 * the cache Node embeds for its own modules is refused after it, and a module
 * first loaded then is compiled from its source: 0.1 ms before, 0.7 ms after
 * for these two. node:fs/promises (nine modules, 1.3 ms grown to 3.6-8.3) is kept
 * off the commands' path for the same reason (util/fs-async.ts).
 */
export function loadBuiltinsBeforeFlags(): unknown {
  return process.getBuiltinModule('node:util').parseArgs;
}
