// h.events(): notifications of one namespace as an async iterator of typed
// events (`for await (const ev of h.events())`).
//
// Order. Events of one socket come in the kernel's order. rtnetlink and
// nftables are two sockets: their relative order is not defined.
//
// Dump-then-subscribe without a gap (dump: true): the subscriptions are opened
// first, then the state is dumped; live events that arrive meanwhile are held
// back and yielded after the dumped objects (`existing: true`) and the
// 'synced' marker. A change that races the dump is therefore seen at least
// once (in the dump, as a live event, or both); consumers must treat events
// as "this is now so", which a 'new' for a known object is.
//
// Errors: a dump that fails (a kernel error, or NLM_F_DUMP_INTR more than
// MAX_DUMP_RETRIES times in a row) or a socket error other than ENOBUFS ends
// the stream: next() rejects with it, after the events already queued.
//
// Lost notifications (ENOBUFS) become { type: 'resync' }; with dump: true a
// fresh dump and 'synced' follow by themselves (a loss during a dump makes
// another dump follow it), so a consumer that rebuilds its view from
// `existing` events after each 'resync' is exact again at 'synced'.
//
// Backpressure: live events wait in a queue while the consumer is slow (or
// are held back while a dump runs). When there are `highWater` of them
// (default 10,000) the subscriptions stop reading:
// the kernel's receive buffer (rcvbuf, 32 MiB by default) holds what comes
// next, and its overflow becomes a 'resync'. Reading starts again when the
// queue is down to half. Dumped objects are not counted: they are the state.
import { ValidationError } from '../errors.js';
import { NETLINK_NETFILTER, NETLINK_ROUTE } from '../netlink/constants.js';
import { Subscription, type SubscriptionItem } from '../netlink/subscription.js';
import { NFNLGRP_NFTABLES } from '../nft/wire/constants.js';
import * as R from '../rtnl/constants.js';
import type { Session } from '../session.js';
import { decodeNftEvent, decodeRtnlEvent, type SetCache } from './decode.js';
import { dumpNft, dumpRtnl, type DumpKinds } from './dump.js';
import type { EventOptions, NetEvent, ResyncEvent } from './types.js';

const KINDS = ['links', 'addresses', 'routes', 'neighbors', 'nft'] as const;
const DEFAULT_HIGH_WATER = 10_000;

type Waiter = { resolve: (r: IteratorResult<NetEvent>) => void; reject: (e: unknown) => void };

function validate(o: EventOptions): DumpKinds {
  for (const k of [...KINDS, 'dump'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ValidationError(k, o[k], 'must be true or false');
  }
  const hw = o.highWater;
  if (hw !== undefined && (!Number.isInteger(hw) || hw < 1)) throw new ValidationError('highWater', hw, 'must be a positive integer');
  const any = KINDS.some((k) => o[k] !== undefined);
  const on = (k: (typeof KINDS)[number]) => (any ? o[k] === true : true);
  const kinds = { links: on('links'), addresses: on('addresses'), routes: on('routes'), neighbors: on('neighbors'), nft: on('nft') };
  if (!KINDS.some((k) => kinds[k])) throw new ValidationError('events', o, 'no kind of event chosen (links, addresses, routes, neighbors, nft)');
  return kinds;
}

function rtnlGroups(k: DumpKinds): number[] {
  const g: number[] = [];
  if (k.links) g.push(R.RTNLGRP_LINK);
  if (k.addresses) g.push(R.RTNLGRP_IPV4_IFADDR, R.RTNLGRP_IPV6_IFADDR);
  if (k.routes) g.push(R.RTNLGRP_IPV4_ROUTE, R.RTNLGRP_IPV6_ROUTE);
  if (k.neighbors) g.push(R.RTNLGRP_NEIGH);
  return g;
}

export class EventStream implements AsyncIterableIterator<NetEvent> {
  private readonly kinds: DumpKinds;
  private readonly subs: Subscription[] = [];
  private readonly sets: SetCache = new Map();
  private readonly queue: NetEvent[] = [];
  private head = 0;
  private live = 0;
  private paused = false;
  /** Live events held back while a dump runs. */
  private held?: NetEvent[];
  private dumpAgain = false;
  private waiter?: Waiter;
  private failure?: Error;
  private closed = false;
  private readonly highWater: number;

  constructor(
    private readonly session: Session,
    private readonly o: EventOptions = {},
  ) {
    this.kinds = validate(o);
    this.highWater = o.highWater ?? DEFAULT_HIGH_WATER;
    const netns = session.netns;
    try {
      const groups = rtnlGroups(this.kinds);
      if (groups.length) this.subs.push(this.open(NETLINK_ROUTE, groups, 'rtnetlink', netns));
      if (this.kinds.nft) this.subs.push(this.open(NETLINK_NETFILTER, [NFNLGRP_NFTABLES], 'nftables', netns));
    } catch (err) {
      this.close();
      throw err;
    }
    if (o.dump) this.startDump();
  }

  private open(protocol: number, groups: number[], source: ResyncEvent['source'], netns: Session['netns']): Subscription {
    return new Subscription(protocol, groups, {
      netns,
      rcvbuf: this.o.rcvbuf,
      onItems: (items) => this.onItems(items, source),
      onError: (err) => this.fail(err),
    });
  }

  /** Events waiting to be read (dumped ones included). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** The subscription sockets' own port ids (not those of the session's request sockets). */
  get ports(): number[] {
    return this.subs.map((s) => s.port);
  }

  private onItems(items: SubscriptionItem[], source: ResyncEvent['source']): void {
    for (const it of items) {
      if (it.kind === 'lost') {
        this.emitLive({ type: 'resync', source });
        if (this.o.dump) this.startDump();
        continue;
      }
      const m = it.message;
      try {
        const ev = source === 'rtnetlink' ? decodeRtnlEvent(m) : decodeNftEvent(m, this.sets);
        if (ev) this.emitLive(ev);
      } catch (error) {
        this.emitLive({ type: 'undecoded', messageType: m.type, port: m.port, error: error as Error });
      }
    }
    this.maybePause();
  }

  /** Stops reading the sockets while highWater live events wait (queued, or held back by a dump). */
  private maybePause(): void {
    if (!this.paused && !this.closed && this.live + (this.held?.length ?? 0) >= this.highWater) {
      this.paused = true;
      for (const s of this.subs) s.pause();
    }
  }

  private emitLive(ev: NetEvent): void {
    if (this.held) this.held.push(ev);
    else this.push(ev, true);
  }

  private push(ev: NetEvent, live: boolean): void {
    if (this.closed) return;
    if (live) this.live++;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      if (live) this.live--;
      w.resolve({ value: ev, done: false });
    } else {
      this.queue.push(ev);
    }
  }

  /** Dumps the state; a dump asked for while one runs makes another follow it. */
  private startDump(): void {
    if (this.held) {
      this.dumpAgain = true;
      return;
    }
    this.held = [];
    void this.runDumps();
  }

  private async runDumps(): Promise<void> {
    try {
      do {
        this.dumpAgain = false;
        const events = [...(await dumpRtnl(this.session, this.kinds))];
        if (this.kinds.nft) events.push(...(await dumpNft(this.session, this.sets)));
        if (this.closed) return;
        if (this.dumpAgain) continue;
        for (const ev of events) this.push(ev, false);
        this.push({ type: 'synced' }, false);
      } while (this.dumpAgain);
      const held = this.held ?? [];
      this.held = undefined;
      for (const ev of held) this.push(ev, true);
      this.maybePause();
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    for (const s of this.subs) s.close();
    const w = this.waiter;
    this.waiter = undefined;
    if (w && this.head >= this.queue.length) w.reject(this.failure);
  }

  /** The next queued event; reading starts again once the queue is down to half of highWater. */
  private take(): NetEvent {
    const ev = this.queue[this.head];
    this.queue[this.head++] = undefined as never;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (ev.type !== 'synced' && !('existing' in ev && ev.existing)) this.live = Math.max(0, this.live - 1);
    if (this.paused && this.live + (this.held?.length ?? 0) <= this.highWater / 2 && !this.closed) {
      this.paused = false;
      for (const s of this.subs) s.resume();
    }
    return ev;
  }

  next(): Promise<IteratorResult<NetEvent>> {
    if (this.head < this.queue.length) return Promise.resolve({ value: this.take(), done: false });
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /**
   * Reads the sockets now: every notification the kernel sent before the call
   * is queued (or held back, while a dump runs) when it returns, even while
   * reading is paused. For a consumer that must have heard the echo of its own
   * requests (sent before their acknowledgement) at a point of its choosing.
   */
  drain(): void {
    if (this.closed || this.failure) return;
    for (const s of this.subs) s.drain();
  }

  /** Lets the process exit while the stream is open (like a server's unref()). */
  unref(): this {
    for (const s of this.subs) s.unref();
    return this;
  }

  ref(): this {
    for (const s of this.subs) s.ref();
    return this;
  }

  /** Stops delivery at once: queued events are dropped, a pending next() ends the iteration. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.close();
    this.queue.length = 0;
    this.head = 0;
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  return(): Promise<IteratorResult<NetEvent>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

// `await using sub = h.events()` where the runtime has Symbol.asyncDispose (Node 20.4+).
const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose) {
  Object.defineProperty(EventStream.prototype, asyncDispose, {
    value(this: EventStream) {
      this.close();
      return Promise.resolve();
    },
  });
}
