// The agent's Prometheus metrics (prom-client: the exposition format is its
// business), kept in a registry of the agent's own so that several agents in
// one process do not mix, and served on /metrics by a small HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ValidationError } from '../errors.js';
import type { Agent } from './agent.js';
import type { SyncResult } from './types.js';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly syncs = new Counter({
    name: 'eucanet_agent_syncs_total',
    help: 'Syncs, by what triggered them (the first of those coalesced) and how they ended (ok, invalid, error).',
    labelNames: ['trigger', 'result'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'eucanet_agent_sync_duration_seconds',
    help: 'How long a sync took: read the state, reconcile, DHCP.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly ops = new Counter({ name: 'eucanet_agent_ops_applied_total', help: 'Mutating ops sent to the kernel.', registers: [this.registry] });
  private readonly repairs = new Counter({
    name: 'eucanet_agent_drift_repairs_total',
    help: 'Syncs triggered by drift that changed something (a repair).',
    registers: [this.registry],
  });
  private readonly driftEvents = new Counter({
    name: 'eucanet_agent_drift_signals_total',
    help: 'Drift signals heard (kind drift or resync), before coalescing.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly applied = new Gauge({
    name: 'eucanet_agent_applied_state_info',
    help: 'The state version applied (label version); the value is 1.',
    labelNames: ['version'] as const,
    registers: [this.registry],
  });
  private readonly appliedAt = new Gauge({
    name: 'eucanet_agent_applied_state_timestamp_seconds',
    help: 'When the applied state version was first applied (Unix time).',
    registers: [this.registry],
  });
  private readonly dnsmasqRestarts = new Counter({
    name: 'eucanet_agent_dnsmasq_restarts_total',
    help: "The CC's dnsmasq found dead and restarted.",
    registers: [this.registry],
  });
  private readonly invalid = new Counter({
    name: 'eucanet_agent_invalid_states_total',
    help: 'State versions that failed validation and were ignored.',
    registers: [this.registry],
  });
  private readonly lastError = new Gauge({
    name: 'eucanet_agent_last_sync_failed',
    help: '1 when the last sync failed (it is being retried), else 0.',
    registers: [this.registry],
  });
  private version?: string;

  constructor(agent: Agent) {
    agent.on('sync', (r) => this.onSync(r));
    agent.on('drift', (s) => this.driftEvents.inc({ kind: s.kind }));
    agent.on('dnsmasq-exit', () => this.dnsmasqRestarts.inc());
  }

  private onSync(r: SyncResult): void {
    this.syncs.inc({ trigger: r.trigger, result: r.result });
    this.duration.observe(r.ms / 1000);
    this.ops.inc(r.ops);
    if (r.triggers.includes('drift') && r.ops > 0) this.repairs.inc();
    if (r.invalid) this.invalid.inc();
    this.lastError.set(r.result === 'error' ? 1 : 0);
    if (r.version !== undefined && r.version !== this.version) {
      this.applied.reset();
      this.applied.set({ version: r.version }, 1);
      this.appliedAt.set(Date.now() / 1000);
      this.version = r.version;
    }
  }
}

/** "HOST:PORT" ("127.0.0.1:9100", "[::1]:9100", ":9100" for every address), checked. */
export function parseListen(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ValidationError('--metrics', text, 'expected HOST:PORT, e.g. 127.0.0.1:9100 (port 0: any free one)');
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}

/** Serves the registry's text on GET /metrics; resolves with the bound address once listening. */
export async function serveMetrics(registry: Registry, listen: { host?: string; port: number }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return { server, url: `http://${host}:${a.port}/metrics` };
}
