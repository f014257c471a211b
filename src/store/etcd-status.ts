// Agents' status in etcd: what each host publishes under
// /eucanet/<cloud>/status/<host> (a JSON value, under the agent's lease so
// that a dead agent's entry disappears), and how `eucanet status` reads it
// back and judges convergence against the cloud's state revision.
//
// The cloud's state revision is the newest ModRevision under the state prefix
// (the layout's `deleted` key is bumped by every write that deletes keys, so a
// deletion counts too). It is not etcd's header revision: status puts move
// that one, and they are not changes of the cloud's state.
import type { Etcd3, IKeyValue } from 'etcd3';
import { statePrefix, statusPrefix } from './etcd-layout.js';

/** What an agent publishes about itself (the value of its status key). */
export interface HostStatus {
  host: string;
  role: 'cc' | 'nc';
  node?: string;
  /** A CC's cluster (multi-cluster clouds). */
  cluster?: string;
  /** The state revision applied (the store's version), absent before the first good sync. */
  revision?: number;
  /** The last sync: when it ended (ms since the epoch, the agent's clock), its result, duration, ops, error. */
  syncAt?: number;
  result?: 'ok' | 'invalid' | 'error';
  syncMs?: number;
  ops?: number;
  error?: string;
  /** The agent's own judgement: its last sync applied the newest state it read, without error. */
  converged: boolean;
  pid: number;
  /** When the agent started (ms since the epoch). */
  startedAt: number;
}

/** One host as `eucanet status` shows it (the keys of `--json`'s hosts). */
export interface StatusRow {
  host: string;
  role: 'cc' | 'nc';
  node?: string;
  cluster?: string;
  /** The revision it applied (null: none yet). */
  revision: number | null;
  /** revision >= the cloud's state revision, and no error. */
  converged: boolean;
  syncMs: number | null;
  error: string | null;
  /** How long ago etcd last heard from the agent (its lease's last keep-alive or grant), 1 s resolution. */
  seenMsAgo: number | null;
  syncAt: number | null;
  result: string | null;
}

export interface CloudStatus {
  /** The cloud's state revision (0: no state). */
  revision: number;
  hosts: StatusRow[];
}

export const statusKey = (cloud: string, host: string) => `${statusPrefix(cloud)}${host}`;

/** The revision as a number: the store's version is etcd's revision in decimal. */
export function revisionOf(version: string | undefined): number | undefined {
  return version !== undefined && /^\d+$/.test(version) ? Number(version) : undefined;
}

/** The cloud's state revision: the newest ModRevision under the state prefix; 0 when there is no state. */
export async function stateRevision(client: Etcd3, cloud: string): Promise<number> {
  const res = await client.getAll().prefix(statePrefix(cloud)).sort('Mod', 'Descend').limit(1).exec();
  const kv = res.kvs[0];
  return kv ? Number(kv.mod_revision) : 0;
}

/** A status value, checked enough to be shown; undefined for one that is not ours (the key is named in the warning). */
export function parseStatus(kv: { value: Buffer | string }): HostStatus | undefined {
  try {
    const v = JSON.parse(typeof kv.value === 'string' ? kv.value : kv.value.toString('utf8')) as Partial<HostStatus>;
    if (typeof v !== 'object' || v === null || typeof v.host !== 'string' || (v.role !== 'cc' && v.role !== 'nc')) return undefined;
    return v as HostStatus;
  } catch {
    return undefined;
  }
}

/** How long ago (ms) etcd last renewed this lease: its granted TTL minus what is left (1 s resolution). */
async function leaseAge(client: Etcd3, lease: string): Promise<number | null> {
  if (lease === '0') return null;
  try {
    const r = await client.leaseClient.leaseTimeToLive({ ID: lease });
    const ttl = Number(r.TTL);
    if (ttl < 0) return null;
    return Math.max(0, Number(r.grantedTTL) - ttl) * 1000;
  } catch {
    return null;
  }
}

/** Judges one host against the cloud's revision. */
export function rowOf(s: HostStatus, cloudRevision: number, seenMsAgo: number | null): StatusRow {
  const revision = s.revision ?? null;
  const error = s.error ?? null;
  const row: StatusRow = {
    host: s.host,
    role: s.role,
    revision,
    converged: revision !== null && revision >= cloudRevision && error === null && s.result !== 'error',
    syncMs: s.syncMs ?? null,
    error,
    seenMsAgo,
    syncAt: s.syncAt ?? null,
    result: s.result ?? null,
  };
  if (s.node !== undefined) row.node = s.node;
  if (s.cluster !== undefined) row.cluster = s.cluster;
  return row;
}

/** The status keys as they are now (with the etcd header revision they were read at). */
export async function readStatusKeys(client: Etcd3, cloud: string): Promise<{ kvs: IKeyValue[]; header: number }> {
  const res = await client.getAll().prefix(statusPrefix(cloud)).exec();
  return { kvs: res.kvs, header: Number(res.header.revision) };
}

/** Every host's status, judged against the cloud's state revision, sorted by host. */
export async function readCloudStatus(client: Etcd3, cloud: string): Promise<CloudStatus> {
  const revision = await stateRevision(client, cloud);
  const { kvs } = await readStatusKeys(client, cloud);
  const hosts = await Promise.all(
    kvs.map(async (kv) => {
      const s = parseStatus(kv);
      return s ? rowOf(s, revision, await leaseAge(client, kv.lease)) : undefined;
    }),
  );
  return { revision, hosts: hosts.filter((h): h is StatusRow => h !== undefined).sort((a, b) => a.host.localeCompare(b.host)) };
}
