// How the command line talks: one clear line per error, exit codes
// (0 ok, 1 failure, 2 bad input), and a progress bar on a terminal.
import { DhcpApplyError } from '../dhcp/errors.js';
import { ValidationError } from '../errors.js';
import { ConntrackApplyError } from '../managed/apply-conntrack.js';
import type { ProgressFn } from '../tx/transaction.js';
import { stderrIsTTY } from './stdio.js';

export class UsageError extends Error {
  readonly code = 'EUSAGE';
  /** The usage of the command concerned, printed after the error line. */
  readonly usage?: string;
  constructor(message: string, usage?: string) {
    super(message);
    this.name = 'UsageError';
    if (usage !== undefined) this.usage = usage;
  }
}

/**
 * A file eucanet was writing could not be written: a failure (exit 1), not bad
 * input, whatever the errno (an EACCES on the write is not the user's typo).
 */
export class WriteError extends Error {
  readonly code = 'EWRITE';
  constructor(
    readonly file: string,
    readonly error: unknown,
  ) {
    super(`writing ${file}: ${(error as Error)?.message ?? String(error)}`);
    this.name = 'WriteError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_BAD_INPUT = 2;

export function exitCodeOf(err: unknown): number {
  if (err instanceof ValidationError || err instanceof UsageError) return EXIT_BAD_INPUT;
  // DHCP failed after the network was applied: a failure, whatever the cause's code.
  if (err instanceof DhcpApplyError) return EXIT_FAIL;
  // So did the conntrack cleanup: a failure too (the next apply retries it).
  if (err instanceof ConntrackApplyError) return EXIT_FAIL;
  // A state or conf file that cannot be read is bad input too.
  const e = err as { code?: string; path?: string };
  if (typeof e?.path === 'string' && ['ENOENT', 'EACCES', 'EISDIR'].includes(e.code ?? '')) return EXIT_BAD_INPUT;
  return EXIT_FAIL;
}

/** The error as one line (the first line of its message), prefixed with the program's name. */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const [first, ...rest] = msg.split('\n');
  return `eucanet: ${first}${rest.length ? ` (+${rest.length} more lines with --verbose)` : ''}`;
}

/** A one-line progress bar on stderr when it is a terminal and the job is big enough to watch. */
export function progressBar(minOps = 200): ProgressFn | undefined {
  if (!stderrIsTTY()) return undefined;
  return (done, total, phase) => {
    if (total < minOps) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${phase.padEnd(10)}`);
    if (done >= total) process.stderr.write('\n');
  };
}
