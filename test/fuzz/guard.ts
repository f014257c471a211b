// Starts the watchdog (watchdog.mjs) for a fuzz run and stops it after.
import { Worker } from 'node:worker_threads';

export async function withWatchdog<T>(seed: number, budgetMs: number, run: (progress: Int32Array) => T): Promise<T> {
  const progress = new Int32Array(new SharedArrayBuffer(4));
  progress[0] = -1;
  const dog = new Worker(new URL('./watchdog.mjs', import.meta.url), { workerData: { progress, budgetMs, seed } });
  await new Promise<void>((resolve, reject) => {
    dog.once('online', () => resolve());
    dog.once('error', reject);
  });
  try {
    return run(progress);
  } finally {
    await dog.terminate();
  }
}
