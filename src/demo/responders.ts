// Starting and talking to the demo's responders (responder.ts): one process per host
// namespace, entered with nsenter (util-linux), driven over its stdin/stdout.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { findProgram } from '../dhcp/proc.js';
import type { ResponderConfig, ResponderRequest, ConnectResult } from './responder.js';
import type { StreamReply } from './responder-stream.js';
import { namedNetnsPath } from '../sys/netns-path.js';
import { must } from '../util/must.js';

const RESPONDER = fileURLToPath(new URL('./responder.js', import.meta.url));

/** The marker the demo's responders carry on their command line (for `demo down` to recognise them). */
export const RESPONDER_MARK = 'eucanet-demo-responder';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class Responder {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private stderr = '';
  private gone = false;

  /** The responder's pid (there once it has started: start() resolves only then). */
  get pid(): number {
    return must(this.child.pid, `the pid of the responder in ${this.netns}`);
  }

  private constructor(
    readonly netns: string,
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('close', () => {
        this.gone = true;
        for (const p of this.pending.values()) p.reject(new Error(`responder in ${netns} exited${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
        this.pending.clear();
        resolve();
      }),
    );
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
  }

  /** Starts a responder in `netns` and waits until its listeners are up. */
  static start(netns: string, cfg: ResponderConfig, timeoutMs = 20_000): Promise<Responder> {
    const child = spawn(
      findProgram('nsenter', ['/usr/bin/nsenter']) ?? 'nsenter',
      [`--net=${namedNetnsPath(netns)}`, '--', process.execPath, RESPONDER, JSON.stringify(cfg), RESPONDER_MARK],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a Ctrl-C on the terminal reaches the demo, which
        // then stops the responders itself; a kept responder outlives the terminal's job.
        detached: true,
      },
    );
    const responder = new Responder(netns, child);
    return new Promise<Responder>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`responder in ${netns} did not start within ${timeoutMs} ms`)), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        void responder.stop();
        reject(err);
      };
      child.once('error', (err) => fail(new Error(`cannot start a responder in ${netns}: ${err.message}`)));
      const rl = createInterface({ input: child.stdout });
      let ready = false;
      rl.on('line', (line) => {
        let msg: { ready?: boolean; error?: string; seq?: number; ok?: boolean; result?: unknown };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return;
        }
        if (!ready && msg.ready !== undefined) {
          if (!msg.ready) return fail(new Error(msg.error ?? `responder in ${netns} failed to start`));
          ready = true;
          clearTimeout(timer);
          resolve(responder);
          return;
        }
        const seq = msg.seq;
        const p = seq !== undefined ? responder.pending.get(seq) : undefined;
        if (seq === undefined || !p) return;
        responder.pending.delete(seq);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(`responder in ${netns}: ${msg.error}`));
      });
      void responder.exited.then(() => {
        if (!ready) fail(new Error(`responder in ${netns} exited before it was ready${responder.stderr ? `: ${responder.stderr.trim()}` : ''}`));
      });
    });
  }

  request<T>(req: ResponderRequest): Promise<T> {
    if (this.gone) return Promise.reject(new Error(`responder in ${this.netns} is gone`));
    const seq = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(`${JSON.stringify({ seq, ...req })}\n`);
    });
  }

  connect(host: string, port: number, opts: { timeoutMs?: number; localAddress?: string; send?: string } = {}): Promise<ConnectResult> {
    return this.request({ op: 'connect', host, port, timeoutMs: opts.timeoutMs ?? 3000, ...opts });
  }

  http(url: string, timeoutMs = 3000): Promise<ConnectResult & { status?: number }> {
    return this.request({ op: 'http', url, timeoutMs });
  }

  udp(host: string, port: number, data: string, localAddress?: string): Promise<{ sent: boolean; message?: string }> {
    return this.request({ op: 'udp', host, port, data, ...(localAddress ? { localAddress } : {}) });
  }

  received(port: number): Promise<{ datagrams: Array<{ from: string; data: string }> }> {
    return this.request({ op: 'received', port });
  }

  ping(host: string, timeoutMs = 2000, size?: number): Promise<{ ok: boolean; output: string }> {
    return this.request({ op: 'ping', host, timeoutMs, ...(size !== undefined ? { size } : {}) });
  }

  /** Starts a UDP stream from the fixed source port `sport`: one datagram every `everyMs`. */
  streamStart(host: string, port: number, sport: number, everyMs = 50): Promise<{ started: boolean }> {
    return this.request({ op: 'streamStart', host, port, sport, everyMs });
  }

  /** Stops it: how many datagrams it sent, and the answers with their arrival times (Date.now()). */
  streamStop(sport: number): Promise<{ sent: number; replies: StreamReply[] }> {
    return this.request({ op: 'streamStop', sport });
  }

  /** The stream's answers so far, without stopping it. */
  streamPeek(sport: number): Promise<{ sent: number; replies: StreamReply[] }> {
    return this.request({ op: 'streamPeek', sport });
  }

  metadata(map: Record<string, string>): Promise<unknown> {
    return this.request({ op: 'metadata', map });
  }

  /**
   * Leaves the responder serving after this process exits (demo --keep): it stops
   * listening to its stdin, and this side lets go of its pipes.
   */
  async detach(): Promise<void> {
    if (this.gone) return;
    await this.request({ op: 'detach' });
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    this.child.unref();
  }

  /** Closes its stdin (it exits by itself), then SIGTERM and SIGKILL if it lingers. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.gone) return;
    this.child.stdin.end();
    const t1 = setTimeout(() => this.child.kill('SIGTERM'), graceMs);
    const t2 = setTimeout(() => this.child.kill('SIGKILL'), graceMs * 2);
    await this.exited;
    clearTimeout(t1);
    clearTimeout(t2);
  }
}
