// A throw-away etcd for tests: Debian's etcd-server on loopback, on free
// ports, with its data in a temporary directory that is removed at the end.
// Never assumes 2379 is free; never touches an etcd it did not start.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function healthy(url: string, deadline: number, proc: ChildProcess, log: () => string): Promise<void> {
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`etcd exited early:\n${log()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd at ${url} not healthy within the timeout:\n${log()}`);
}

/** Starts an etcd on loopback; call destroy() (withEtcd does) whatever happens. */
export async function startEtcd(opts: { args?: string[] } = {}): Promise<TestEtcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-'));
  const args = [
    '--name',
    'test',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `test=${peer}`,
    '--log-level',
    'warn',
    ...(opts.args ?? []),
  ];
  let out = '';
  let proc: ChildProcess | undefined;
  const log = () => out.slice(-4000);
  const start = async () => {
    const p = spawn(ETCD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    proc = p;
    await healthy(url, Date.now() + 15_000, p, log);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await exited;
  };
  try {
    await start();
  } catch (err) {
    await stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    dataDir,
    log,
    stop,
    start,
    destroy: async () => {
      await stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
