// The fuzz loop's hang guard, a worker thread. The loop is synchronous, so a
// decoder that never returns cannot be stopped from its own thread: this one
// reads the case number the loop publishes (shared memory) and, if it has not
// moved for `budgetMs`, writes which case hung straight to fd 2 (the main
// thread is stuck and cannot relay output) and kills the process, which fails
// the test run or the npm script.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { progress, budgetMs, seed } = workerData;
let last = Atomics.load(progress, 0);
let since = Date.now();
setInterval(
  () => {
    const now = Atomics.load(progress, 0);
    if (now !== last) {
      last = now;
      since = Date.now();
      return;
    }
    if (Date.now() - since > budgetMs) {
      writeSync(
        2,
        `\nfuzz: HANG: seed ${seed} case ${now} made no progress for ${budgetMs} ms\n` +
          `  replay: npm run fuzz -- --seed ${seed} --start ${now} --iterations 1\n`,
      );
      process.kill(process.pid, 'SIGKILL');
    }
  },
  Math.max(10, Math.floor(budgetMs / 10)),
);
