// `eucanet agent` as a child process (the built CLI, dist/cli/main.js), with
// its JSON log lines collected, for the tests that need signals and restarts.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { cliPath } from './cli.js';

export type LogLine = Record<string, any>;

export class AgentProcess {
  readonly lines: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as LogLine);
      } catch {
        this.lines.push({ event: 'text', text: l });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  /** Starts `eucanet agent --json ARGS...`, with node's `nodeFlags` if any (--trace-gc prints on stdout, a `text` line each) and `env` added to this process's environment. */
  static start(args: string[], opts: { nodeFlags?: string[]; env?: Record<string, string> } = {}): AgentProcess {
    const env = opts.env ? { env: { ...process.env, ...opts.env } } : {};
    return new AgentProcess(
      spawn(process.execPath, [...(opts.nodeFlags ?? []), cliPath, 'agent', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...env }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  syncs(): LogLine[] {
    return this.lines.filter((l) => l.event === 'sync');
  }

  /** Waits for a log line matching `pred` (among those from index `from` on). */
  async waitFor(pred: (l: LogLine) => boolean, timeoutMs = 15_000, from = 0): Promise<LogLine> {
    const t0 = Date.now();
    for (;;) {
      const hit = this.lines.slice(from).find(pred);
      if (hit) return hit;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`agent exited (${this.child.exitCode ?? this.child.signalCode}) before the line: ${this.stderr}\n${JSON.stringify(this.lines)}`);
      }
      const left = timeoutMs - (Date.now() - t0);
      if (left <= 0) throw new Error(`no such agent log line within ${timeoutMs} ms; lines: ${JSON.stringify(this.lines)} ${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Sends a signal; with SIGTERM/SIGINT resolves with the exit and how long it took. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill(signal);
    const e = await this.exited;
    return { code: e.code, signal: e.signal, ms: e.at - t0 };
  }

  /** Kills it if it is still running (teardown). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
