// What the demo's checks share: the row they report, the context they run
// in (the state, the responders in the namespaces, the leases), and helpers.
import type { ManagedCloud } from '../managed/cloud.js';
import { groupKey, type AllocatedGroup, type AllocatedInstance, type AllocatedState } from '../managed/types.js';
import type { ConnectResult } from './responder.js';
import type { Responder } from './responders.js';
import type { DhcpLease } from './dhcp-client.js';
import { instanceNetns, type Hosts } from './topology.js';
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

export interface CheckContext {
  state: AllocatedState;
  /** The seed's eight instances (they have namespaces and responders), by id. */
  sample: Map<string, AllocatedInstance>;
  responders: Map<string, Responder>;
  leases: Map<string, DhcpLease>;
  hosts: Hosts;
  cloud: ManagedCloud;
  leaseFile: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  group(i: AllocatedInstance): AllocatedGroup {
    return must(
      this.c.state.groups.find((g) => groupKey(g) === i.group),
      `group ${i.group}`,
    );
  }
}
