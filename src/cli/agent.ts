// eucanet agent: the per-host daemon, a thin shell over the Agent class. It
// logs one line per sync (JSON with --json) on stdout, serves /metrics when
// asked, resyncs on SIGHUP, and on SIGTERM or SIGINT stops and exits 0,
// leaving the network (and dnsmasq) as they are.
import type { Server } from 'node:http';
import { Agent } from '../agent/agent.js';
import { StoreSource } from '../agent/store-source.js';
import { formatSync } from '../agent/log.js';
import { minorGc } from '../agent/idle-gc.js';
import { ValidationError } from '../errors.js';
import { lowerHelperThreads } from '../sys/helper-threads.js';
import { spreadTierUp } from '../sys/tier-up.js';
import { roleOf } from './apply.js';
import type { CliValues } from './commands.js';
import { EXIT_OK } from './output.js';
import { openStore } from './store-options.js';
import { agentOnEtcd, hostOption } from './agent-etcd.js';

function resyncSeconds(v: CliValues): number {
  if (v.resync === undefined) return 300;
  const n = Number(v.resync);
  if (!/^\d+(\.\d+)?$/.test(v.resync) || !Number.isFinite(n) || n > 86_400 * 7) {
    throw new ValidationError('--resync', v.resync, 'expected seconds between full resyncs (0 for none, at most a week)');
  }
  return n;
}

/**
 * How much higher than its main thread's the nice value of the agent's helper
 * threads is (V8's compiler and garbage collector helpers:
 * sys/helper-threads.ts); its main thread and libuv's pool keep the
 * process's own.
 */
export const HELPER_THREADS_NICE = 10;

export async function agentCmd(v: CliValues): Promise<number> {
  // Before anything starts libuv's pool (the store's DNS lookup, the addon's kernel work), which must keep the main thread's priority.
  lowerHelperThreads(HELPER_THREADS_NICE);
  // Where V8 optimises its functions, drawn for this agent: a fleet hearing the same versions does not compile the same function in the same one.
  const budget = spreadTierUp();
  // A SIGTERM from here on is a clean stop, never the default kill.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  // SIGHUP before the agent exists is ignored (its first sync is a full one anyway).
  const hup: { agent?: Agent } = {};
  process.on('SIGHUP', () => void hup.agent?.sync('sighup').catch(() => undefined));
  const role = roleOf(v);
  const resync = resyncSeconds(v);
  // prom-client (60 to 80 ms to load) only with --metrics: an agent's cold start does not pay for metrics nobody reads.
  const metricsModule = v.metrics !== undefined ? await import('../agent/metrics.js') : undefined;
  const listen = v.metrics !== undefined ? metricsModule?.parseListen(v.metrics) : undefined;
  const host = hostOption(v.host);
  if (host !== undefined && v.etcd === undefined) throw new ValidationError('--host', host, 'only with --etcd (the name of the status it publishes)');
  const store = await openStore(v, { prefetch: true });
  const name = role.role === 'cc' ? (role.cluster !== undefined ? `cc ${role.cluster}` : 'cc') : `nc ${role.node}`;
  const json = !!v.json;
  const log = (event: string, fields: Record<string, unknown>, text: string) =>
    process.stdout.write(`${json ? JSON.stringify({ time: new Date().toISOString(), event, role: name, ...fields }) : `eucanet agent ${name}: ${text}`}\n`);

  const source = new StoreSource(store);
  // On etcd the warm-up waits until the first sync's status is in etcd (at most 1 s): its CPU would hold back that put.
  let statusPut: (() => Promise<void>) | undefined;
  const agent = new Agent({
    role,
    onIdle: minorGc(),
    ...(v.netns !== undefined ? { netns: v.netns } : {}),
    source,
    resyncSeconds: resync,
    warmUp: () => statusPut?.() ?? Promise.resolve(),
  });
  hup.agent = agent;
  const metrics = metricsModule ? new metricsModule.AgentMetrics(agent) : undefined;
  const onEtcd = agentOnEtcd(store, agent, metrics?.registry, host, log);
  if (onEtcd) statusPut = () => onEtcd.presence.publisher.whenPut(1000);
  agent.on('sync', (r) => {
    if (!onEtcd || onEtcd.logSync(r)) process.stdout.write(`${formatSync(r, json, name)}\n`);
  });
  agent.on('warmed-up', (w) =>
    log(
      'warmed-up',
      { ...w, interruptBudget: budget ?? null },
      `warm-up ${w.done ? 'done' : 'stopped by a sync'} in ${w.ms} ms (rehearsed: ${w.rehearsed.join(', ') || 'nothing'}; judged: ${w.judged.join(', ') || 'nothing'}; V8's interrupt budget ${budget ?? 'as given'})`,
    ),
  );
  agent.on('dnsmasq-exit', (pid) => log('dnsmasq-exit', { pid }, `dnsmasq (pid ${pid}) is gone: restarting it`));
  agent.on('conntrack-error', (err) =>
    log('conntrack-error', { error: err.message.split('\n')[0] }, `conntrack after the sync failed: ${err.message.split('\n')[0]}; a full sync follows`),
  );
  agent.on('release-error', (err) =>
    log(
      'release-error',
      { error: err.message.split('\n')[0] },
      `deleting the released taps after the sync failed: ${err.message.split('\n')[0]}; a full sync follows`,
    ),
  );
  agent.on('dhcp-error', (err) =>
    log('dhcp-error', { error: err.message.split('\n')[0] }, `DHCP after the sync failed: ${err.message.split('\n')[0]}; a full sync follows`),
  );
  let server: Server | undefined;
  if (listen && metricsModule && metrics) {
    const s = await metricsModule.serveMetrics(metrics.registry, listen);
    server = s.server;
    log('metrics', { url: s.url }, `metrics on ${s.url}`);
  }
  // The status first (not converged), then the first sync (a signal during it stops too: stop() waits for it, briefly).
  void onEtcd?.presence.start();
  await Promise.race([agent.start(), stopped]);
  const signal = await stopped;
  await agent.stop(800);
  // A clean stop revokes the status's lease: the host leaves `eucanet status` at once.
  await onEtcd?.presence.stop(true);
  await source.store.close();
  server?.close();
  server?.closeAllConnections();
  log('stopped', { signal }, `stopped (${signal}); the network is left as it is`);
  // Nothing of ours should keep the process; should anything linger, do not wait for it.
  setTimeout(() => process.exit(EXIT_OK), 200).unref();
  return EXIT_OK;
}
