// The kernel's IPv4 neighbour table is one for the whole host: the ARP
// entries of every namespace count against net.ipv4.neigh.default.gc_thresh3
// (1024 by default), permanent ones excepted, and a forced collection frees
// only entries idle for 5 s. While other namespaces hold it full (a
// 1000-instance demo or benchmark on a shared machine), creating a
// non-permanent entry anywhere fails with ENOBUFS: the kernel's "neighbor
// table overflow", counted in table_fulls of /proc/net/stat/arp_cache. A test
// that creates such entries waits for room instead of failing on someone
// else's load; it cannot make room itself (the limit is the host's).
import { readFileSync } from 'node:fs';

/** The host's count of neighbour creations refused because the table was full (all CPUs' rows summed). */
export function arpTableFulls(): number {
  const [head, ...rows] = readFileSync('/proc/net/stat/arp_cache', 'utf8').trim().split('\n');
  const col = head.trim().split(/\s+/).indexOf('table_fulls');
  return rows.reduce((sum, row) => sum + parseInt(row.trim().split(/\s+/)[col] ?? '0', 16), 0);
}

/**
 * Runs `attempt` (a whole test case in a fresh namespace) again while it
 * fails and the host's neighbour table overflowed meanwhile, up to
 * `deadlineMs`; any other failure, or one past the deadline, is thrown as it
 * came. `onRetry` hears why, so a log says the table was full.
 */
export async function withNeighRoom<T>(attempt: () => Promise<T>, deadlineMs = 60_000, onRetry = (why: string) => console.warn(why)): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const fulls = arpTableFulls();
    try {
      return await attempt();
    } catch (err) {
      const refused = arpTableFulls() - fulls;
      if (refused === 0 || Date.now() > end) throw err;
      onRetry(`the host's neighbour table overflowed ${refused} times during the attempt (${(err as Error).message}): trying again in a fresh namespace`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
