// An agent on etcd, seen from outside: its status published under a lease
// (StatusPublisher), and whether etcd is reachable, as metrics (a gauge, a
// counter of reconnects) and as log events: one when etcd goes, one when it
// comes back, never one per retry.
//
// prom-client (60 to 80 ms to load here) is loaded only when a registry is
// given: an agent without --metrics has no use for it, and its cold start
// should not pay for it.
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import type { Agent } from './agent.js';
import { StatusPublisher, type StatusPublisherOptions } from './status-publisher.js';

export interface PresenceLog {
  /** etcd stopped answering (why): the data plane is kept as it is. */
  lost(why: string | undefined): void;
  /** etcd answers again, after `ms` away. */
  back(ms: number, newLease: boolean): void;
}

export class EtcdPresence {
  readonly publisher: StatusPublisher;
  private downSince?: number;
  private newLease = false;

  constructor(agent: Agent, opts: StatusPublisherOptions & { registry?: Registry; log?: PresenceLog }) {
    this.publisher = new StatusPublisher(agent, opts);
    const metrics = opts.registry ? presenceMetrics(opts.registry) : undefined;
    this.publisher.on('new-lease', () => (this.newLease = true));
    this.publisher.on('reachable', (up, why) => {
      metrics?.reachable.set(up ? 1 : 0);
      if (!up) {
        this.downSince = Date.now();
        opts.log?.lost(why);
        return;
      }
      if (this.downSince === undefined) return;
      metrics?.reconnects.inc();
      opts.log?.back(Date.now() - this.downSince, this.newLease);
      this.downSince = undefined;
      this.newLease = false;
    });
  }

  start(): Promise<void> {
    return this.publisher.start();
  }

  stop(revoke = true): Promise<void> {
    return this.publisher.stop(revoke);
  }
}

/** The presence's metrics in `registry` (prom-client loaded now, not at the module's load). */
function presenceMetrics(registry: Registry) {
  const { Counter, Gauge } = createRequire(import.meta.url)('prom-client') as typeof import('prom-client');
  const registers = [registry];
  return {
    reachable: new Gauge({
      name: 'eucanet_agent_store_reachable',
      help: "1 while etcd answers the agent (its status puts and its lease's keep-alives), 0 while it does not.",
      registers,
    }),
    reconnects: new Counter({
      name: 'eucanet_agent_store_reconnects_total',
      help: 'Times etcd answered again after it had stopped answering.',
      registers,
    }),
  };
}
