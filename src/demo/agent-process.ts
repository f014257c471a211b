// One eucanet agent as a child process, as a real host runs it: `eucanet
// agent --role R [--node N | --cluster C] --netns NS --state FILE --json`, its JSON sync
// lines read from its stdout. It is what the demo's controller (control.ts)
// waits on: the version each host applied, and each sync (for the drift check).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SyncResult } from '../agent/index.js';
import type { Role } from '../managed/roles/index.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** What the controller needs of a host's agent. */
export interface HostAgent {
  readonly pid?: number;
  /** The version last applied. */
  readonly current?: { version: string };
  on(ev: 'sync', fn: (s: SyncResult) => void): unknown;
  off(ev: 'sync', fn: (s: SyncResult) => void): unknown;
  /** Resolves with the first sync. */
  start(): Promise<SyncResult>;
  stop(): Promise<void>;
}

/**
 * The command line of a demo host's agent (`demo down` recognises it by the
 * state file, or the demo's etcd cloud): over the state file, or over etcd
 * publishing its status as `host` (the demo's host name: cc, cc2 or the node's name).
 */
export function agentArgs(role: Role, netns: string, store: string | { etcd: string; cloud: string }, host = role.role === 'nc' ? role.node : 'cc'): string[] {
  const which = role.role === 'nc' ? ['--node', role.node] : role.cluster !== undefined ? ['--cluster', role.cluster] : [];
  const where = typeof store === 'string' ? ['--state', store] : ['--etcd', store.etcd, '--cloud', store.cloud, '--host', host];
  return [CLI, 'agent', '--role', role.role, ...which, '--netns', netns, ...where, '--json'];
}

export class AgentProcess extends EventEmitter<{ sync: [SyncResult] }> implements HostAgent {
  current?: { version: string };
  private child?: ChildProcessByStdio<null, Readable, Readable>;
  private exited?: Promise<number | null>;
  private stderr = '';

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly startMs = 120_000,
  ) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the agent; `spawned` gets its pid at once (to record it), the promise its first sync. */
  start(spawned?: (pid: number) => void): Promise<SyncResult> {
    // Its own process group: a Ctrl-C to the demo's terminal reaches the demo, which stops it.
    const child = spawn(process.execPath, this.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`the ${this.name} agent ${why}${this.stderr ? `: ${this.stderr.trim().split('\n').pop()}` : ''}`));
      const timer = setTimeout(() => fail(`did not finish its first sync within ${this.startMs} ms`), this.startMs);
      child.once('error', (err) => fail(`could not start (${err.message})`));
      child.once('spawn', () => spawned?.(child.pid ?? 0));
      void this.exited?.then((code) => {
        clearTimeout(timer);
        fail(`exited (code ${code}) before its first sync`);
      });
      this.once('sync', (s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
  }

  private onLine(line: string): void {
    let msg: { event?: string } & Partial<SyncResult>;
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.event !== 'sync') return;
    const s = msg as SyncResult;
    if (s.version !== undefined) this.current = { version: s.version };
    this.emit('sync', s);
  }

  /** SIGTERM (the agent stops and leaves the network as it is), SIGKILL if it has not exited in `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([this.exited?.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)))]);
    clearTimeout(timer);
    if (!done) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }
}
