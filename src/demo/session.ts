// A demo run's life with signals: SIGINT and SIGTERM stop it at any point, and
// its teardown then removes everything. A signal aborts the DHCP clients at
// once (signal) and stops waiting for the stage in progress; teardown first
// lets that stage settle (bounded), so nothing it starts outlives the teardown.
import { must } from '../util/must.js';
export class DemoInterrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}: everything the demo made is removed`);
  }
}

export class Session {
  interrupted?: NodeJS.Signals;
  /** Set once teardown begins: nothing may be added to the demo after that. */
  closing = false;
  private readonly abort = new AbortController();
  private current: Promise<unknown> = Promise.resolve();
  private wake?: () => void;
  private readonly handlers = {
    SIGINT: () => this.onSignal('SIGINT'),
    SIGTERM: () => this.onSignal('SIGTERM'),
  };

  constructor(private readonly log: (line: string) => void) {
    process.on('SIGINT', this.handlers.SIGINT);
    process.on('SIGTERM', this.handlers.SIGTERM);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private onSignal(sig: NodeJS.Signals): void {
    if (this.interrupted) return;
    this.interrupted = sig;
    this.log(`${sig}: stopping and removing everything`);
    this.abort.abort();
    this.wake?.();
  }

  /** Waits for one stage of the demo, or for a signal, whichever comes first. */
  stage<T>(p: Promise<T>): Promise<T> {
    this.current = p.catch(() => undefined);
    if (this.interrupted) return Promise.reject(new DemoInterrupted(this.interrupted));
    return Promise.race([
      p,
      new Promise<never>((_, reject) => (this.wake = () => reject(new DemoInterrupted(must(this.interrupted, 'the signal that woke the demo'))))),
    ]);
  }

  /** Before teardown: lets an interrupted stage settle (at most `ms`), then marks the session closing. */
  async settle(ms = 10_000): Promise<void> {
    if (this.interrupted) await Promise.race([this.current, new Promise((r) => setTimeout(r, ms).unref())]);
    this.closing = true;
  }

  end(): void {
    process.off('SIGINT', this.handlers.SIGINT);
    process.off('SIGTERM', this.handlers.SIGTERM);
  }
}
