// An agent's status in etcd: /eucanet/<cloud>/status/<host>, a JSON value
// (src/store/etcd-status.ts) under a lease of the agent's (10 s TTL, kept
// alive), so that a dead agent's entry disappears. One put after every sync,
// coalesced: while a put is in flight, further syncs only mark the status
// dirty, and the newest is put next. When etcd is unreachable the put is
// retried with backoff; when the lease is lost (etcd away longer than the
// TTL) a new one is granted and the status put again under it.
//
// The first statuses, up to the one after the agent's first sync, can go
// over a lean channel (etcd-range.ts: a lease granted and a put, no
// keep-alive), so that etcd3 is loaded only after the agent's first sync is
// published; the next put moves the status under a kept-alive etcd3 lease and
// revokes the lean one (its 10 s TTL covers the moment between).
//
// It also says whether etcd is reachable, as it sees it (its puts and the
// lease's keep-alives): 'reachable' fires on each change only, so a log
// listening to it gets one line when etcd goes and one when it comes back.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Etcd3, Lease } from 'etcd3';
import { revisionOf, statusKey, type HostStatus } from '../store/etcd-status.js';
import type { Agent } from './agent.js';
import { Backoff } from './backoff.js';
import { oneLine } from './result.js';
import type { SyncResult } from './types.js';

/** The calls of a lean channel (EtcdRangeClient) the first statuses go through. */
export interface LeanStatusCalls {
  grant(ttl: number): Promise<string>;
  put(key: string, value: string, lease: string): Promise<void>;
  revoke(lease: string): Promise<void>;
}

export interface StatusPublisherOptions {
  /** etcd3's client, or a function that gives it (called when first needed: after the first sync's status when `lean` is given). */
  client: Etcd3 | (() => Etcd3);
  /** The first statuses (to the first sync's) through this channel, before etcd3 is used. */
  lean?: LeanStatusCalls;
  /** The cloud (key prefix /eucanet/<cloud>/). */
  cloud: string;
  /** The host's name in the status (default the OS hostname). */
  host?: string;
  /** The lease's TTL in seconds (default 10). */
  ttlSeconds?: number;
  /** Retry backoff of a failed put: first delay and cap, in ms (default 100 and 5000). */
  retryMs?: { initial?: number; max?: number };
}

export interface StatusPublisherEvents {
  /** etcd became unreachable (false, why) or reachable again (true). */
  reachable: [boolean, string | undefined];
  /** A status was put (under this lease id). */
  published: [HostStatus, string];
  /** A new lease was granted after the previous one was lost (its id). */
  'new-lease': [string];
}

export class StatusPublisher extends EventEmitter<StatusPublisherEvents> {
  readonly host: string;
  readonly key: string;
  private readonly clientOf: () => Etcd3;
  private readonly lean?: LeanStatusCalls;
  /** The lean channel's lease, while the status is under it. */
  private leanLease?: string;
  /** The first sync's status was put (or half the TTL passed): later puts go under etcd3's lease. */
  private leanDone = false;
  private leanTimer?: NodeJS.Timeout;
  private readonly ttl: number;
  private readonly status: HostStatus;
  private readonly backoff: Backoff;
  private lease?: Lease;
  private leaseId?: string;
  /** Leases granted so far. */
  private leases = 0;
  private putting = false;
  /** The syncAt of the last status put (-1: none with a sync yet). */
  private putAt = -1;
  private dirty = false;
  private up?: boolean;
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;
  private first?: Promise<void>;
  private readonly onSync = (r: SyncResult) => this.update(r);

  constructor(
    private readonly agent: Agent,
    opts: StatusPublisherOptions,
  ) {
    super();
    const client = opts.client;
    this.clientOf = typeof client === 'function' ? client : () => client;
    if (opts.lean) this.lean = opts.lean;
    this.host = opts.host ?? hostname();
    this.key = statusKey(opts.cloud, this.host);
    this.ttl = opts.ttlSeconds ?? 10;
    this.backoff = new Backoff(opts.retryMs?.initial ?? 100, opts.retryMs?.max ?? 5000);
    const role = agent.role;
    this.status = { host: this.host, role: role.role, converged: false, pid: process.pid, startedAt: Date.now() };
    if (role.role === 'nc') this.status.node = role.node;
    else if (role.cluster !== undefined) this.status.cluster = role.cluster;
    agent.on('sync', this.onSync);
  }

  /** Whether etcd answered the last put or keep-alive (undefined before the first). */
  get reachable(): boolean | undefined {
    return this.up;
  }

  /**
   * Resolves once the status in hand (the last sync's) is in etcd, or after
   * `maxMs` (etcd away: it is being retried). The agent's warm-up waits for
   * it after its first sync, whose status put it would otherwise hold back.
   */
  whenPut(maxMs = 1000): Promise<void> {
    const want = this.status.syncAt;
    if (want === undefined || this.putAt >= want || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off('published', check);
        resolve();
      };
      const check = (s: HostStatus) => (s.syncAt ?? -1) >= want && done();
      const timer = setTimeout(done, maxMs);
      this.on('published', check);
    });
  }

  /** The lease the status is under now. */
  get currentLease(): string | undefined {
    return this.leaseId;
  }

  /** Puts the first status (not converged yet); resolves when it is in etcd, or once the first attempt failed (it is retried). */
  start(): Promise<void> {
    // A first sync longer than half the TTL: the status moves under etcd3's kept-alive lease then (the lean one is not kept alive).
    if (this.lean && !this.first) {
      this.leanTimer = setTimeout(() => this.endLean(), (this.ttl * 1000) / 2);
      this.leanTimer.unref();
    }
    this.first ??= this.flush();
    return this.first;
  }

  /** Later statuses go under etcd3's kept-alive lease (the next put, now). */
  private endLean(): void {
    clearTimeout(this.leanTimer);
    if (this.leanDone || this.stopped) return;
    this.leanDone = true;
    void this.flush();
  }

  /** The status after a sync; put at once (or after the put in flight). */
  update(r: SyncResult): void {
    const s = this.status;
    const revision = revisionOf(r.version);
    if (revision !== undefined) s.revision = revision;
    else delete s.revision;
    Object.assign(s, { syncAt: Date.now(), result: r.result, syncMs: r.ms, ops: r.ops, converged: r.result === 'ok' });
    if (r.error !== undefined) s.error = r.error;
    else delete s.error;
    if (!this.stopped) void this.flush();
  }

  /**
   * Stops publishing. revoke: the lease is revoked, so the entry disappears at
   * once (a clean stop); else it is left to expire.
   */
  async stop(revoke = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.agent.off('sync', this.onSync);
    clearTimeout(this.retryTimer);
    clearTimeout(this.leanTimer);
    const lean = revoke ? this.dropLean() : undefined;
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return lean;
    if (!revoke) return lease.release();
    await lease.revoke({ deadline: Date.now() + 1000 }).catch(() => lease.release());
  }

  private async flush(): Promise<void> {
    if (this.putting) {
      this.dirty = true;
      return;
    }
    this.putting = true;
    try {
      do {
        this.dirty = false;
        await this.putOnce();
      } while (this.dirty && !this.stopped);
      this.backoff.reset();
    } catch (err) {
      this.markUp(false, err);
      this.retryLater();
    } finally {
      this.putting = false;
    }
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.backoff.next());
  }

  private async putOnce(): Promise<void> {
    const snap = { ...this.status };
    const value = JSON.stringify(snap);
    if (this.lean && !this.leanDone) {
      const id = (this.leanLease ??= await this.lean.grant(this.ttl));
      // A failed put may be a lease gone (etcd restarted, or expired): the next attempt grants another.
      await this.lean.put(this.key, value, id).catch((err: unknown) => {
        if (this.leanLease === id) this.leanLease = undefined;
        throw err;
      });
      // After the first sync's status, the next put (now) moves it under etcd3's kept-alive lease.
      if (this.status.syncAt !== undefined) {
        this.dirty = true;
        this.endLean();
      }
      this.markUp(true);
      this.published(snap, this.leanLease);
      return;
    }
    const lease = await this.leaseNow();
    // Under etcd3's kept-alive lease; through the lean channel when there is one (no protobufjs objects per put).
    if (this.lean && this.leaseId !== undefined) await this.lean.put(this.key, value, this.leaseId);
    else await lease.put(this.key).value(value).exec();
    this.markUp(true);
    void this.dropLean();
    this.published(snap, this.leaseId ?? '');
  }

  /** `s`: the status as put (a copy, flat like the status). */
  private published(s: HostStatus, lease: string): void {
    if (s.syncAt !== undefined) this.putAt = Math.max(this.putAt, s.syncAt);
    this.emit('published', s, lease);
  }

  /** Revokes the lean lease, if the status was under it. */
  private dropLean(): Promise<void> | undefined {
    const id = this.leanLease;
    this.leanLease = undefined;
    return id === undefined ? undefined : this.lean?.revoke(id).catch(() => undefined);
  }

  /** The lease, granted if there is none (the first, or after one was lost). */
  private async leaseNow(): Promise<Lease> {
    if (this.lease) return this.lease;
    const lease = this.clientOf().lease(this.ttl);
    lease.on('lost', (err) => this.onLost(lease, err));
    lease.on('keepaliveFailed', () => this.markUp(false, 'the lease keep-alive failed'));
    lease.on('keepaliveSucceeded', () => this.markUp(true));
    try {
      this.leaseId = await lease.grant();
    } catch (err) {
      lease.release();
      throw err;
    }
    this.lease = lease;
    if (++this.leases > 1) this.emit('new-lease', this.leaseId);
    return lease;
  }

  private onLost(lease: Lease, err: unknown): void {
    if (this.lease !== lease) return;
    this.lease = undefined;
    this.markUp(false, err);
    // A new lease, and the status again under it (retried until etcd answers).
    if (!this.stopped) void this.flush();
  }

  private markUp(up: boolean, why?: unknown): void {
    if (this.up === up || this.stopped) return;
    this.up = up;
    this.emit('reachable', up, why === undefined ? undefined : typeof why === 'string' ? why : oneLine(why));
  }
}
