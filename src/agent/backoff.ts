// Retry delays after failures: `initial` doubling up to `max`, reset by a success.
export class Backoff {
  private delay: number;

  constructor(
    private readonly initial: number,
    private readonly max: number,
  ) {
    this.delay = initial;
  }

  /** The delay before the next retry; the one after it is twice as long, up to the cap. */
  next(): number {
    const d = this.delay;
    this.delay = Math.min(this.max, this.delay * 2);
    return d;
  }

  reset(): void {
    this.delay = this.initial;
  }
}
