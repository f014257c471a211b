// An agent's lease kept alive over the store's lean channel (etcd-range.ts,
// node:http2), so that an agent without etcd's user/password auth never loads
// etcd3, @grpc/grpc-js or protobufjs: its reads, watch, status puts and lease
// all go over one HTTP/2 session per URL.
//
// etcd's LeaseKeepAlive is a bidirectional stream: each request names the
// lease, each answer gives the TTL it was renewed to (0: etcd no longer knows
// it). A request goes every third of the TTL, as etcd3 does. What it reports,
// with etcd3's event names, so the status publisher treats both alike:
// - 'keepaliveSucceeded' for each answer that renewed the lease;
// - 'keepaliveFailed' when the stream broke, or a request had no answer by the
//   next one. A connection that answers nothing (a peer gone without a word)
//   is dropped then, so that every call on it, the store's watch too, fails
//   and connects again instead of waiting on it;
// - 'lost' once, when etcd answered that the lease is gone, or no answer
//   renewed it for a whole TTL (it has expired, or may have: the caller grants
//   another). The lease then stops.
import { EventEmitter } from 'node:events';
import type { GrpcCallError, GrpcStream } from './etcd-grpc.js';
import { decodeLeaseKeepAlive, encodeLeaseKeepAlive } from './etcd-range-codec.js';

const KEEP_ALIVE = '/etcdserverpb.Lease/LeaseKeepAlive';

/** The lean channel's calls a lease uses (EtcdRangeClient's). */
export interface LeanLeaseCalls {
  grant(ttl: number): Promise<string>;
  put(key: string, value: string, lease: string): Promise<void>;
  revoke(lease: string): Promise<void>;
  stream(attempt: number, method: string, first: Buffer, onMessage: (m: Buffer) => void, onEnd: (err?: GrpcCallError) => void): GrpcStream;
  /** Drops the connection of URL `attempt` (modulo their number): its calls fail, the next ones connect again. */
  reset(attempt: number): void;
}

export interface KeptLeaseEvents {
  lost: [Error];
  keepaliveFailed: [Error];
  keepaliveSucceeded: [];
}

export class LeanLease extends EventEmitter<KeptLeaseEvents> {
  private id?: string;
  private call?: GrpcStream;
  /** Which URL the keep-alive stream goes to (the next one after each failure). */
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  /** When etcd last renewed the lease (or granted it). */
  private renewedAt = 0;
  /** When the request waiting for its answer was sent (0: none waits). */
  private sentAt = 0;
  private over = false;
  private request?: Buffer;

  constructor(
    private readonly calls: LeanLeaseCalls,
    readonly ttlSeconds: number,
  ) {
    super();
  }

  /** Grants the lease and starts keeping it alive: its id (decimal text). */
  async grant(): Promise<string> {
    const id = await this.calls.grant(this.ttlSeconds);
    this.id = id;
    this.request = encodeLeaseKeepAlive(id);
    this.renewedAt = Date.now();
    if (!this.over) {
      this.timer = setInterval(() => this.tick(), (this.ttlSeconds * 1000) / 3);
      this.timer.unref();
    }
    return id;
  }

  /** Puts `key` = `value` under the lease. */
  put(key: string, value: string): Promise<void> {
    if (this.id === undefined) return Promise.reject(new Error('the lease is not granted yet'));
    return this.calls.put(key, value, this.id);
  }

  /** Stops keeping the lease alive (it expires within its TTL; its keys with it). */
  release(): void {
    this.over = true;
    clearInterval(this.timer);
    const call = this.call;
    this.call = undefined;
    call?.cancel();
  }

  /** Stops keeping it alive and revokes it: its keys go at once. */
  async revoke(): Promise<void> {
    this.release();
    if (this.id !== undefined) await this.calls.revoke(this.id);
  }

  private tick(): void {
    if (this.over || !this.request) return;
    if (Date.now() - this.renewedAt > this.ttlSeconds * 1000) {
      this.lose(new Error(`lease ${this.id} not renewed for ${this.ttlSeconds} s: it has expired`));
      return;
    }
    if (this.sentAt) {
      // No answer in a third of the TTL: the connection may be dead without a word.
      const call = this.call;
      this.call = undefined;
      call?.cancel();
      this.calls.reset(this.attempt++);
      this.emit('keepaliveFailed', new Error(`no answer to the lease's keep-alive in ${Math.round((Date.now() - this.sentAt) / 1000)} s`));
    }
    this.sentAt = Date.now();
    if (this.call) {
      this.call.send(this.request);
      return;
    }
    let call: GrpcStream | undefined = undefined;
    call = this.calls.stream(
      this.attempt,
      KEEP_ALIVE,
      this.request,
      (m) => call === this.call && this.onAnswer(m),
      (err) => call === this.call && this.onEnd(err),
    );
    this.call = call;
  }

  private onAnswer(m: Buffer): void {
    const a = decodeLeaseKeepAlive(m);
    if (a.id !== this.id) return;
    this.sentAt = 0;
    if (a.ttl <= 0) {
      this.lose(new Error(`etcd no longer knows lease ${this.id} (expired or revoked)`));
      return;
    }
    this.renewedAt = Date.now();
    this.emit('keepaliveSucceeded');
  }

  /** The stream ended (etcd stopped, the connection broke): the next tick opens another, to the next URL. */
  private onEnd(err?: GrpcCallError): void {
    this.call = undefined;
    if (this.over) return;
    this.sentAt = 0;
    this.attempt++;
    this.emit('keepaliveFailed', err ?? new Error("etcd ended the lease's keep-alive stream"));
  }

  private lose(err: Error): void {
    this.release();
    this.emit('lost', err);
  }
}
