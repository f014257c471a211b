// An agent on etcd, seen from outside: its status published under a lease
// (StatusPublisher), and whether etcd is reachable, as metrics (a gauge, a
// counter of reconnects) and as log events: one when etcd goes, one when it
// comes back, never one per retry.
import { Counter, Gauge, type Registry } from 'prom-client';
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
    const registers = opts.registry ? [opts.registry] : [];
    const reachable = new Gauge({
      name: 'eucanet_agent_store_reachable',
      help: "1 while etcd answers the agent (its status puts and its lease's keep-alives), 0 while it does not.",
      registers,
    });
    const reconnects = new Counter({
      name: 'eucanet_agent_store_reconnects_total',
      help: 'Times etcd answered again after it had stopped answering.',
      registers,
    });
    this.publisher.on('new-lease', () => (this.newLease = true));
    this.publisher.on('reachable', (up, why) => {
      reachable.set(up ? 1 : 0);
      if (!up) {
        this.downSince = Date.now();
        opts.log?.lost(why);
        return;
      }
      if (this.downSince === undefined) return;
      reconnects.inc();
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
