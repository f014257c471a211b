// The `eucanet` bin once bundled: scripts/bundle-cli.mjs builds the command
// line (main.ts and everything it loads) into one CommonJS file,
// dist/cli/eucanet.cjs, and this launcher (bundled over dist/cli/main.js, as
// CommonJS: Node then starts no ES module loader for it) runs it with a V8
// code cache (code-cache.ts). The build fills in the bundle's content hash and
// stands in for import.meta.url. Run as tsc wrote it (not bundled) it has no
// bundle to run.
import { NotABundleError, cacheKey, commandOf, runBundle } from './code-cache.js';
import { loadBuiltinsBeforeFlags, loadLauncherAddon, mapsFiles, v8FlagsFor } from './cold-start.js';

// No import of Node's modules (code-cache.ts says why).
const { fileURLToPath } = process.getBuiltinModule('node:url');

declare const EUCANET_BUNDLE_HASH: string | undefined;

// V8's young generation grows as V8 grows it (2-fold from 1 MB). Rounds 3 to
// 12 set --semi-space-growth-factor=16 here, for every command: a cold apply
// then copied what survives through fewer scavenges. On a machine where a
// page fault costs 14 us (a VM), the 16 MB semi-spaces' fresh pages cost more
// than the scavenges saved: about 800 more page faults a process, a cold apply
// of 1000 instances (NC + CC) 30 to 80 ms slower, and 30 agents starting at
// once 29-33 s to converged against 41-43 s (issues 17 and 19, round 13).
const hash = typeof EUCANET_BUNDLE_HASH === 'string' ? EUCANET_BUNDLE_HASH : undefined;
if (hash === undefined) {
  process.stderr.write('eucanet: dist/cli/launch.js runs the bundle that scripts/bundle-cli.mjs builds: run dist/cli/main.js\n');
  process.exitCode = 1;
} else {
  try {
    const argv = process.argv.slice(2);
    const bundle = fileURLToPath(new URL('./eucanet.cjs', import.meta.url));
    // The addon sets V8's flags and, for a command that runs once, maps the
    // bundle and its code cache (cold-start.ts); the flags come first, as the
    // code cache is V8's for the flags it was made with.
    const command = commandOf(argv);
    const addon = loadLauncherAddon(bundle);
    const flags = v8FlagsFor(command);
    if (addon && flags !== '') {
      loadBuiltinsBeforeFlags();
      addon.setV8Flags(flags);
    }
    const run = runBundle(bundle, hash, cacheKey(argv), process.env, mapsFiles(command) ? addon : undefined);
    // The command ends with process.exit (main.ts): its 'exit' event is when its
    // work is done. Only a run that succeeded leaves its code behind (a failed one
    // took a path off the usual one, and may have stopped early).
    if (!run.used) process.once('exit', (code) => code === 0 && run.save());
  } catch (err) {
    if (!(err instanceof NotABundleError)) throw err;
    process.stderr.write(`eucanet: ${err.message}\n`);
    process.exitCode = 1;
  }
}
