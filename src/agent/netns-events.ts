// The namespace's netlink events as the agent's drift source: links dumped
// first (the judge learns the links' indexes from the dump; dumped objects
// are never drift), then live; addresses, routes, neighbours and nftables
// live only (the judge reads their events' socket and table, never a dumped
// one: dumping the thousands of FDB entries, addresses and map elements of a
// big cloud would only be decoded to be ignored). start() resolves once the
// link dump is delivered. A 'resync' (lost events) passes through; so does a
// stream that fails, as a resync, since what it would have said is unknown.
import type { EventStream } from '../events/stream.js';
import { open, type Handle } from '../handle.js';
import type { Netns } from '../sys/netns-path.js';
import type { JudgedEvent } from './drift.js';
import type { DriftSource } from './types.js';

export class NetnsEvents implements DriftSource {
  private handle?: Handle;
  private streams: EventStream[] = [];
  private done: Promise<void>[] = [];

  constructor(private readonly netns?: Netns) {}

  /**
   * Subscribes, and resolves once the link dump is delivered (its 'synced'
   * marker, or the stream's end): live events come after it, so a sync
   * started then hears its own changes while it runs, not after.
   */
  start(onEvent: (ev: JudgedEvent) => void): Promise<void> {
    const h = (this.handle = open(this.netns !== undefined ? { netns: this.netns } : {}));
    let synced!: () => void;
    const dumped = new Promise<void>((r) => (synced = r));
    const links = h.events({ links: true, dump: true });
    this.streams = [links];
    this.done = [this.pump(links, onEvent, synced)];
    try {
      const rest = h.events({ addresses: true, routes: true, neighbors: true, nft: true });
      this.streams.push(rest);
      this.done.push(this.pump(rest, onEvent));
    } catch (err) {
      void this.stop();
      throw err;
    }
    return dumped;
  }

  private async pump(stream: EventStream, onEvent: (ev: JudgedEvent) => void, synced?: () => void): Promise<void> {
    try {
      for await (const ev of stream) {
        onEvent(ev);
        if (ev.type === 'synced') synced?.();
      }
    } catch (err) {
      if (this.streams.includes(stream)) onEvent({ type: 'resync', source: `the event stream failed: ${(err as Error).message}` });
    } finally {
      synced?.();
    }
  }

  /**
   * Delivers every event the kernel sent before the call, then resolves: the
   * sockets are read now (the echo of a request is queued before the kernel
   * acknowledges it, so a sync that has ended hears all of its own), and the
   * pumps take what was queued in microtasks, done by the next macrotask.
   */
  async settle(): Promise<void> {
    if (!this.streams.length) return;
    for (const s of this.streams) s.drain();
    do await new Promise<void>((r) => setImmediate(r));
    while (this.streams.some((s) => s.queued > 0));
  }

  async stop(): Promise<void> {
    const s = this.streams;
    this.streams = [];
    for (const x of s) x.close();
    await Promise.all(this.done);
    this.handle?.close();
    this.handle = undefined;
  }
}
