// The benchmarks' own etcd: Debian's etcd-server on loopback, on free ports,
// its data in a temporary directory removed by stop() (under `dir`: the
// system's temporary directory by default, a disk here; /dev/shm for a
// memory-backed one), limits raised so that a 5000-instance cloud is imported
// in one transaction.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../dist/demo/etcd-process.js';
import { atExit } from './at-exit.mjs';

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** Starts it and waits until it is healthy. @param {{ dir?: string }} [o] */
export async function startEtcd(o = {}) {
  const dir = mkdtempSync(join(o.dir || tmpdir(), 'eucanet-bench-etcd-'));
  const [c, p] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${c}`;
  const peer = `http://127.0.0.1:${p}`;
  const args = ['--name', 'b', '--data-dir', dir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', peer];
  args.push('--initial-advertise-peer-urls', peer, '--initial-cluster', `b=${peer}`, '--log-level', 'error', '--max-txn-ops', '65536');
  args.push('--max-request-bytes', String(64 << 20), '--quota-backend-bytes', String(4 * 1024 ** 3));
  const child = spawn(process.env.EUCANET_ETCD ?? '/usr/bin/etcd', args, { stdio: 'ignore' });
  // Ended, and its data removed, however this process ends (stop() first, normally).
  const kill = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const forget = atExit(kill);
  for (let i = 0; ; i++) {
    const ok = await globalThis
      .fetch(`${url}/health`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (i > 300 || child.exitCode !== null || child.signalCode !== null) {
      kill();
      forget();
      throw new Error(
        `etcd did not start (${child.exitCode !== null ? `exit status ${child.exitCode}` : child.signalCode ? `killed by ${child.signalCode}` : 'not healthy after 15 s'})`,
      );
    }
    await sleep(50);
  }
  return {
    url,
    /** etcd's process id (its CPU time is in /proc/PID/stat). */
    pid: child.pid,
    /** Ends it (also when it has ended already: a terminal's Ctrl-C reaches it too) and removes its data. */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
      forget();
    },
    /** etcd's gRPC bytes in and out so far, and its WAL fsyncs. */
    async traffic() {
      const text = await (await globalThis.fetch(`${url}/metrics`)).text();
      /** @param {string} name */
      const sum = (name) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
      return {
        in: sum('etcd_network_client_grpc_received_bytes_total'),
        out: sum('etcd_network_client_grpc_sent_bytes_total'),
        // Its write-ahead log's fsyncs so far: how many, and their seconds in all.
        fsyncs: sum('etcd_disk_wal_fsync_duration_seconds_count'),
        fsyncSeconds: sum('etcd_disk_wal_fsync_duration_seconds_sum'),
      };
    },
  };
}
