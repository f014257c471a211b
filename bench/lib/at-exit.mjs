// Clean-up that runs however a benchmark's process ends: at the end, after an
// uncaught error, or stopped by SIGINT or SIGTERM (^C, a timeout's kill) once
// exitOnSignals() has made those signals end it through process.exit()
// (Node's default for them ends it without running 'exit' handlers).
// Synchronous only: an 'exit' handler cannot wait for anything.

/** @type {Set<() => void>} */
const tasks = new Set();
process.on('exit', () => {
  for (const fn of [...tasks].reverse()) {
    try {
      fn();
    } catch (err) {
      console.error(`at exit: ${/** @type {Error} */ (err)?.message ?? err}`);
    }
  }
  tasks.clear();
});

/**
 * Runs `fn` when the process exits, newest first; the function returned
 * forgets it (for a thing removed in the normal way already).
 * @param {() => void} fn
 * @returns {() => void}
 */
export function atExit(fn) {
  tasks.add(fn);
  return () => void tasks.delete(fn);
}

/** SIGINT and SIGTERM end the process with status 130 through process.exit(), so that atExit()'s tasks run. */
export function exitOnSignals() {
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.once(sig, () => process.exit(130));
}
