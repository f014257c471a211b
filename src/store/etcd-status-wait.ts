// Waiting for a cloud to converge: a watch on the cloud's prefix (state and
// status keys) re-judges the hosts after each change, no polling. Resolves
// with the last status read and whether every host converged in time.
import type { Etcd3 } from 'etcd3';
import { prefixOf } from './etcd-layout.js';
import { readCloudStatus, type CloudStatus } from './etcd-status.js';

/** Every host converged (and there is at least one). */
export const allConverged = (s: CloudStatus) => s.hosts.length > 0 && s.hosts.every((h) => h.converged);

/** Why a cloud is not converged: one phrase per host (or that there are none). */
export function notConverged(s: CloudStatus): string[] {
  if (s.hosts.length === 0) return ['no agent has published its status'];
  return s.hosts
    .filter((h) => !h.converged)
    .map((h) => {
      if (h.error !== null) return `${h.host} (error: ${h.error})`;
      if (h.revision === null) return `${h.host} (no revision applied yet)`;
      return `${h.host} (revision ${h.revision} < ${s.revision})`;
    });
}

/**
 * Watches the cloud until `done` holds (default: every host converged) or
 * `timeoutMs` passes. Reads once at the start, then once after each burst of
 * watch events (one read in flight, one pending).
 */
export async function waitForStatus(
  client: Etcd3,
  cloud: string,
  timeoutMs: number,
  done: (s: CloudStatus) => boolean = allConverged,
): Promise<{ status: CloudStatus; ok: boolean }> {
  const watcher = await client.watch().prefix(prefixOf(cloud)).create();
  let last: CloudStatus | undefined;
  let reading = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise((resolve, reject) => {
      const check = async (): Promise<void> => {
        if (reading) {
          again = true;
          return;
        }
        reading = true;
        try {
          do {
            again = false;
            last = await readCloudStatus(client, cloud);
            if (done(last)) return resolve({ status: last, ok: true });
          } while (again);
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        } finally {
          reading = false;
        }
      };
      watcher.on('data', () => void check());
      // A watch that reconnects may have missed events: read again.
      watcher.on('connected', () => void check());
      timer = setTimeout(() => {
        if (last) resolve({ status: last, ok: false });
        else readCloudStatus(client, cloud).then((s) => resolve({ status: s, ok: done(s) }), reject);
      }, timeoutMs);
      void check();
    });
  } finally {
    clearTimeout(timer);
    await watcher.cancel().catch(() => undefined);
  }
}
