// The agent's vocabulary: what starts a sync, what a sync came to, and the two
// seams it is built on: a source of state versions (the store) and a source of
// drift signals (the namespace's netlink events). The agent depends on these
// interfaces only; file.ts and events.ts are today's implementations.
import type { ValidationError } from '../errors.js';
import type { DhcpOptions } from '../managed/apply.js';
import type { Role } from '../managed/roles/index.js';
import type { AllocatedState } from '../managed/types.js';
import type { Netns } from '../sys/netns-path.js';
import type { JudgedEvent } from './drift.js';

/**
 * What made a sync run:
 * - start: the full reconcile when the agent starts;
 * - store: a new state version was written;
 * - drift: something the role owns was changed by someone else;
 * - resync: the periodic full resync (--resync), or events were lost (ENOBUFS);
 * - sighup: SIGHUP (resync now), or a caller's sync();
 * - retry: the previous sync failed, retried with backoff;
 * - dnsmasq: the CC's dnsmasq died and is restarted.
 */
export const TRIGGERS = ['start', 'store', 'drift', 'resync', 'sighup', 'retry', 'dnsmasq'] as const;
export type SyncTrigger = (typeof TRIGGERS)[number];

/**
 * ok: applied (ops may be 0); invalid: the newest state version failed
 * validation and was ignored (the last good one stays applied and was
 * reconciled); error: a kernel (or DHCP) failure, retried with backoff.
 */
export type SyncOutcome = 'ok' | 'invalid' | 'error';

export interface SyncResult {
  /** Sequence number of the sync in this agent, from 1. */
  seq: number;
  /** The first trigger of those coalesced into this sync. */
  trigger: SyncTrigger;
  /** Every trigger coalesced into this sync, in arrival order, each once. */
  triggers: SyncTrigger[];
  result: SyncOutcome;
  /** The state version applied (the last good one when the newest is invalid); undefined before any. */
  version?: string;
  /** Mutating ops sent. */
  ops: number;
  ms: number;
  /**
   * The process's CPU time (user + system, every thread: the netlink
   * exchanges' kernel time included) while the sync ran, in ms: unlike `ms`,
   * not stretched by other processes' load. Work other than the sync's
   * (events judged meanwhile) is counted too.
   */
  cpuMs?: number;
  /** With EUCANET_PHASES set: the sync's phases, "wall/cpu" ms each (util/phases.ts). */
  phases?: Record<string, string>;
  /**
   * incremental: a new store version, only what changed since the last good
   * sync read and reconciled; full: everything read and reconciled (at start,
   * on drift, lost events, the periodic resync, SIGHUP, a retry, or after an
   * incremental apply failed); unchanged: a new store version that the
   * role's plan is proven not to read (agent/relevance.ts), recorded as
   * applied without planning or touching the kernel.
   */
  mode?: 'incremental' | 'full' | 'unchanged';
  /**
   * An incremental sync of a node that the version concerned only through
   * other nodes' instances of the groups it carries: their FDB entries were
   * computed from those instances and sent, with no plan of the role and
   * nothing read back (agent/peer-sync.ts).
   */
  peers?: true;
  /**
   * An incremental sync of the CC that the version concerned only through
   * instances added or removed without a public address: their FDB entries
   * and DHCP hosts were made from those instances and sent, with no plan of
   * the role (agent/cc-sync.ts).
   */
  instances?: true;
  /**
   * An incremental sync of the CC that the version concerned only through
   * some groups' ingress rules (an authorize, a revoke): those groups' chains
   * were flushed and filled in one nftables batch, with nothing read, no
   * preflight and no plan of the role (agent/cc-rules-sync.ts).
   */
  rules?: true;
  /**
   * An incremental sync of a node that the version concerned through its own
   * instances added or removed (and other nodes' instances of the groups it
   * carries): their ports, anti-spoofing set elements and FDB entries were
   * made from those instances and sent, with no preflight and no plan of the
   * role (agent/nc-sync.ts).
   */
  own?: true;
  /** An incremental sync: what changed ("ports 1, nft sets 1"). */
  changed?: string;
  /** The incremental apply failed (rolled back) and a full one was made instead: why, one line. */
  incrementalError?: string;
  /** The CC's DHCP: what was done (start, reload, restart, unchanged...). */
  dhcp?: string;
  dnsmasqPid?: number;
  /** What drifted (the drift and resync signals since the previous sync started; at most five, then "..."). */
  drift?: string[];
  /** The failure, one line. */
  error?: string;
  /** An invalid state version: which, and the field named. */
  invalid?: { version: string; field: string; value: unknown; message: string };
}

/** One version of the cloud's state, as a source read it. */
export interface StateRead {
  /** Opaque, equal for equal content. */
  version: string;
  /** The validated, allocated state; absent when invalid. */
  state?: AllocatedState;
  /** Why this version is not usable (the field is named). */
  invalid?: ValidationError;
}

/** Where the desired state comes from: read the current version, and say when it changes. */
export interface StateSource {
  /** A readable name ("file /etc/eucanet/cloud.json") for logs. */
  readonly name: string;
  /**
   * The current version. `known` is the version last applied: a source may skip re-parsing it.
   * `fresh`: from the store itself, not a cache (a resync or SIGHUP: catches a change a watch missed).
   */
  read(known?: { version: string; state: AllocatedState }, opts?: { fresh?: boolean }): Promise<StateRead>;
  /** Calls `onChange` when a new version may be there; returns the unsubscribe. */
  watch(onChange: () => void): () => void;
  /** Runs the source's own work for a changed version on what it holds (no I/O), to compile it (the agent's warm-up after its start). */
  warmUp?(): void;
}

/** What the namespace told us: something the role owns drifted (why), or events were lost. */
export type DriftSignal = { kind: 'drift'; what: string } | { kind: 'resync'; what: string };

/**
 * The namespace's events (src/events/), delivered to the agent, which judges
 * them (drift.ts). `start` resolves once the subscription is in place.
 */
export interface DriftSource {
  start(onEvent: (ev: JudgedEvent) => void): void | Promise<void>;
  stop(): void | Promise<void>;
  /**
   * Resolves once every event sent before the call has been delivered to
   * onEvent (NetnsEvents reads its sockets at once). Called as each sync
   * ends, so that its own changes' echoes are judged as part of it however
   * late the event loop would have read them. Optional: without it, events
   * are judged as they happen to arrive.
   */
  settle?(): Promise<void>;
}

export interface AgentOptions {
  role: Role;
  /** The host's namespace (a name under /run/netns, a path or an fd); default the caller's. */
  netns?: Netns;
  /** Where the desired state comes from. */
  source: StateSource;
  /**
   * Where drift is heard of: by default the namespace's netlink events
   * (NetnsEvents); false: none, only resyncs and SIGHUP catch drift.
   */
  drift?: DriftSource | false;
  /** Seconds between full resyncs (default 300; 0: none). */
  resyncSeconds?: number;
  /** Retry backoff after a failed sync: first delay and cap, in ms (default 100 and 30000). */
  retryMs?: { initial?: number; max?: number };
  /** The CC's DHCP server options (state directory, dnsmasq path). */
  dhcpOptions?: DhcpOptions;
  /**
   * The least time between the starts of two syncs, in ms (default 200): a
   * burst of changes is applied a few times a second, not once per change; a
   * change long after the last sync is applied at once.
   */
  minGapMs?: number;
  /**
   * After the start sync, run the path of a new version twice on the state in
   * hand (nothing sent) to compile it, then rehearse each kind of change
   * (default true). A function: the warm-up waits for the promise it returns
   * (called after the start sync; an agent on etcd: its first sync's status
   * put, whose write the warm-up's CPU would otherwise hold back). The
   * namespace's events are then watched only once it resolves too, and
   * start() does not wait for that (agent.ts watchNamespace).
   */
  warmUp?: boolean | (() => Promise<unknown>);
  /**
   * Called when a sync (or the work the agent does after one: the warm-up,
   * an incremental sync's conntrack step) ended and nothing else runs or
   * waits: the process is about to be idle. `eucanet agent` collects V8's
   * young generation there (idle-gc.ts), off the next sync's path.
   */
  onIdle?: () => void;
  /** How often the CC's dnsmasq is checked for life, in ms (default 500). */
  dnsmasqCheckMs?: number;
}

/** The version and state last applied. */
export interface Applied {
  version: string;
  state: AllocatedState;
  /** When it was first applied (ms since the epoch). */
  at: number;
}

export interface AgentEvents {
  sync: [SyncResult];
  /** A drift signal that scheduled a sync. */
  drift: [DriftSignal];
  /** The CC's dnsmasq was found dead (pid), before it is restarted. */
  'dnsmasq-exit': [number];
  /**
   * The warm-up after the start ended (agent.ts warmUp): `done` false when
   * a sync stopped it (it runs again after that sync, a few times at most);
   * `rehearsed` the kinds of change it rehearsed so far, `judged` the kinds
   * of version it judged only (a node's: other hosts' business).
   */
  'warmed-up': [{ done: boolean; ms: number; rehearsed: string[]; judged: string[] }];
  /**
   * What a CC's incremental DHCP left to do after its sync (a reload after
   * hosts were removed, the hosts file rewritten) failed; a full sync follows.
   */
  'dhcp-error': [Error];
  /**
   * The conntrack step of an incremental sync, run after the sync was
   * reported (off its path), failed; a full sync follows.
   */
  'conntrack-error': [Error];
  /**
   * The deletion of the taps an own-instance sync released (out of their
   * bridge, down: nc-sync.ts), run after the sync was reported, failed; a
   * full sync follows.
   */
  'release-error': [Error];
}

export interface AgentStatus {
  role: 'cc' | 'nc';
  node?: string;
  /** A CC's cluster (multi-cluster clouds). */
  cluster?: string;
  running: boolean;
  /** The state version applied, and when (ms since the epoch) it was first applied. */
  version?: string;
  appliedAt?: number;
  /** The last sync: when it ended, its result, duration and error. */
  lastSync?: { at: number; result: SyncResult['result']; ms: number; ops: number; error?: string };
}
