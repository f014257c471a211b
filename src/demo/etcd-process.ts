// One etcd on loopback, started and stopped by eucanet's own tooling (the
// demo, the tests, the benchmarks): Debian's etcd-server on free ports (never
// 2379 by assumption: a system etcd may be there) with its data in a
// directory the caller owns. Never touches an etcd it did not start.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { findProgram } from '../dhcp/proc.js';

export interface LocalEtcdOptions {
  /** The member's name (--name). */
  name: string;
  dataDir: string;
  /** etcd's --log-level (default error). */
  logLevel?: string;
  /** More flags, e.g. raised request limits. */
  args?: readonly string[];
  /** Started in its own process group, not waited for by this process (the demo's etcd outlives a `--keep`ing demo's client). */
  detached?: boolean;
  /** How long to wait for /health at each start (default 15 s). */
  timeoutMs?: number;
  /** Told the pid as soon as the process exists, before it is healthy (to record it). */
  onSpawn?: (pid: number) => void;
}

export interface LocalEtcd {
  /** The client URL, http://127.0.0.1:PORT. */
  url: string;
  /** The running process's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Its output so far (the last 4000 characters), for error messages. */
  log: () => string;
  /** Stops it (the signal given, default SIGTERM; SIGKILL after 3 s) and waits for its exit; the data stays. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
  /** Starts it again on the same ports and data (after stop()). */
  start: () => Promise<void>;
}

/** A TCP port on loopback that nobody listens on just now. */
export async function freePort(): Promise<number> {
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

/** etcd's binary: $EUCANET_ETCD, else `etcd` on the usual paths. */
export function etcdProgram(): string | undefined {
  return process.env.EUCANET_ETCD ?? findProgram('etcd');
}

const exitedOf = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;

async function healthy(url: string, p: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitedOf(p)) throw new Error(`etcd exited at start: ${log().trim().split('\n').pop() ?? ''}`);
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) })
      .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`etcd at ${url} not healthy within ${timeoutMs} ms: ${log().trim().split('\n').pop() ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts an etcd and waits until it is healthy; on a failed start it is stopped again and the error says why. */
export async function startLocalEtcd(o: LocalEtcdOptions): Promise<LocalEtcd> {
  const bin = etcdProgram();
  if (!bin) throw new Error('etcd not found: apt-get install etcd-server (or set EUCANET_ETCD)');
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const args = ['--name', o.name, '--data-dir', o.dataDir, '--listen-client-urls', url, '--advertise-client-urls', url];
  args.push('--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `${o.name}=${peerUrl}`);
  args.push('--log-level', o.logLevel ?? 'error', ...(o.args ?? []));
  let out = '';
  const log = () => out;
  let proc: ChildProcess | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const p = proc;
    proc = undefined;
    if (!p || exitedOf(p)) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const start = async () => {
    const p = spawn(bin, args, { stdio: ['ignore', o.detached ? 'ignore' : 'pipe', 'pipe'], detached: o.detached ?? false });
    const keep = (b: Buffer) => (out = (out + b.toString()).slice(-4000));
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    proc = p;
    if (p.pid === undefined) throw new Error(`etcd could not start: ${bin}`);
    o.onSpawn?.(p.pid);
    try {
      await healthy(url, p, o.timeoutMs ?? 15_000, log);
    } catch (err) {
      await stop('SIGKILL');
      throw err;
    }
    if (o.detached) p.unref();
  };
  await start();
  return {
    url,
    get pid() {
      return proc?.pid;
    },
    log,
    stop,
    start,
  };
}
