// Agent: keeps one host's role equal to the cloud's desired state. A full
// reconcile at start, then one per new state version (bursts coalesced: one
// sync in flight, one pending), drift repaired when the namespace says
// something the role owns changed, a periodic full resync, kernel failures
// retried with backoff, invalid state versions ignored (the last good one
// stays applied), and the CC's dnsmasq restarted when it dies. It never tears
// anything down: stop() leaves the network as it is.
import { EventEmitter } from 'node:events';
import { isAlive } from '../dhcp/proc.js';
import { ValidationError } from '../errors.js';
import { open, type Handle } from '../handle.js';
import { applyRole, type AppliedSnapshot, type ApplyOptions, type ApplyResult } from '../managed/apply.js';
import { deleteReleased } from '../tx/reconcile.js';
import type { Role } from '../managed/roles/index.js';
import type { AllocatedState } from '../managed/types.js';
import type { Netns } from '../sys/netns-path.js';
import { Backoff } from './backoff.js';
import { Coalescer } from './coalesce.js';
import { MAX_REASONS, appliedResult, invalidOf, oneLine } from './result.js';
import { quickSync } from './quick-sync.js';
import { WarmUp } from './warm-up.js';
import { OwedStep } from './owed-step.js';
import { nowMs, phase, phaseCount, phasesOn, phasesSince } from '../util/phases.js';
import { NetnsEvents } from './netns-events.js';
import { KnownInterfaces, type Interfaces } from './known-interfaces.js';
import { DriftJudge, wantedLinksOf, type JudgedEvent, type Wanted, type WantedLink } from './drift.js';
import { wantedFdbAfter, type FdbPatch } from './drift-fdb.js';
import { driftSinceApplied } from './drift-catch-up.js';
import type { AgentEvents, AgentOptions, AgentStatus, Applied, DriftSignal, DriftSource, StateRead, StateSource, SyncResult, SyncTrigger } from './types.js';

export type { AgentEvents, AgentOptions, AgentStatus, Applied } from './types.js';

export class Agent extends EventEmitter<AgentEvents> {
  readonly role: Role;
  readonly netns?: Netns;
  private readonly source: StateSource;
  private readonly driftSource?: DriftSource;
  private readonly coalescer: Coalescer<SyncResult>;
  private readonly backoff: Backoff;
  private handle?: Handle;
  private applied?: Applied;
  private lastInvalid?: string;
  private readonly judge: DriftJudge;
  /** What drifted since the last sync started (for its result). */
  private reasons: string[] = [];
  /** Netlink port ids of the agent's sockets. */
  private readonly ports = new Set<number>();
  /** The wanted links of the last sync's desired state, until handed to the judge (made when it first needs them). */
  private wanted?: Wanted<Map<string, WantedLink>>;
  /** The wanted FDB entries of the last sync's desired state, until handed to the judge. */
  private wantedFdb?: Wanted<Set<string>> | FdbPatch;
  private dnsmasqPid?: number;
  /** What the last successful sync applied: a new store version is then applied incrementally. */
  private snapshot?: AppliedSnapshot;
  private seq = 0;
  /** Why the incremental apply of this sync failed (a full one followed). */
  private incrementalFailed?: string;
  private last?: AgentStatus['lastSync'];
  private timers: NodeJS.Timeout[] = [];
  private retryTimer?: NodeJS.Timeout;
  private unwatch?: () => void;
  private started = false;
  /** The source said a new version may be there, and no sync has read it since. */
  private storeChanged = false;
  private stopped = false;
  /** The interfaces preflight last found, passed on to the next sync while no link event named one. */
  private readonly interfaces = new KnownInterfaces();
  /** The warm-up after the start (warm-up.ts). */
  private readonly warm: WarmUp;
  /** The namespace is watched, and the check of what changed before has not run yet (drift-catch-up.ts). */
  private catchUpDue = false;
  /** The conntrack step owed (applyRole's conntrackAfter): side work once a sync ends, taken over by an apply. */
  private readonly conntrack: OwedStep;
  /** The deletion of the taps an own-instance sync released (nc-sync.ts): side work once that sync is reported, or the next sync's first step. */
  private readonly released: OwedStep;

  constructor(private readonly opts: AgentOptions) {
    super();
    this.role = opts.role;
    if (opts.netns !== undefined) this.netns = opts.netns;
    this.source = opts.source;
    if (opts.drift !== false) this.driftSource = opts.drift ?? new NetnsEvents(opts.netns);
    this.coalescer = new Coalescer((t) => this.run(t), opts.minGapMs ?? 200);
    if (opts.onIdle) this.coalescer.onIdle = opts.onIdle;
    this.judge = new DriftJudge(opts.role.role, (p) => this.ownPort(p));
    this.backoff = new Backoff(opts.retryMs?.initial ?? 100, opts.retryMs?.max ?? 30_000);
    // A failed owed step is reported, and the next sync is a full one (started now, unless it is that sync's first step).
    const owed = (event: 'conntrack-error' | 'release-error'): OwedStep =>
      new OwedStep({
        idle: (fn) => this.coalescer.idle(fn),
        live: () => this.started,
        failed: (err, inSync) => {
          this.snapshot = undefined;
          this.emit(event, err);
          if (!inSync) this.kick('retry');
        },
      });
    this.conntrack = owed('conntrack-error');
    this.released = owed('release-error');
    this.warm = new WarmUp({
      role: this.role,
      source: this.source,
      applied: () => this.applied,
      snapshot: () => this.snapshot,
      options: (previous) => this.applyOptions(previous, this.driftSource && this.interfaces.peek()),
      interrupted: () => !this.started || this.storeChanged || this.coalescer.waiting,
      whenIdle: (fn) =>
        this.coalescer.idle(async () => {
          await this.catchUpNow();
          await fn();
        }),
      ended: (e) => this.emit('warmed-up', e),
    });
  }

  /** The kinds of change the warm-up rehearsed, in order (for tests). */
  get rehearsed(): readonly string[] {
    return this.warm.rehearsed;
  }

  /** The kinds of version the warm-up judged only, in order (for tests). */
  get judged(): readonly string[] {
    return this.warm.judged;
  }

  /** The version and state last applied, if any. */
  get current(): Applied | undefined {
    return this.applied;
  }

  /** What the agent would publish about itself (issue 17's status): its role, what it applied, its last sync. */
  get status(): AgentStatus {
    const s: AgentStatus = { role: this.role.role, running: this.started };
    if (this.role.role === 'nc') s.node = this.role.node;
    else if (this.role.cluster !== undefined) s.cluster = this.role.cluster;
    if (this.applied) Object.assign(s, { version: this.applied.version, appliedAt: this.applied.at });
    if (this.last) s.lastSync = this.last;
    return s;
  }

  /**
   * Starts: watches the source, runs the first full sync, then watches the
   * namespace (its own changes are not heard back: watchNamespace), and
   * resolves with the first sync's result (a failed one is retried, not thrown).
   */
  async start(): Promise<SyncResult> {
    if (this.started || this.stopped) throw new Error(`the agent is ${this.started ? 'started already' : 'stopped: an Agent runs once'}`);
    this.started = true;
    this.unwatch = this.source.watch(() => {
      this.storeChanged = true;
      this.kick('store');
    });
    const resync = this.opts.resyncSeconds ?? 300;
    if (resync > 0) this.timers.push(setInterval(() => this.kick('resync'), resync * 1000));
    if (this.role.role === 'cc') this.timers.push(setInterval(() => this.checkDnsmasq(), this.opts.dnsmasqCheckMs ?? 500));
    const first = await this.sync('start');
    const w = this.opts.warmUp;
    // The namespace is watched from here (drift-catch-up.ts); with a warm-up
    // that waits for a promise (the first status put), after it too, and
    // start() does not wait for it.
    const after = typeof w === 'function' ? w() : undefined;
    const watched = this.watchNamespace(after);
    if (after) {
      void watched.catch((err: unknown) =>
        this.onDrift({ kind: 'resync', what: `the namespace's events could not be watched (${oneLine(err)}): only resyncs catch drift` }),
      );
    } else await watched;
    // The warm-up after the watch began (and the check that follows it: the warm-up's CPU would hold it back).
    this.warm.arm(first.result === 'ok' && w !== false, after && (() => watched.catch(() => undefined)));
    return first;
  }

  /**
   * Subscribes to the namespace's events after the start sync, then compares
   * the kernel with what the last good sync wanted (due until it runs: a
   * sync running or waiting puts it off to after it), so that a change made
   * before the events were watched is repaired too (drift-catch-up.ts).
   */
  private async watchNamespace(after: Promise<unknown> | undefined): Promise<void> {
    if (!this.driftSource) return;
    if (after) await after.catch(() => undefined);
    if (!this.started) return;
    try {
      await this.driftSource.start((ev) => this.onEvent(ev));
    } catch (err) {
      if (!after) await this.stop();
      throw err;
    }
    this.catchUpDue = true;
    await this.catchUp();
  }

  /** The check after the watch began, alone as side work when no sync runs or waits (else after the next sync). */
  private catchUp(): Promise<void> | undefined {
    let done: Promise<void> | undefined;
    this.coalescer.idle(() => (done = this.catchUpNow()));
    return done;
  }

  /** The check after the watch began, if due (run before other side work: the warm-up). */
  private async catchUpNow(): Promise<void> {
    if (!this.catchUpDue || !this.started) return;
    this.catchUpDue = false;
    const snap = this.snapshot;
    // No good sync yet: the next one is a full reconcile, run while the namespace is watched.
    if (!snap) return;
    try {
      const why = await driftSinceApplied(this.handleNow(), snap, this.role.role);
      if (why !== undefined) this.onDrift({ kind: 'drift', what: why });
    } catch (err) {
      this.onDrift({ kind: 'resync', what: `the check after the namespace was watched failed (${oneLine(err)})` });
    }
  }

  /** A sync now (or the pending one, if one is running): resolves with the sync that covered it. */
  sync(trigger: SyncTrigger = 'sighup'): Promise<SyncResult> {
    return this.coalescer.request(trigger);
  }

  /**
   * Stops watching and waits for a running sync to end (at most `graceMs`).
   * The network is left as it is; so is dnsmasq.
   */
  async stop(graceMs = 800): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    clearTimeout(this.retryTimer);
    this.unwatch?.();
    await this.driftSource?.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.coalescer.close(), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.handle?.close();
    this.handle = undefined;
  }

  /** A sync whose result nobody awaits. */
  private kick(trigger: SyncTrigger): void {
    if (this.started) this.sync(trigger).catch(() => undefined);
  }

  private onEvent(ev: JudgedEvent): void {
    if (ev.type === 'link') this.interfaces.onLink((ev as Extract<JudgedEvent, { type: 'link' }>).link);
    else if (ev.type === 'resync') this.interfaces.invalidate();
    const why = this.judge.judge(ev);
    if (why === 'resync') this.onDrift({ kind: 'resync', what: `events lost (${(ev as { source?: string }).source ?? 'netlink'})` });
    else if (why !== undefined) this.onDrift({ kind: 'drift', what: why });
  }

  private onDrift(s: DriftSignal): void {
    this.emit('drift', s);
    if (this.reasons.length < MAX_REASONS) this.reasons.push(s.what);
    else if (this.reasons.length === MAX_REASONS) this.reasons.push('...');
    this.kick(s.kind === 'resync' ? 'resync' : 'drift');
  }

  /** True for the netlink port ids of the agent's own sockets (any handle it has had: events may come late). */
  private ownPort(portId: number): boolean {
    return portId !== 0 && this.ports.has(portId);
  }

  private handleNow(): Handle {
    if (this.handle) return this.handle;
    const h = open(this.netns !== undefined ? { netns: this.netns } : {});
    for (const p of h.ports) this.ports.add(p);
    return (this.handle = h);
  }

  private checkDnsmasq(): void {
    const pid = this.dnsmasqPid;
    if (pid === undefined || isAlive(pid)) return;
    this.dnsmasqPid = undefined;
    this.emit('dnsmasq-exit', pid);
    this.kick('dnsmasq');
  }

  private async run(triggers: SyncTrigger[]): Promise<SyncResult> {
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    const mark = phasesOn() ? phaseCount() : 0;
    const base: Pick<SyncResult, 'seq' | 'trigger' | 'triggers' | 'drift'> = { seq: ++this.seq, trigger: triggers[0], triggers };
    if (this.reasons.length) base.drift = this.reasons.splice(0);
    this.judge.syncStarted();
    let out: SyncResult;
    try {
      out = { ...base, ...(await this.reconcile(triggers)) };
    } catch (err) {
      this.handle?.close();
      this.handle = undefined;
      out = { ...base, result: 'error', ops: 0, error: oneLine(err), ...(this.applied ? { version: this.applied.version } : {}), ms: 0 };
    }
    out.ms = Math.round((nowMs() - t0) * 10) / 10;
    const cpu = process.cpuUsage(cpu0);
    out.cpuMs = Math.round((cpu.user + cpu.system) / 100) / 10;
    if (phasesOn()) out.phases = phasesSince(mark, { wall: t0, cpu: (cpu0.user + cpu0.system) / 1000 });
    this.afterSync(out);
    this.last = { at: Date.now(), result: out.result, ms: out.ms, ops: out.ops, ...(out.error !== undefined ? { error: out.error } : {}) };
    this.emit('sync', out);
    // Every echo of the sync's own changes is heard before its end is judged
    // (not only those the loop happened to read while it ran: a synchronous
    // commit, or a busy CPU, leaves them in the socket). A failed stream is reported as a resync by the source.
    await this.driftSource?.settle?.().catch(() => undefined);
    // Links changed while the sync ran, judged on their last state.
    // The wanted links and FDB are handed over once (undefined: the judge keeps what it has).
    const ended = this.judge.syncEnded(this.wanted, this.wantedFdb);
    this.wanted = this.wantedFdb = undefined;
    for (const what of ended) this.onDrift({ kind: 'drift', what });
    if (out.result === 'ok') this.warm.afterSync();
    if (this.catchUpDue) setImmediate(() => void this.catchUp());
    // Only now: side work asked for while the sync still runs (settle() above awaits) would not run at all.
    // A sync that applied nothing (the same version for this host, a quick sync) leaves an owed conntrack step owed: started again here.
    this.conntrack.afterSync();
    this.released.afterSync();
    return out;
  }

  /** Reads the newest version and applies it, or the last good one when it is invalid. */
  private async reconcile(triggers: SyncTrigger[]): Promise<Omit<SyncResult, 'seq' | 'trigger' | 'triggers'>> {
    // Taps the last sync released and no side work deleted yet: first (a new version may run an instance of the same name).
    await this.released.now(true);
    const read = await this.readState(triggers);
    phase('agent: read');
    let invalid = read.invalid ? invalidOf(read.version, read.invalid) : undefined;
    const quick = read.state && (await this.quick(read.version, read.state, triggers));
    if (quick) return quick;
    phase('agent: relevance');
    if (read.state) {
      try {
        return this.applyVersion(read.version, read.state, await this.applyNew(read.state, triggers));
      } catch (err) {
        // The role's checks (preflight, DHCP's plan) run before anything is
        // sent: a new version they refuse is invalid, like one the schema
        // refuses, and the last good one stays. With no good one yet (the
        // host not ready at start: an interface missing), it is a failure,
        // retried with backoff.
        if (!(err instanceof ValidationError) || !this.applied || read.version === this.applied.version) throw err;
        invalid = invalidOf(read.version, err);
      }
    }
    const good = this.applied;
    if (!good) return { result: 'invalid', ops: 0, ms: 0, ...(invalid ? { invalid, error: invalid.message } : {}) };
    const r = await this.apply(good.state);
    return { ...this.applyVersion(good.version, good.state, r), result: 'invalid', ...(invalid ? { invalid, error: invalid.message } : {}) };
  }

  /**
   * The state to apply. A repair (drift, dnsmasq) with no store change seen
   * since the last read applies the state in hand: reading and validating a
   * big state again would only delay the repair. Every other trigger reads
   * the store (a resync or SIGHUP also catches a change the watch missed).
   */
  private async readState(triggers: SyncTrigger[]): Promise<StateRead> {
    const repairOnly = triggers.every((t) => t === 'drift' || t === 'dnsmasq');
    if (repairOnly && !this.storeChanged && this.applied) return { version: this.applied.version, state: this.applied.state };
    this.storeChanged = false;
    // A resync or SIGHUP reads the store itself, not the etcd store's watch-fed cache.
    const fresh = triggers.some((t) => t === 'resync' || t === 'sighup');
    return this.source.read(this.applied, fresh ? { fresh } : undefined);
  }

  /**
   * A new store version (and nothing else asked for a sync) after a good sync
   * is applied incrementally: only what changed is read and reconciled
   * (applyRole's `previous`). If that fails (rolled back like any commit), a
   * full reconcile follows at once. Every other sync is a full reconcile.
   */
  private async applyNew(state: AllocatedState, triggers: SyncTrigger[]): Promise<ApplyResult> {
    const previous = this.snapshot;
    if (!previous || !triggers.every((t) => t === 'store')) return this.apply(state);
    try {
      return await this.apply(state, previous);
    } catch (err) {
      // A version the role's checks refuse is refused by a full apply too.
      if (err instanceof ValidationError) throw err;
      this.incrementalFailed = oneLine(err);
      return this.apply(state);
    }
  }

  /**
   * A new store version (nothing else asked for this sync) after a good sync
   * that needs no plan of the role (quick-sync.ts): recorded as applied, or
   * its instances' entries sent as they are. Undefined: the usual sync
   * follows (a full one at once if the quick one failed).
   */
  private async quick(version: string, state: AllocatedState, triggers: SyncTrigger[]): Promise<ReturnType<Agent['recordOnly']> | undefined> {
    const snapshot = this.snapshot;
    if (!snapshot || !this.applied || !triggers.every((t) => t === 'store')) return undefined;
    const q = await quickSync(
      {
        handle: () => this.handleNow(),
        role: this.role,
        applied: this.applied.state,
        snapshot,
        interfaces: this.interfaces,
        watched: this.driftSource !== undefined,
        ...(this.netns !== undefined ? { netns: this.netns } : {}),
        ...(this.opts.dhcpOptions ? { dhcpOptions: this.opts.dhcpOptions } : {}),
      },
      state,
    );
    if (!q) return undefined;
    if (q.kind === 'same') return this.recordOnly(version, state);
    if (q.kind === 'failed') {
      this.snapshot = undefined;
      this.incrementalFailed = q.error;
      return undefined;
    }
    this.snapshot = q.r.snapshot;
    const names = q.via === 'own' ? q.r.released : undefined;
    // The taps are out of their bridge and down already: the instance is off the network when this sync is reported.
    // A failed deletion is followed by a full sync, which deletes an owned tap no longer wanted.
    if (names)
      this.released.owe(async () => {
        await deleteReleased(this.handleNow(), names);
        phase('agent: released taps deleted');
      });
    const out = this.applyVersion(version, state, q.r);
    if (q.via === 'peers') return { ...out, peers: true };
    if (q.via === 'own') return { ...out, own: true };
    return q.via === 'rules' ? { ...out, rules: true } : { ...out, instances: true };
  }

  private recordOnly(version: string, state: AllocatedState): Omit<SyncResult, 'seq' | 'trigger' | 'triggers'> {
    if (this.applied?.version !== version) this.applied = { version, state, at: Date.now() };
    return { result: 'ok', version, ops: 0, ms: 0, mode: 'unchanged' };
  }

  private async apply(state: AllocatedState, previous?: AppliedSnapshot): Promise<ApplyResult> {
    this.snapshot = undefined;
    // An owed conntrack step is this apply's now: a full one runs the step
    // itself, an incremental one owes it with its own changes (ctOwedSince).
    this.conntrack.drop();
    // An incremental sync does not look up the needed interfaces again when
    // the last sync found them and no link event named one since (only with
    // the namespace's events watched; a full reconcile always looks).
    const { epoch, interfaces } = this.interfaces.take();
    const r = await applyRole(state, this.role, this.applyOptions(previous, previous && this.driftSource && interfaces));
    this.snapshot = r.snapshot;
    if (r.snapshot?.interfaces) this.interfaces.record(epoch, r.snapshot.interfaces);
    return r;
  }

  /** applyRole's options: this host's handle, namespace and DHCP options; the snapshot an incremental sync starts from and the interfaces still known. */
  private applyOptions(previous: AppliedSnapshot | undefined, known: Interfaces | undefined | false): ApplyOptions {
    return {
      handle: this.handleNow(),
      ...(this.netns !== undefined ? { netns: this.netns } : {}),
      ...(this.opts.dhcpOptions ? { dhcpOptions: this.opts.dhcpOptions } : {}),
      ...(previous ? { previous, conntrackAfter: true } : {}),
      ...(known ? { knownInterfaces: known } : {}),
    };
  }

  private applyVersion(
    version: string,
    state: AllocatedState,
    r: Pick<ApplyResult, 'desired' | 'delta' | 'ops' | 'dhcp' | 'conntrackAfter'>,
  ): Omit<SyncResult, 'seq' | 'trigger' | 'triggers'> {
    if (this.applied?.version !== version) this.applied = { version, state, at: Date.now() };
    // The drift judge's wanted links and FDB: made only when an event needs
    // them, and kept as they are when the delta says those sections did not change.
    const d = r.desired;
    if (!r.delta || r.delta.links || r.delta.ports.size) this.wanted = () => wantedLinksOf(d);
    // The FDB: patched from the delta's entries when it has them (drift-fdb.ts wantedFdbAfter).
    if (!r.delta || r.delta.fdb) this.wantedFdb = wantedFdbAfter(d, r.delta);
    if (r.dhcp) this.dnsmasqPid = r.dhcp.pid;
    if (r.dhcp?.background) this.afterDhcp(r.dhcp.background);
    // Side work of this sync, started when the sync has ended (run()).
    if (r.conntrackAfter) this.conntrack.owe(r.conntrackAfter);
    const failed = this.incrementalFailed;
    this.incrementalFailed = undefined;
    return appliedResult(version, r, failed);
  }

  /**
   * DHCP's background step of an incremental sync (a reload after removals):
   * if it fails, the next sync is a full one, started now.
   */
  private afterDhcp(background: Promise<Error | undefined>): void {
    void background.then((err) => {
      if (!err) return;
      this.snapshot = undefined;
      this.emit('dhcp-error', err);
      this.kick('dnsmasq');
    });
  }

  /** Backoff bookkeeping: a failure schedules a retry; success resets. Invalid versions are logged once. */
  private afterSync(out: SyncResult): void {
    if (out.invalid) {
      if (this.lastInvalid === out.invalid.version) delete out.invalid;
      else this.lastInvalid = out.invalid.version;
    }
    if (out.result !== 'error') {
      this.backoff.reset();
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      return;
    }
    if (!this.started || this.retryTimer) return;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick('retry');
    }, delay);
  }
}
