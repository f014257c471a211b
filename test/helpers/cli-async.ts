// `eucanet ARGS...` without blocking the test's event loop: while it runs, the
// test etcd (a child of the test process, its output piped to it) keeps being
// read; with spawnSync a chatty etcd fills its pipe and stalls.
import { execFile } from 'node:child_process';
import { cliPath, type CliRun } from './cli.js';

export function eucanetAsync(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024, ...(opts.env ? { env: opts.env } : {}) },
      (err, stdout, stderr) => {
        const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ status, stdout, stderr });
      },
    );
  });
}
