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
  readonly rollbackErrors: Error[];
  readonly code: string;

  constructor(cause: Error, opIndex: number | undefined, report: RollbackReport) {
    const rolledBack = report.leftBehind.length === 0;
    const state = rolledBack
      ? `rolled back (${report.undone} applied op${report.undone === 1 ? '' : 's'} undone); the system is as it was`
      : `ROLLBACK INCOMPLETE, left behind:\n  ${report.leftBehind.join('\n  ')}`;
    super(`transaction failed: ${cause.message}; ${state}`);
    this.name = 'TransactionError';
    this.cause = cause;
    if (opIndex !== undefined) this.opIndex = opIndex;
    this.rolledBack = rolledBack;
    this.leftBehind = report.leftBehind;
    this.rollbackErrors = report.errors;
    this.code = (cause as { code?: string }).code ?? 'EFAIL';
  }
}
