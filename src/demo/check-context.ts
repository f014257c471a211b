// What the demo's checks share: the row they report, the context they run
// in (the state, the responders in the namespaces, the leases), and helpers.
import { groupKey, type AllocatedGroup, type AllocatedInstance, type AllocatedState } from '../managed/types.js';
import type { Controller } from './control.js';
import type { ConnectResult } from './responder.js';
import type { Responder } from './responders.js';
import type { DhcpLease } from './dhcp-client.js';
import { clusterOfInstance, instanceNetns, type DemoCluster, type Hosts } from './topology.js';
import { must } from '../util/must.js';

export interface CheckRow {
  name: string;
  expected: string;
  observed: string;
  pass: boolean;
}

/** Ports the responders listen on in euca-pub and euca-cc. */
export const PEER_PORT = 7000;
export const PUB_UDP_PORT = 7001;
export const CC_UDP_PORT = 7002;
/** Instances answer datagrams on this port with their id; euca-pub streams to it from MOVE_SPORT (check 10). */
export const MOVE_UDP_PORT = 7005;
export const MOVE_SPORT = 47005;

/** How long a connection may go unanswered before it counts as dropped. */
export const DROP_MS = 1000;

/**
 * How long an operation may take to be enforced (the agents' sync included),
 * and drift to be repaired: generous, for the VLAN lane's emulated VM; the
 * times themselves are reported.
 */
export const ENFORCE_MS = 30_000;

export interface CheckContext {
  state: AllocatedState;
  /** The seed's eight instances and the other clusters' (they have namespaces and responders), by id. */
  sample: Map<string, AllocatedInstance>;
  /** The clusters (one unless --clusters 2), in the state's order. */
  clusters: DemoCluster[];
  responders: Map<string, Responder>;
  leases: Map<string, DhcpLease>;
  hosts: Hosts;
  /** The cloud controller: the store and the agents, or --direct's ManagedCloud. */
  ctl: Controller;
  /** Each CC's dnsmasq lease file, by cluster name. */
  leaseFiles: Map<string, string>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Connects again and again until `done` says the result is the awaited one,
 * for at most `ms`: the result and when the try that gave it began
 * (performance.now()), or undefined. Each try waits `tryMs` at most; after a
 * try that timed out the wait doubles, up to `maxTryMs` (short tries find a
 * restored path soon after it is restored; longer ones still succeed on a
 * slow machine).
 */
export async function until(
  attempt: (tryMs: number) => Promise<ConnectResult>,
  done: (r: ConnectResult) => boolean,
  ms: number,
  tryMs = 300,
  maxTryMs = tryMs,
): Promise<{ r: ConnectResult; at: number; tries: number } | undefined> {
  const end = performance.now() + ms;
  for (let tries = 1, wait = tryMs; performance.now() < end; tries++) {
    const at = performance.now();
    const r = await attempt(wait);
    if (done(r)) return { r, at, tries };
    if (r.outcome === 'timeout') wait = Math.min(wait * 2, maxTryMs);
    else await sleep(5);
  }
  return undefined;
}

export function show(r: ConnectResult): string {
  switch (r.outcome) {
    case 'reply':
      return `"${r.data}" (${r.ms} ms)`;
    case 'timeout':
      return `no answer in ${r.ms} ms`;
    default:
      return `${r.outcome}${r.message ? ` ${r.message}` : ''} (${r.ms} ms)`;
  }
}

export class Ctx {
  constructor(readonly c: CheckContext) {}

  inst(n: number): AllocatedInstance {
    const i = this.c.sample.get(`i-${n}`);
    if (!i) throw new Error(`instance i-${n} is not in the demo`);
    return i;
  }

  responder(ns: string): Responder {
    const a = this.c.responders.get(ns);
    if (!a) throw new Error(`no responder in ${ns}`);
    return a;
  }

  of(n: number): Responder {
    return this.responder(instanceNetns(this.inst(n).id));
  }

  /** The cluster an instance runs in. */
  clusterOf(i: AllocatedInstance): DemoCluster {
    return clusterOfInstance(this.c.state, i);
  }

  /** The instances of cluster `index` (0-based) that have namespaces, in the state's order. */
  instancesIn(index: number): AllocatedInstance[] {
    return [...this.c.sample.values()].filter((i) => this.clusterOf(i).index === index);
  }

  group(i: AllocatedInstance): AllocatedGroup {
    return must(
      this.c.state.groups.find((g) => groupKey(g) === i.group),
      `group ${i.group}`,
    );
  }
}
