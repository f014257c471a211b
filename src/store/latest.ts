// An async iterator that holds only the newest value pushed: a consumer slower
// than the producer skips the values in between, never the latest one.
export class Latest<T> implements AsyncIterableIterator<T> {
  private pending: { value: T } | undefined;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private done = false;

  constructor(private readonly onClose: () => void) {}

  push(value: T): void {
    if (this.done) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value, done: false });
    } else this.pending = { value };
  }

  /** Ends the iteration (a pending value is dropped). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.pending = undefined;
    this.onClose();
    this.waiter?.({ value: undefined, done: true });
    this.waiter = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.pending) {
      const { value } = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
