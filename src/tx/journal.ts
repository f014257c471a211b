// The undo journal. Every rtnetlink op that the kernel applied records its
// inverse here; on failure the inverses run newest first. Rtnetlink is not
// transactional, so this is how a failed commit leaves the system as it was.
import { ExchangeError, type RollbackReport } from '../errors.js';
import type { NetlinkConnection, Reply, Request } from '../netlink/socket.js';
import type { Resolver } from '../rtnl/kinds/index.js';
import { LinkDeleteGroupRequest, LinkDeleteRequest, LinkSetRequest } from '../rtnl/link.js';
import { isNotFound } from '../errors.js';
import { writeSysctl } from '../sys/sysctl.js';
import type { Netns } from '../netlink/socket.js';

export type UndoStep =
  | { kind: 'request'; req: Request; undoes: string; opIndex: number }
  /** An applied op with no inverse (a link delete): rollback can only report it. */
  | { kind: 'irreversible'; undoes: string; opIndex: number }
  | { kind: 'sysctl'; netns: Netns; key: string; value: string; undoes: string; opIndex: number }
  /** A request the kernel was given whose outcome nobody can tell: rollback can only report it. */
  | { kind: 'unknown'; what: string; opIndex: number };

export type { RollbackReport };

/**
 * A journal step whose inverse request and description are made only when
 * read, once: a rollback reads them, a commit that succeeds never does. For
 * inverses built from the applied op's own spec alone (already validated by
 * its request), which is most of a bring-up: an address, route or FDB entry
 * added is undone by deleting the same one. A cold `eucanet apply` of 1000
 * instances otherwise built and validated about 2000 requests, and printed
 * 2000 descriptions, that nothing read (issue 19).
 */
export function deferredStep(inverse: () => Request, applied: Request, opIndex: number): UndoStep {
  return new DeferredStep(inverse, applied, opIndex);
}

/**
 * deferredStep()'s step: a class, so that its getters live once on the
 * prototype rather than as two closures and an accessor pair on every step
 * (a bring-up journals one per address, route and tap).
 */
class DeferredStep {
  readonly kind = 'request' as const;
  private made?: Request;
  private text?: string;
  constructor(
    private readonly inverse: () => Request,
    private readonly applied: Request,
    readonly opIndex: number,
  ) {}
  get req(): Request {
    return (this.made ??= this.inverse());
  }
  get undoes(): string {
    return (this.text ??= this.applied.describe());
  }
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
  async rollback(rtnl: NetlinkConnection, failStep?: FailStep): Promise<RollbackReport> {
    const report: RollbackReport = { undone: 0, leftBehind: [], unknown: [], errors: [] };
    const steps = [...this.steps].reverse();
    let i = 0;
    while (i < steps.length) {
      const step = steps[i];
      if (step.kind === 'unknown') {
        report.unknown.push(step.what);
        i++;
        continue;
      }
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
      while (i < steps.length && steps[i].kind === 'request') run.push(steps[i++] as Extract<UndoStep, { kind: 'request' }>);
      await this.undoRun(rtnl, run, report, failStep);
    }
    this.steps.length = 0;
    return report;
  }

  /**
   * One pipelined send of inverses. Link deletes are batched: each link is
   * first moved into a throw-away device group, then one RTM_DELLINK removes
   * the group, paying the kernel's RCU wait once instead of once per link.
   */
  private async undoRun(rtnl: NetlinkConnection, run: RequestStep[], report: RollbackReport, failStep?: FailStep): Promise<void> {
    const group = TEMP_GROUP_BASE + Math.floor(Math.random() * 0x100000);
    const grouped: number[] = [];
    const forced = new Set<number>();
    const sent = run.map((s, k) => {
      const fault = failStep?.(s);
      if (fault) {
        forced.add(k);
        return fault;
      }
      if (s.req instanceof LinkDeleteRequest) {
        grouped.push(k);
        return new LinkSetRequest(s.req.ref, { group }, PASS_THROUGH);
      }
      return s.req;
    });
    let replies: Reply[];
    try {
      replies = await rtnl.run(sent);
      if (grouped.length) {
        const [rep] = await rtnl.run([new LinkDeleteGroupRequest(group)]);
        if (rep.error && !isNotFound(rep.error)) {
          for (const k of grouped) replies[k] = { messages: [], error: rep.error };
        }
      }
    } catch (err) {
      report.errors.push(err as Error);
      // The send failed part-way: the undos answered are known; the rest are not.
      if (!(err instanceof ExchangeError) || grouped.length) {
        for (const s of run) report.unknown.push(`${s.undoes} (its undo's outcome is unknown: ${(err as Error).message})`);
        return;
      }
      const lost = new Set([...err.unknown, ...err.unsent]);
      replies = (err as ExchangeError<Reply>).replies.map((rep, k) => (lost.has(k) ? { messages: [] } : rep));
      for (const k of err.unknown) report.unknown.push(`${run[k].undoes} (its undo's outcome is unknown: ${err.code})`);
      for (const k of err.unsent) report.leftBehind.push(`${run[k].undoes} (its undo was not sent: ${err.code})`);
      replies.forEach((rep, k) => {
        if (!lost.has(k)) this.count(rep, k, run, sent, forced, report);
      });
      return;
    }
    replies.forEach((rep, k) => this.count(rep, k, run, sent, forced, report));
  }

  private count(rep: Reply, k: number, run: RequestStep[], sent: Request[], forced: Set<number>, report: RollbackReport): void {
    if (!rep.error || isNotFound(rep.error)) {
      report.undone++;
      return;
    }
    const undo = forced.has(k) ? sent[k] : run[k].req;
    report.leftBehind.push(`${run[k].undoes} (its undo "${undo.describe()}" failed: ${rep.error.code})`);
    report.errors.push(rep.error);
  }
}

type RequestStep = Extract<UndoStep, { kind: 'request' }>;
type FailStep = (s: UndoStep) => Request | undefined;

/** Device groups from here up are used only for a moment, to delete links in bulk. */
const TEMP_GROUP_BASE = 0x7e000000;

/** A Resolver for requests whose links are already given by ifindex or found by name. */
const PASS_THROUGH: Resolver = {
  index: (ref) => {
    if (typeof ref !== 'number') throw new Error(`undo: link ${ref} must be given by ifindex here`);
    return ref;
  },
  netnsFd: () => {
    throw new Error('undo: no namespace moves');
  },
};
