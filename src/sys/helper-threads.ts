// The process's helper threads at a lower scheduling priority than its main
// thread. Linux schedules threads, not processes, and a nice value is a
// thread's: setpriority(2) on a thread id changes that thread alone, and a
// thread made later takes the nice value of the thread that made it.
//
// What it is for (issue 17): the threads a Node process has before its
// first asynchronous call are V8's (its workers: the concurrent compiler, the
// garbage collector's helpers, the delayed-task runner). Many processes that
// run the same code on the same input (a fleet of agents, each hearing every
// version) have V8 compile the same functions at the same moment in all of
// them; on cores they share with etcd, those compilations held back every
// host's status. At a higher nice value they yield to the main threads and
// to other processes. libuv's pool, where the addon's kernel work runs, is
// made later by the main thread, and keeps the main thread's priority.
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The highest nice value Linux has (the lowest priority). */
const NICE_MAX = 19;

/**
 * Gives every thread of this process but the main one the main thread's nice
 * value plus `by` (a higher value: a lower priority; at most 19), so that a
 * process started under `nice` keeps its helpers below it; returns how many
 * threads it changed (0 where /proc/self/task is not there). Call it before
 * anything uses libuv's thread pool (a file read through fs.promises, a DNS
 * lookup, the addon's kernel work), or those threads are lowered too.
 */
export function lowerHelperThreads(by: number): number {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return 0;
  }
  const nice = Math.min(NICE_MAX, getPriority(process.pid) + by);
  let changed = 0;
  for (const t of tids) {
    const tid = Number(t);
    if (tid === process.pid) continue;
    try {
      setPriority(tid, nice);
      changed++;
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return changed;
}
