// The demo's own etcd (`eucanet demo --store etcd`): Debian's etcd-server on
// loopback, on free ports (never 2379 by assumption: a system etcd may be
// there), with its data in the demo's run directory, so that removing the
// demo removes it (and `demo down` finds it by its data directory).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { findProgram } from '../dhcp/proc.js';
import { DEMO_ETCD_DIR } from './rundir.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface DemoEtcd {
  url: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
}

/** Starts the demo's etcd and waits until it is healthy; `spawned` gets its pid at once (to record it). */
export async function startDemoEtcd(spawned: (pid: number) => void, timeoutMs = 20_000): Promise<DemoEtcd> {
  const bin = process.env.EUCANET_ETCD ?? findProgram('etcd');
  if (!bin) throw new Error('the demo with --store etcd needs etcd: apt-get install etcd-server');
  rmSync(DEMO_ETCD_DIR, { recursive: true, force: true });
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const args = ['--name', 'demo', '--data-dir', DEMO_ETCD_DIR, '--listen-client-urls', url, '--advertise-client-urls', url];
  args.push('--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `demo=${peerUrl}`, '--log-level', 'error');
  // A big demo (--instances) is imported in one transaction: etcd's defaults (128 ops, 1.5 MiB) are too small for it.
  args.push('--max-txn-ops', '65536', '--max-request-bytes', String(64 * 1024 * 1024));
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-2000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(DEMO_ETCD_DIR, { recursive: true, force: true });
  };
  if (child.pid === undefined) throw new Error(`etcd could not start: ${err}`);
  spawned(child.pid);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`the demo's etcd exited at start: ${err.trim().split('\n').pop() ?? ''}`);
    }
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the demo's etcd at ${url} not healthy within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.unref();
  return { url, pid: child.pid, stop };
}
