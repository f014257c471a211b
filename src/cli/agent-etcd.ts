// `eucanet agent --etcd URL`: what an agent on etcd adds to the command. Its
// status is published under a lease (EtcdPresence), etcd's reachability is
// logged once when it goes and once when it comes back (the sync lines that
// fail meanwhile, retried with backoff, are counted instead of printed), and
// it is in the metrics.
import type { Agent } from '../agent/agent.js';
import { EtcdPresence } from '../agent/etcd-presence.js';
import type { SyncResult } from '../agent/types.js';
import { ValidationError } from '../errors.js';
import type { Registry } from 'prom-client';
import type { EtcdStore } from '../store/etcd.js';
import type { Store } from '../store/types.js';

export type AgentLog = (event: string, fields: Record<string, unknown>, text: string) => void;

/** --host: the name the agent's status is published under (default the OS hostname). */
export function hostOption(text: string | undefined): string | undefined {
  if (text !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(text)) {
    throw new ValidationError('--host', text, 'expected a host name of letters, digits, ".", "_", "-"');
  }
  return text;
}

const isEtcd = (s: Store): s is EtcdStore => 'client' in s && 'cloud' in s;

export interface AgentOnEtcd {
  presence: EtcdPresence;
  /** Whether a sync line should be printed (false for failed syncs while etcd is away: they are counted). */
  logSync(r: SyncResult): boolean;
}

/**
 * The presence of an agent on an etcd store (undefined for a file store:
 * nothing to publish); its metrics go into `registry` (the agent's, with
 * --metrics; without, none are kept and prom-client is not loaded).
 */
export function agentOnEtcd(store: Store, agent: Agent, registry: Registry | undefined, host: string | undefined, log: AgentLog): AgentOnEtcd | undefined {
  if (!isEtcd(store)) return undefined;
  let quiet = 0;
  const presence = new EtcdPresence(agent, {
    // The lease and the puts go over the store's lean channel when it has one (no user/password auth): etcd3 is never loaded.
    client: () => store.client,
    ...(store.fullReads ? { lean: store.fullReads } : {}),
    cloud: store.cloud,
    ...(host !== undefined ? { host } : {}),
    ...(registry ? { registry } : {}),
    log: {
      lost: (why) =>
        log(
          'etcd-lost',
          { etcd: store.urls, why },
          `etcd ${store.urls.join(',')} unreachable (${why ?? 'no answer'}): the network is kept as it is; retrying with backoff`,
        ),
      back: (ms, newLease) => {
        const extra = quiet ? `; ${quiet} failed syncs meanwhile not logged` : '';
        log(
          'etcd-back',
          { etcd: store.urls, awayMs: ms, newLease, unloggedSyncs: quiet },
          `etcd ${store.urls.join(',')} reachable again after ${(ms / 1000).toFixed(1)} s; status re-published${newLease ? ' under a new lease' : ''}${extra}`,
        );
        quiet = 0;
        // A change made while away is caught by the watch (it resumes from its
        // revision, no full re-read); a sync that failed meanwhile is retried
        // now instead of after the rest of its backoff.
        if (agent.status.lastSync?.result === 'error') void agent.sync('retry').catch(() => undefined);
      },
    },
  });
  log('etcd-status', { key: presence.publisher.key }, `status published at ${presence.publisher.key} under a lease`);
  // The store's watch and the incremental check's indexes wait for the first sync's status: nothing is missed,
  // the watch starts from the revision read. At most 2 s after the first sync ended (a status put that does not
  // go through), or FIRST_SYNC_MAX_MS after the start: a timer from the start would fall in a slow first sync.
  if (store.fullReads) store.holdWatch(firstStatus(agent, presence));
  // The watch's revision was compacted while it was away: the state is read whole again (once per event).
  store.on('watch-resync', (reason) => log('etcd-resync', { reason }, `the watch could not resume (${reason}): reading the whole state again`));
  return {
    presence,
    logSync: (r) => {
      if (r.result !== 'error' || presence.publisher.reachable !== false) return true;
      quiet++;
      return false;
    },
  };
}

/** Past this, the store's watch starts even if the first sync has not ended. */
const FIRST_SYNC_MAX_MS = 30_000;

/** Resolves when the first sync's status is published, 2 s after that sync ended, or FIRST_SYNC_MAX_MS after now. */
function firstStatus(agent: Agent, presence: EtcdPresence): Promise<void> {
  return new Promise<void>((resolve) => {
    const timers = [setTimeout(() => done(), FIRST_SYNC_MAX_MS).unref()];
    const synced = () => timers.push(setTimeout(() => done(), 2000).unref());
    const published = (s: { syncAt?: number }) => {
      if (s.syncAt !== undefined) done();
    };
    const done = () => {
      for (const t of timers) clearTimeout(t);
      presence.publisher.off('published', published);
      agent.off('sync', synced);
      resolve();
    };
    presence.publisher.on('published', published);
    agent.once('sync', synced);
  });
}
