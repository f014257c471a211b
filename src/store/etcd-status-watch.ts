// When each host's status first showed a revision: one watch on the cloud's
// status keys, kept open, recording for every host the revisions it reported
// and when (performance.now() in this process). For measuring propagation:
// write, note when the write returned, then ask when each host reached the
// written revision. Used by the demo (the revoke's propagation to the CC) and
// the control-plane benchmark. With the store's lean channel (no user and
// password), the statuses are read and then watched from the next revision
// over it (etcd-range.ts, etcd-watch-lean.ts): an observer of 30 agents
// decodes 30 small puts per operation without etcd3's machinery, so it takes
// less CPU from the agents it measures.
import type { Etcd3 } from 'etcd3';
import { statusPrefix } from './etcd-layout.js';
import { rangeAll, type EtcdRangeClient } from './etcd-range.js';
import { parseStatus } from './etcd-status.js';
import { LeanWatch } from './etcd-watch-lean.js';

/** What the watch is opened on: an etcd store (its lean channel when it has one, else its etcd3 client). */
export interface StatusSource {
  readonly fullReads?: EtcdRangeClient;
  readonly client: Etcd3;
}

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

  private constructor(private readonly watcher: { cancel(): Promise<unknown> }) {}

  /** Watches the cloud's status keys; resolves once the current statuses are read and the watch is in place. */
  static async open(store: StatusSource, cloud: string): Promise<StatusWatch> {
    const prefix = statusPrefix(cloud);
    const lean = store.fullReads;
    if (lean) {
      // Read at a revision, then watch from the next: no put is missed or seen twice.
      const now = await rangeAll((req) => lean.range(req), prefix);
      const watcher = new LeanWatch(lean, prefix, now.revision + 1);
      const w = new StatusWatch(watcher);
      for (const kv of now.kvs) w.report(kv);
      watcher.on('data', (events) => {
        for (const e of events) if (e.type === 'Put') w.put(e.kv);
      });
      return w;
    }
    const watcher = await store.client.watch().prefix(prefix).create();
    const w = new StatusWatch(watcher);
    watcher.on('put', (kv) => w.put(kv));
    const now = await store.client.getAll().prefix(prefix).exec();
    for (const kv of now.kvs) w.report(kv);
    return w;
  }

  private put(kv: { key: Buffer | string; value: Buffer | string }): void {
    this.events++;
    this.bytes += Buffer.byteLength(kv.key) + Buffer.byteLength(kv.value);
    this.report(kv);
  }

  private report(kv: { value: Buffer | string }): void {
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
