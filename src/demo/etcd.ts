// The demo's own etcd (`eucanet demo --store etcd`): a local etcd
// (etcd-process.ts) with its data in the demo's run directory, so that
// removing the demo removes it (and `demo down` finds it by its data
// directory).
import { rmSync } from 'node:fs';
import { etcdProgram, startLocalEtcd } from './etcd-process.js';
import { DEMO_ETCD_DIR } from './rundir.js';

export interface DemoEtcd {
  url: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
}

/** Starts the demo's etcd and waits until it is healthy; `spawned` gets its pid at once (to record it). */
export async function startDemoEtcd(spawned: (pid: number) => void, timeoutMs = 20_000): Promise<DemoEtcd> {
  if (!etcdProgram()) throw new Error('the demo with --store etcd needs etcd: apt-get install etcd-server');
  rmSync(DEMO_ETCD_DIR, { recursive: true, force: true });
  // A big demo (--instances) is imported in one transaction: etcd's defaults (128 ops, 1.5 MiB) are too small for it.
  const args = ['--max-txn-ops', '65536', '--max-request-bytes', String(64 * 1024 * 1024)];
  let pid = 0;
  const onSpawn = (p: number) => {
    pid = p;
    spawned(p);
  };
  const etcd = await startLocalEtcd({ name: 'demo', dataDir: DEMO_ETCD_DIR, args, detached: true, timeoutMs, onSpawn }).catch((err: Error) => {
    rmSync(DEMO_ETCD_DIR, { recursive: true, force: true });
    throw new Error(`the demo's etcd: ${err.message}`);
  });
  return {
    url: etcd.url,
    pid,
    stop: async () => {
      await etcd.stop();
      rmSync(DEMO_ETCD_DIR, { recursive: true, force: true });
    },
  };
}
