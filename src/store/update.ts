// One operation through a store: read, run the pure operation, write with
// compare-and-swap; on a conflict (someone wrote in between) read again and
// rerun, a bounded number of times. What the operation refuses (a
// ValidationError) is thrown at once, nothing written.
import type { OpResult } from '../managed/ops/index.js';
import type { State } from '../managed/types.js';
import { isConflict } from './errors.js';
import type { Store } from './types.js';

export interface UpdateOptions {
  /** Conflicts retried before giving up with the ConflictError (default 30). */
  retries?: number;
  /** Run the operation on the current state, write nothing. */
  dryRun?: boolean;
}

export interface UpdateResult extends OpResult {
  /** The version written (the version read, for a dry run). */
  version: string;
  /** The version the operation ran on. */
  previousVersion: string;
  /** Conflicts met and retried. */
  retries: number;
  written: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One read, the operation, and (unless a dry run) a conditional write. */
async function attempt(store: Store, op: (state: State) => OpResult, retries: number, dryRun: boolean): Promise<UpdateResult> {
  const snap = await store.read();
  const result = op(snap.state);
  if (dryRun) return { ...result, version: snap.version, previousVersion: snap.version, retries, written: false };
  const version = await store.write(result.state, { ifVersion: snap.version });
  return { ...result, version, previousVersion: snap.version, retries, written: true };
}

/**
 * Runs `op` on the store's current state and writes the result if the state
 * did not change meanwhile; else again on the new state, up to `retries`
 * times. Where the store has a lock (exclusive()), each attempt holds it, so
 * writers using it queue instead of conflicting; the compare-and-swap still
 * catches any other writer.
 */
export async function update(store: Store, op: (state: State) => OpResult, opts: UpdateOptions = {}): Promise<UpdateResult> {
  const max = opts.retries ?? 30;
  const dryRun = !!opts.dryRun;
  for (let retries = 0; ; retries++) {
    try {
      const once = () => attempt(store, op, retries, dryRun);
      return await (store.exclusive && !dryRun ? store.exclusive(once) : once());
    } catch (err) {
      if (!isConflict(err) || retries >= max) {
        if (isConflict(err)) {
          err.attempts = retries + 1;
          err.message += `; gave up after ${err.attempts} attempts`;
        }
        throw err;
      }
    }
    // Back off a little, at random, so that the losers of a race do not meet again.
    await sleep(Math.random() * Math.min(2 ** retries, 50));
  }
}
