// The error a failed commit throws: which op failed and why, and what the
// rollback did about everything applied before it.
import type { RollbackReport } from './journal.js';

export class TransactionError extends Error {
  /** Index of the failed op in the transaction, when one op is to blame. */
  readonly opIndex?: number;
  /** The kernel's (or the addon's) error for that op. */
  override readonly cause: Error;
  /** True when every applied op was undone: the system is as it was. */
  readonly rolledBack: boolean;
  /** One line per applied op that could not be undone. Empty when rolledBack. */
  readonly leftBehind: string[];
  /** One line per request the kernel was given whose outcome is unknown (its answer was lost). Empty when rolledBack. */
  readonly unknown: string[];
  readonly rollbackErrors: Error[];
  readonly code: string;

  constructor(cause: Error, opIndex: number | undefined, report: RollbackReport) {
    const rolledBack = report.leftBehind.length === 0 && report.unknown.length === 0;
    const parts: string[] = [];
    if (report.leftBehind.length) parts.push(`left behind:\n  ${report.leftBehind.join('\n  ')}`);
    if (report.unknown.length) parts.push(`outcome unknown:\n  ${report.unknown.join('\n  ')}`);
    const state = rolledBack
      ? `rolled back (${report.undone} applied op${report.undone === 1 ? '' : 's'} undone); the system is as it was`
      : `ROLLBACK INCOMPLETE (${report.undone} undone), ${parts.join('\n')}`;
    super(`transaction failed: ${cause.message}; ${state}`);
    this.name = 'TransactionError';
    this.cause = cause;
    if (opIndex !== undefined) this.opIndex = opIndex;
    this.rolledBack = rolledBack;
    this.leftBehind = report.leftBehind;
    this.unknown = report.unknown;
    this.rollbackErrors = report.errors;
    this.code = (cause as { code?: string }).code ?? 'EFAIL';
  }
}
