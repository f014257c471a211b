// Long-lived flows for conntrack tests: test/helpers/flow.mjs started inside a
// namespace, its JSON events collected. Stopped by closing its stdin (and, if
// it lingers, by a signal to its own pid).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./flow.mjs', import.meta.url));

export interface FlowEvent {
  t: number;
  ready?: boolean;
  sport?: number;
  reply?: string;
  error?: string;
  end?: boolean;
}

export class Flow {
  readonly events: FlowEvent[] = [];
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        this.events.push(JSON.parse(l) as FlowEvent);
      } catch {
        /* not ours */
      }
    });
    this.exited = new Promise((resolve) => child.once('close', () => resolve()));
  }

  /** Starts `node flow.mjs MODE ARGS` in `netns` and waits for its ready event. */
  static async start(netns: string, mode: string, args: Array<string | number>, timeoutMs = 10_000): Promise<Flow> {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, SCRIPT, mode, ...args.map(String)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const f = new Flow(child);
    try {
      await f.until((e) => e.ready === true || e.error !== undefined, timeoutMs, `${mode} in ${netns} to start`);
    } catch (err) {
      await f.stop();
      throw err;
    }
    return f;
  }

  /** Replies (their text) received at or after time `since`. */
  replies(since = 0): string[] {
    return this.events.filter((e) => e.t >= since && e.reply !== undefined).map((e) => e.reply!);
  }

  /** Waits for an event matching `pred` (at or after `since`); throws naming `what` on timeout. */
  async until(pred: (e: FlowEvent) => boolean, timeoutMs: number, what: string, since = 0): Promise<FlowEvent> {
    const t0 = Date.now();
    for (;;) {
      const e = this.events.find((x) => x.t >= since && pred(x));
      if (e) return e;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(t);
  }
}
