// When each host's status first showed a revision: one watch on the cloud's
// status keys, kept open, recording for every host the revisions it reported
// and when (performance.now() in this process). For measuring propagation:
// write, note when the write returned, then ask when each host reached the
// written revision. Used by the demo (the revoke's propagation to the CC) and
// the control-plane benchmark.
import type { Etcd3, Watcher } from 'etcd3';
import { statusPrefix } from './etcd-layout.js';
import { parseStatus } from './etcd-status.js';

interface Waiter {
  host: string;
  revision: number;
  resolve: (at: number) => void;
}

/** Reports kept per host (the oldest are dropped). */
const KEEP = 256;

export class StatusWatch {
  /** Per host, its reports in order: revision and when it was seen. */
  private readonly seen = new Map<string, { revision: number; at: number }[]>();
  private waiters: Waiter[] = [];
  /** Status puts seen (one per sync per host), and their bytes. */
  events = 0;
  bytes = 0;

  private constructor(private readonly watcher: Watcher) {}

  /** Watches the cloud's status keys; resolves once the watch is in place and the current statuses are read. */
  static async open(client: Etcd3, cloud: string): Promise<StatusWatch> {
    const prefix = statusPrefix(cloud);
    const watcher = await client.watch().prefix(prefix).create();
    const w = new StatusWatch(watcher);
    watcher.on('put', (kv) => {
      w.events++;
      w.bytes += kv.key.length + kv.value.length;
      w.report(kv);
    });
    const now = await client.getAll().prefix(prefix).exec();
    for (const kv of now.kvs) w.report(kv);
    return w;
  }

  private report(kv: Parameters<typeof parseStatus>[0]): void {
    const s = parseStatus(kv);
    const revision = s?.revision;
    if (!s || revision === undefined || s.result === 'error') return;
    const list = this.seen.get(s.host) ?? [];
    if (list.length && list[list.length - 1].revision >= revision) return;
    list.push({ revision, at: performance.now() });
    if (list.length > KEEP) list.shift();
    this.seen.set(s.host, list);
    this.waiters = this.waiters.filter((w) => {
      if (w.host !== s.host || revision < w.revision) return true;
      w.resolve(list[list.length - 1].at);
      return false;
    });
  }

  /** The hosts that have reported a revision. */
  hosts(): string[] {
    return [...this.seen.keys()].sort();
  }

  /** When (performance.now()) `host` first reported `revision` or later; waits at most `timeoutMs` (then rejects naming the host). */
  reached(host: string, revision: number, timeoutMs = 30_000): Promise<number> {
    const hit = this.seen.get(host)?.find((r) => r.revision >= revision);
    if (hit) return Promise.resolve(hit.at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const last = this.seen.get(host)?.at(-1)?.revision;
        reject(new Error(`${host} did not report revision ${revision} within ${timeoutMs} ms (last: ${last ?? 'none'})`));
      }, timeoutMs);
      const waiter: Waiter = {
        host,
        revision,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    await this.watcher.cancel().catch(() => undefined);
  }
}
