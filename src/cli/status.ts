// eucanet status --etcd URL [--cloud NAME] [--json] [--wait [--timeout S]]:
// every host's agent as it published itself in etcd, judged against the
// cloud's state revision. --wait watches until every host has converged
// (exit 0) or the timeout passes (exit 1, naming the hosts that have not).
import type { Etcd3 } from 'etcd3';
import { ValidationError } from '../errors.js';
import { readCloudStatus, type CloudStatus, type StatusRow } from '../store/etcd-status.js';
import { allConverged, notConverged, waitForStatus } from '../store/etcd-status-wait.js';
import type { CliValues } from './commands.js';
import { connectEtcd } from '../store/etcd-client.js';
import { EXIT_FAIL, EXIT_OK, UsageError } from './output.js';
import { etcdOptionsOf } from './store-options.js';

/** --timeout: seconds, default 60. */
function timeoutMs(v: CliValues): number {
  if (v.timeout === undefined) return 60_000;
  const n = Number(v.timeout);
  if (!/^\d+(\.\d+)?$/.test(v.timeout) || n > 86_400) throw new ValidationError('--timeout', v.timeout, 'expected seconds to wait (at most a day)');
  return n * 1000;
}

const ago = (ms: number | null) => (ms === null ? '-' : ms < 1000 ? `${ms} ms ago` : `${Math.round(ms / 1000)} s ago`);
const clock = (t: number | null) => (t === null ? '-' : new Date(t).toISOString().slice(11, 23));

/** The status as a table for people. */
export function formatStatus(s: CloudStatus, cloud: string): string {
  const head = ['HOST', 'ROLE', 'NODE', 'REVISION', 'CONVERGED', 'LAST SYNC', 'SYNC MS', 'SEEN', 'ERROR'];
  const rows = s.hosts.map((h: StatusRow) => [
    h.host,
    h.role,
    h.node ?? (h.cluster !== undefined ? `cluster ${h.cluster}` : '-'),
    h.revision === null ? '-' : String(h.revision),
    h.converged ? 'yes' : 'no',
    clock(h.syncAt),
    h.syncMs === null ? '-' : String(h.syncMs),
    ago(h.seenMsAgo),
    h.error ?? '-',
  ]);
  const widths = head.map((_, i) => Math.max(head[i].length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const converged = s.hosts.filter((h) => h.converged).length;
  const title = `cloud ${cloud}: state revision ${s.revision}; ${converged}/${s.hosts.length} hosts converged`;
  return [title, ...(rows.length ? [line(head), ...rows.map(line)] : ['(no agent has published its status)'])].join('\n') + '\n';
}

async function report(client: Etcd3, v: CliValues, cloud: string): Promise<number> {
  if (!v.wait) {
    const s = await readCloudStatus(client, cloud);
    process.stdout.write(v.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s, cloud));
    return EXIT_OK;
  }
  const limit = timeoutMs(v);
  const { status, ok } = await waitForStatus(client, cloud, limit, allConverged);
  process.stdout.write(v.json ? `${JSON.stringify({ ...status, converged: ok }, null, 2)}\n` : formatStatus(status, cloud));
  if (ok) return EXIT_OK;
  process.stderr.write(`eucanet: not converged after ${limit / 1000} s at state revision ${status.revision}: ${notConverged(status).join(', ')}\n`);
  return EXIT_FAIL;
}

export async function statusCmd(v: CliValues): Promise<number> {
  if (v.timeout !== undefined && !v.wait) throw new ValidationError('--timeout', v.timeout, 'only with --wait');
  timeoutMs(v);
  if (v.etcd === undefined) throw new UsageError('missing --etcd URL (the etcd the agents publish their status in)');
  const opts = await etcdOptionsOf(v);
  const cloud = opts.cloud ?? 'default';
  const client = connectEtcd(opts);
  try {
    return await report(client, v, cloud);
  } finally {
    client.close();
  }
}
