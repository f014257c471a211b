// The stores' incremental check (managed/check-incremental.ts) outside the
// read that needed it.
import type { IncrementalCheck } from '../managed/check-incremental.js';

/**
 * A store's reader: the counts of a first version built a second after it
 * was read, off the path of the read that needed it (an agent's cold start
 * applies it meanwhile), so that the next version costs what changed. The
 * timer does not keep the process alive.
 */
export function indexLater(check: IncrementalCheck, ms = 1000, after?: Promise<unknown>): void {
  if (!check.pending) return;
  const later = () => void setTimeout(() => check.index(), ms).unref();
  // `after`: the timer starts once it settles (an agent on etcd: its first status put, so that the counts are
  // not built in the middle of a first sync slower than `ms`).
  if (after) void after.then(later, later);
  else later();
}
