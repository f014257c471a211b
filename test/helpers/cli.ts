// Runs the built command line (dist/cli/main.js) as an operator would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = new URL('../..', import.meta.url).pathname;
export const cliPath = join(repoRoot, 'dist/cli/main.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `eucanet ARGS...`; `prefix` runs it under another program (setpriv, unshare). */
export function eucanet(args: string[], opts: { prefix?: string[]; input?: string } & Pick<SpawnSyncOptions, 'env'> = {}): CliRun {
  const [cmd, ...pre] = opts.prefix ?? [];
  const argv = [...pre, process.execPath, cliPath, ...args];
  const r = spawnSync(cmd ?? argv.shift()!, argv, {
    encoding: 'utf8',
    timeout: 60_000,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.input ? { input: opts.input } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
