// The undo journal. Every rtnetlink op that the kernel applied records its
// inverse here; on failure the inverses run newest first. Rtnetlink is not
// transactional, so this is how a failed commit leaves the system as it was.
import type { NetlinkConnection, Request } from '../netlink/socket.js';
import { isNotFound } from '../netlink/errors.js';
import { writeSysctl } from '../sys/sysctl.js';
import type { Netns } from '../netlink/socket.js';

export type UndoStep =
  | { kind: 'request'; req: Request; undoes: string; opIndex: number }
  /** An applied op with no inverse (a link delete): rollback can only report it. */
  | { kind: 'irreversible'; undoes: string; opIndex: number }
  | { kind: 'sysctl'; netns: Netns; key: string; value: string; undoes: string; opIndex: number };

export interface RollbackReport {
  /** Inverse steps that ran. */
  undone: number;
  /** What is left behind: one line per applied op whose inverse failed. */
  leftBehind: string[];
  errors: Error[];
}

export class Journal {
  readonly steps: UndoStep[] = [];

  push(step: UndoStep): void {
    this.steps.push(step);
  }

  /**
   * Runs every inverse, newest first. Consecutive netlink inverses go out
   * pipelined in one send; the kernel applies them in order. An inverse that
   * finds its object already gone (ENODEV, ENOENT, EADDRNOTAVAIL, ESRCH) counts
   * as done: deleting a link takes its addresses and routes with it.
   */
  async rollback(rtnl: NetlinkConnection, failStep?: (s: UndoStep) => Request | undefined): Promise<RollbackReport> {
    const report: RollbackReport = { undone: 0, leftBehind: [], errors: [] };
    const steps = [...this.steps].reverse();
    let i = 0;
    while (i < steps.length) {
      const step = steps[i]!;
      if (step.kind === 'irreversible') {
        report.leftBehind.push(`${step.undoes} (cannot be undone)`);
        i++;
        continue;
      }
      if (step.kind === 'sysctl') {
        try {
          writeSysctl(step.netns, step.key, step.value);
          report.undone++;
        } catch (err) {
          report.leftBehind.push(`${step.undoes} (could not restore ${step.key}=${step.value})`);
          report.errors.push(err as Error);
        }
        i++;
        continue;
      }
      const run: Array<Extract<UndoStep, { kind: 'request' }>> = [];
      while (i < steps.length && steps[i]!.kind === 'request') run.push(steps[i++] as Extract<UndoStep, { kind: 'request' }>);
      let replies;
      try {
        replies = await rtnl.run(run.map((s) => failStep?.(s) ?? s.req));
      } catch (err) {
        // The send itself failed: nothing in this run is known to be undone.
        for (const s of run) report.leftBehind.push(s.undoes);
        report.errors.push(err as Error);
        continue;
      }
      replies.forEach((rep, k) => {
        if (!rep.error || isNotFound(rep.error)) {
          report.undone++;
          return;
        }
        report.leftBehind.push(`${run[k]!.undoes} (its undo "${run[k]!.req.describe()}" failed: ${rep.error.code})`);
        report.errors.push(rep.error);
      });
    }
    this.steps.length = 0;
    return report;
  }
}
