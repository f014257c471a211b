// A throw-away etcd for tests: a local etcd (src/demo/etcd-process.ts) with
// its data in a temporary directory that is removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalEtcd } from '../../src/demo/etcd-process.js';

export const ETCD_BIN = process.env.EUCANET_ETCD ?? '/usr/bin/etcd';

export interface TestEtcd {
  /** The client URL, http://127.0.0.1:PORT. */
  url: string;
  dataDir: string;
  /** The process's output so far, for failure messages. */
  log(): string;
  /** Stops etcd (SIGTERM, or the signal given) and waits for it to exit; the data stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data (after stop()). */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** Starts an etcd on loopback; call destroy() (withEtcd does) whatever happens. */
export async function startEtcd(opts: { args?: string[] } = {}): Promise<TestEtcd> {
  const dataDir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-'));
  try {
    const etcd = await startLocalEtcd({ name: 'test', dataDir, logLevel: 'warn', args: opts.args });
    return {
      url: etcd.url,
      dataDir,
      log: etcd.log,
      stop: etcd.stop,
      start: etcd.start,
      destroy: async () => {
        await etcd.stop('SIGKILL');
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** Runs `fn` with a fresh etcd, destroyed afterwards whatever happens. */
export async function withEtcd<T>(fn: (etcd: TestEtcd) => Promise<T>, opts?: { args?: string[] }): Promise<T> {
  const etcd = await startEtcd(opts);
  try {
    return await fn(etcd);
  } finally {
    await etcd.destroy();
  }
}
