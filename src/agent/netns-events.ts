// The namespace's netlink events as the agent's drift source: links,
// addresses, routes and nftables, dumped first (the judge learns the links'
// indexes from the dump; dumped objects are never drift), then live. A
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

  start(onEvent: (ev: JudgedEvent) => void): void {
    this.handle = open(this.netns !== undefined ? { netns: this.netns } : {});
    const stream = (this.stream = this.handle.events({ dump: true }));
    this.done = (async () => {
      try {
        for await (const ev of stream) onEvent(ev);
      } catch (err) {
        if (this.stream === stream) onEvent({ type: 'resync', source: `the event stream failed: ${(err as Error).message}` });
      }
    })();
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
