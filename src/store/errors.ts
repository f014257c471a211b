// The store's errors: a compare-and-swap that lost (ConflictError), a lock
// that could not be had in time (LockTimeoutError).

/** The version moved between a read and a conditional write: someone else wrote first. */
export class ConflictError extends Error {
  readonly code = 'ECONFLICT';
  /** Attempts made, when an update gave up after retrying. */
  attempts?: number;
  constructor(
    /** Which store: the file's path, or the etcd key. */
    readonly store: string,
    /** The version the write was conditional on. */
    readonly expected: string,
    /** The version found. */
    readonly actual: string,
  ) {
    super(`${store}: changed by another writer (expected version ${expected || '(none)'}, found ${actual || '(none)'})`);
    this.name = 'ConflictError';
  }
}

/** The store's lock stayed held by a live process for longer than the timeout. */
export class LockTimeoutError extends Error {
  readonly code = 'ELOCKED';
  constructor(
    readonly lockPath: string,
    /** What the lock file says about its holder ("pid 1234 on host x"). */
    readonly holder: string,
    readonly waitedMs: number,
  ) {
    super(`${lockPath}: still held by ${holder} after ${waitedMs} ms`);
    this.name = 'LockTimeoutError';
  }
}

export const isConflict = (err: unknown): err is ConflictError => err instanceof ConflictError;

/**
 * etcd could not be reached or refused a request. `op` says what was being
 * done ("read /eucanet/default/state/"), `urls` where; `hint` what to change,
 * when eucanet knows (an etcd limit to raise).
 */
export class EtcdError extends Error {
  readonly code: string;
  constructor(
    readonly op: string,
    readonly urls: readonly string[],
    /** What the etcd client threw. */
    readonly error: unknown,
    readonly hint?: string,
  ) {
    // grpc-js ends some messages with an empty "Resolution note: ": left out.
    const why = ((error as Error)?.message ?? String(error)).replace(/\.?\s*Resolution note:\s*$/, '');
    const unreachable = isUnreachable(error);
    const late = !unreachable && isTimeout(error);
    const what = unreachable ? `unreachable (${why})` : late ? `no answer in time (${why})` : why;
    super(`etcd ${urls.join(',')}: ${op}: ${what}${hint ? `; ${hint}` : ''}`);
    this.name = 'EtcdError';
    this.code = unreachable ? 'EUNREACHABLE' : late ? 'ETIMEDOUT' : 'EETCD';
  }
}

/** An error of the etcd client that means no etcd answered (not a refusal). */
export function isUnreachable(err: unknown): boolean {
  const name = (err as Error)?.name ?? '';
  const msg = (err as Error)?.message ?? '';
  return (
    ['GRPCUnavailableError', 'GRPCConnectFailedError', 'BrokenCircuitError'].includes(name) ||
    /No connection established|UNAVAILABLE|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|circuit/i.test(msg)
  );
}

/** A request that got no answer before its deadline (etcd reachable or not: a blackholed address ends here too). */
export function isTimeout(err: unknown): boolean {
  return (err as Error)?.name === 'GRPCDeadlineExceededError' || /DEADLINE_EXCEEDED|Deadline exceeded/i.test((err as Error)?.message ?? '');
}
