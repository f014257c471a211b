// The namespace's netlink events as the agent's drift source: links,
// addresses, routes and nftables, dumped first (the judge learns the links'
// indexes from the dump; dumped objects are never drift), then live; start()
// resolves once the dump is delivered. A
// 'resync' (lost events) passes through; so does a stream that fails, as a
// resync, since what it would have said is unknown.
import type { EventStream } from '../events/stream.js';
import { open, type Handle } from '../handle.js';
import type { Netns } from '../sys/netns-path.js';
import type { JudgedEvent } from './drift.js';
import type { DriftSource } from './types.js';

export class NetnsEvents implements DriftSource {
  private handle?: Handle;
  private stream?: EventStream;
  private done?: Promise<void>;

  constructor(private readonly netns?: Netns) {}

  /**
   * Subscribes, and resolves once the dump is delivered (its 'synced'
   * marker, or the stream's end): live events come after it, so a sync
   * started then hears its own changes while it runs, not after.
   */
  start(onEvent: (ev: JudgedEvent) => void): Promise<void> {
    this.handle = open(this.netns !== undefined ? { netns: this.netns } : {});
    const stream = (this.stream = this.handle.events({ dump: true }));
    let synced!: () => void;
    const dumped = new Promise<void>((r) => (synced = r));
    this.done = (async () => {
      try {
        for await (const ev of stream) {
          onEvent(ev);
          if (ev.type === 'synced') synced();
        }
      } catch (err) {
        if (this.stream === stream) onEvent({ type: 'resync', source: `the event stream failed: ${(err as Error).message}` });
      } finally {
        synced();
      }
    })();
    return dumped;
  }

  async stop(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    s?.close();
    await this.done;
    this.handle?.close();
    this.handle = undefined;
  }
}
