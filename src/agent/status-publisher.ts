// An agent's status in etcd: /eucanet/<cloud>/status/<host>, a JSON value
// (src/store/etcd-status.ts) under a lease of the agent's (10 s TTL, kept
// alive), so that a dead agent's entry disappears. One put after every sync,
// coalesced: while a put is in flight, further syncs only mark the status
// dirty, and the newest is put next. When etcd is unreachable the put is
// retried with backoff; when the lease is lost (etcd away longer than the
// TTL) a new one is granted and the status put again under it.
//
// The lease and the puts go over the store's lean channel when it has one
// (no user/password auth: store/etcd-lease-lean.ts), so that an agent never
// loads etcd3; else through etcd3's client and its Lease.
//
// It also says whether etcd is reachable, as it sees it (its puts and the
// lease's keep-alives): 'reachable' fires on each change only, so a log
// listening to it gets one line when etcd goes and one when it comes back.
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { LeanLease, type LeanLeaseCalls } from '../store/etcd-lease-lean.js';
import { revisionOf, statusKey, type HostStatus } from '../store/etcd-status.js';
import type { Agent } from './agent.js';
import { Backoff } from './backoff.js';
import { oneLine } from './result.js';
import type { SyncResult } from './types.js';

/** What a lease reports: lost (granted another), a keep-alive failed, one succeeded. */
interface LeaseHandlers {
  lost: (err: unknown) => void;
  failed: () => void;
  succeeded: () => void;
}

/** A lease kept alive and the puts under it: the lean channel's (LeanLease) or etcd3's Lease. */
interface KeptLease {
  grant(): Promise<string>;
  put(key: string, value: string): Promise<void>;
  revoke(): Promise<void>;
  release(): void;
  listen(h: LeaseHandlers): void;
}

/** etcd3's Lease as a KeptLease. */
function etcd3Lease(client: Etcd3, ttl: number): KeptLease {
  const lease = client.lease(ttl);
  return {
    grant: () => lease.grant(),
    put: async (key, value) => {
      await lease.put(key).value(value).exec();
    },
    revoke: () => lease.revoke({ deadline: Date.now() + 1000 }),
    release: () => lease.release(),
    listen: (h) => {
      lease.on('lost', h.lost);
      lease.on('keepaliveFailed', h.failed);
      lease.on('keepaliveSucceeded', h.succeeded);
    },
  };
}

/** The lean channel's LeanLease as a KeptLease. */
function leanLease(calls: LeanLeaseCalls, ttl: number): KeptLease {
  const lease = new LeanLease(calls, ttl);
  return {
    grant: () => lease.grant(),
    put: (key, value) => lease.put(key, value),
    revoke: () => lease.revoke(),
    release: () => lease.release(),
    listen: (h) => {
      lease.on('lost', h.lost);
      lease.on('keepaliveFailed', h.failed);
      lease.on('keepaliveSucceeded', h.succeeded);
    },
  };
}

export interface StatusPublisherOptions {
  /** etcd3's client, or a function that gives it (called when first needed; never when `lean` is given). */
  client: Etcd3 | (() => Etcd3);
  /** The lease and the puts through this channel (the store's lean one), not etcd3. */
  lean?: LeanLeaseCalls;
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
  private readonly lean?: LeanLeaseCalls;
  private readonly ttl: number;
  private readonly status: HostStatus;
  private readonly backoff: Backoff;
  private lease?: KeptLease;
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
    this.first ??= this.flush();
    return this.first;
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
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    if (!revoke) return lease.release();
    await lease.revoke().catch(() => lease.release());
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
    const lease = await this.leaseNow();
    await lease.put(this.key, value);
    this.markUp(true);
    this.published(snap, this.leaseId ?? '');
  }

  /** `s`: the status as put (a copy, flat like the status). */
  private published(s: HostStatus, lease: string): void {
    if (s.syncAt !== undefined) this.putAt = Math.max(this.putAt, s.syncAt);
    this.emit('published', s, lease);
  }

  /** The lease, granted if there is none (the first, or after one was lost). */
  private async leaseNow(): Promise<KeptLease> {
    if (this.lease) return this.lease;
    const lease = this.lean ? leanLease(this.lean, this.ttl) : etcd3Lease(this.clientOf(), this.ttl);
    lease.listen({
      lost: (err) => this.onLost(lease, err),
      failed: () => this.markUp(false, 'the lease keep-alive failed'),
      succeeded: () => this.markUp(true),
    });
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

  private onLost(lease: KeptLease, err: unknown): void {
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
