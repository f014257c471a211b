// The etcd store's watch of its state prefix without etcd3 (@grpc/grpc-js
// and protobufjs): etcd's bidirectional Watch call over the lean channel's
// HTTP/2 session (etcd-grpc.ts stream), with the hand-written codec of
// etcd-watch-codec.ts. Used when the store has the lean channel (no
// user/password auth: with it, etcd3's watcher). What an agent pays per
// version it hears of is then one HTTP/2 DATA frame and the decode of the
// changed keys, not grpc-js's call machinery and protobufjs's objects.
//
// It behaves as etcd3's watcher does for the feed (etcd-watch.ts), with the
// same events:
// - 'data' (the events of one WatchResponse, in order), for each response
//   that has events;
// - 'connected' when etcd confirmed the watch (created), the first time and
//   after each reconnection;
// - 'disconnected' (the error) once when the call broke (etcd stopped, the
//   connection reset): it is opened again 100 ms to 2 s apart (doubling; the
//   next URL each time), from the revision after the newest event delivered,
//   so nothing is missed and, but for the events of a response cut short,
//   nothing is delivered twice (the cache skips what it has anyway);
// - 'error' when etcd cancelled the watch (its start revision was compacted:
//   `compactRevision` on the error; or any other reason): the watch is over.
import { EventEmitter } from 'node:events';
import type { CacheEvent } from './etcd-cache.js';
import type { GrpcCallError, GrpcStream } from './etcd-grpc.js';
import { prefixEnd, type EtcdRangeClient } from './etcd-range.js';
import { decodeWatchResponse, encodeWatchCreate } from './etcd-watch-codec.js';

const WATCH = '/etcdserverpb.Watch/Watch';

/** etcd cancelled the watch: `compactRevision` > 0 when its start revision was compacted (the oldest revision kept). */
export class WatchCancelledError extends Error {
  constructor(
    readonly reason: string,
    readonly compactRevision: number,
  ) {
    super(
      compactRevision > 0
        ? `etcd compacted the watch's revision (the oldest kept is ${compactRevision})`
        : `etcd cancelled the watch: ${reason || 'no reason given'}`,
    );
    this.name = 'WatchCancelledError';
  }
}

export interface LeanWatchEvents {
  data: [CacheEvent[]];
  connected: [];
  disconnected: [GrpcCallError | Error];
  error: [WatchCancelledError];
}

export class LeanWatch extends EventEmitter<LeanWatchEvents> {
  private call?: GrpcStream;
  private attempt = 0;
  private delay = 100;
  private timer?: NodeJS.Timeout;
  /** Connected (created), not, or not yet known (a first failure is reported too). */
  private up: boolean | undefined;
  private over = false;
  private readonly rangeEnd: Buffer;

  /** Watches every change under `prefix` from revision `next` on. */
  constructor(
    private readonly client: EtcdRangeClient,
    private readonly prefix: string,
    /** The revision the watch (re)starts from: the one after the newest event delivered. */
    public next: number,
  ) {
    super();
    this.rangeEnd = prefixEnd(prefix);
    this.open();
  }

  private open(): void {
    if (this.over) return;
    const req = encodeWatchCreate({ key: Buffer.from(this.prefix), rangeEnd: this.rangeEnd, startRevision: this.next });
    let call: GrpcStream | undefined = undefined;
    call = this.client.stream(
      this.attempt,
      WATCH,
      req,
      (m) => call === this.call && this.onMessage(m),
      (err) => call === this.call && this.onEnd(err),
    );
    this.call = call;
  }

  private onMessage(m: Buffer): void {
    const res = decodeWatchResponse(m);
    if (res.canceled) {
      this.stop();
      this.emit('error', new WatchCancelledError(res.cancelReason, res.compactRevision));
      return;
    }
    if (res.created) {
      this.delay = 100;
      this.up = true;
      this.emit('connected');
    }
    if (!res.events.length) return;
    let newest = 0;
    for (const e of res.events) if (Number(e.kv.mod_revision) > newest) newest = Number(e.kv.mod_revision);
    if (newest >= this.next) this.next = newest + 1;
    this.emit('data', res.events);
  }

  /** The call ended without a cancel of ours: etcd went away (or closed it): open again after the delay. */
  private onEnd(err?: GrpcCallError): void {
    this.call = undefined;
    if (this.over) return;
    if (this.up !== false) {
      this.up = false;
      this.emit('disconnected', err ?? new Error('etcd ended the watch'));
    }
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, this.delay);
    this.delay = Math.min(this.delay * 2, 2000);
  }

  private stop(): void {
    this.over = true;
    clearTimeout(this.timer);
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  /** Ends the watch (etcd3's Watcher.cancel). */
  cancel(): Promise<void> {
    this.stop();
    return Promise.resolve();
  }
}
