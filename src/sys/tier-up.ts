// When V8 optimises this process's functions, drawn per process (issue 17).
//
// V8 runs a function in its interpreter (or baseline code) until the function
// has run through its "interrupt budget" (bytecode executed) a few times; it
// then compiles it with TurboFan on a helper thread. That point is the same
// in every process that runs the same code on the same input. A fleet of
// agents hears every version of the cloud, so all of them compiled the same
// function in the same version: 22 to 60 compilations in one operation, on
// the two cores that etcd and every agent share, and that operation was the
// fleet's slowest (docs/performance.md, round 22). A budget drawn per process
// spreads those compilations over many versions, as a jittered timer spreads
// a fleet's retries. The total work is about the same (a lower budget
// optimises a few functions more), and no one version pays for all of it.
import { setFlagsFromString } from 'node:v8';

/**
 * V8's interrupt budget in Node 20 (V8 11.3): 66 KiB of bytecode. V8 has no
 * way to read a flag back, so under another V8 the draw is around this value
 * rather than around that V8's own.
 */
export const V8_INTERRUPT_BUDGET = 66 * 1024;

/** The range a process's budget is drawn from, as factors of V8_INTERRUPT_BUDGET. */
export const TIER_UP_SPREAD: readonly [number, number] = [0.5, 1.5];

/** Whether `--interrupt-budget` was given to this process (node's own flags, NODE_OPTIONS or EUCANET_V8_FLAGS): then it is the operator's. */
export function budgetGiven(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  const given = (s: string) => /(^|\s)--interrupt[-_]budget(=|\s|$)/.test(s);
  return execArgv.some(given) || given(env.EUCANET_V8_FLAGS ?? '') || given(env.NODE_OPTIONS ?? '');
}

/** The budget for a draw `r` in [0, 1): V8's default times a factor in TIER_UP_SPREAD. */
export function tierUpBudget(r: number): number {
  const [lo, hi] = TIER_UP_SPREAD;
  return Math.round(V8_INTERRUPT_BUDGET * (lo + Math.min(Math.max(r, 0), 1) * (hi - lo)));
}

/**
 * Sets V8's interrupt budget of this process to one drawn from TIER_UP_SPREAD
 * and returns it, or returns undefined and changes nothing when the process
 * was given one. V8 reads the flag each time it refills a function's budget,
 * so it applies to code already running from its next tier-up check.
 */
export function spreadTierUp(random: () => number = Math.random): number | undefined {
  if (budgetGiven()) return undefined;
  const budget = tierUpBudget(random());
  setFlagsFromString(`--interrupt-budget=${budget}`);
  return budget;
}
