// The agent's V8 interrupt budget drawn per process (src/sys/tier-up.ts): the
// range of the draw, an operator's own budget left alone, and, in real Node
// processes of the built module, that the budget set while the process runs
// moves the call at which V8 marks a hot function for optimisation.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TIER_UP_SPREAD, V8_INTERRUPT_BUDGET, budgetGiven, tierUpBudget } from '../../src/sys/tier-up.js';
import { repoRoot } from '../helpers/cli.js';

describe('the interrupt budget drawn per process', () => {
  it("lies within the spread around V8 11's default, from its lowest to its highest draw", () => {
    const [lo, hi] = TIER_UP_SPREAD;
    expect(tierUpBudget(0)).toBe(Math.round(V8_INTERRUPT_BUDGET * lo));
    expect(tierUpBudget(0.5)).toBe(Math.round((V8_INTERRUPT_BUDGET * (lo + hi)) / 2));
    expect(tierUpBudget(1 - 2 ** -53)).toBeLessThanOrEqual(Math.round(V8_INTERRUPT_BUDGET * hi));
    expect(tierUpBudget(1 - 2 ** -53)).toBeGreaterThan(Math.round(V8_INTERRUPT_BUDGET * hi) - 2);
    // 200 draws of Math.random spread over more than half the range.
    const drawn = Array.from({ length: 200 }, () => tierUpBudget(Math.random()));
    expect(Math.max(...drawn) - Math.min(...drawn)).toBeGreaterThan((V8_INTERRUPT_BUDGET * (hi - lo)) / 2);
  });

  it("leaves a budget the operator gave (node's flags, NODE_OPTIONS, EUCANET_V8_FLAGS)", () => {
    expect(budgetGiven([], {})).toBe(false);
    expect(budgetGiven(['--interrupt-budget=1000'], {})).toBe(true);
    expect(budgetGiven(['--interrupt_budget', '1000'], {})).toBe(true);
    expect(budgetGiven([], { NODE_OPTIONS: '--max-old-space-size=100 --interrupt-budget=5' })).toBe(true);
    expect(budgetGiven([], { EUCANET_V8_FLAGS: '--interrupt-budget=5' })).toBe(true);
    // Other flags whose names begin alike are not it.
    expect(budgetGiven(['--interrupt-budget-for-feedback-allocation=9'], { EUCANET_V8_FLAGS: '--no-opt' })).toBe(false);
  });

  it('moves, in a running process, the call at which V8 marks a hot function for optimisation', () => {
    const built = pathToFileURL(join(repoRoot, 'dist/sys/tier-up.js')).href;
    // Calls of a hot function until V8 marks it for optimisation (V8's own status of it): V8 marks it on the main thread, so the count is exact.
    const calls = (draw: number | 'none', nodeFlags: string[] = []) => {
      const script = `
        (async () => {
          const { spreadTierUp } = await import(${JSON.stringify(built)});
          const set = ${draw === 'none' ? 'undefined' : `spreadTierUp(() => ${draw})`};
          function hot(a) { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 3 + (a[i] >> 1); return s; }
          const a = Array.from({ length: 50 }, (_, i) => i);
          const status = () => eval('%GetOptimizationStatus(hot)');
          // V8 11's OptimizationStatus bits: kOptimized, kMarkedForOptimization, kMarkedForConcurrentOptimization, kOptimizingConcurrently.
          const MARKED = (1 << 4) | (1 << 8) | (1 << 9) | (1 << 10);
          for (let k = 0; k < 5; k++) hot(a);
          let n = 5;
          while ((status() & MARKED) === 0 && n < 100000) { hot(a); n++; }
          process.stdout.write(JSON.stringify({ set: set ?? null, n }));
        })();`;
      const r = spawnSync(process.execPath, ['--allow-natives-syntax', ...nodeFlags, '-e', script], {
        encoding: 'utf8',
        env: { ...process.env, EUCANET_V8_FLAGS: undefined, NODE_OPTIONS: undefined },
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { set: number | null; n: number };
    };
    const low = calls(0);
    const none = calls('none');
    const high = calls(1 - 2 ** -53);
    expect(low.set).toBe(tierUpBudget(0));
    expect(high.set).toBe(tierUpBudget(1 - 2 ** -53));
    expect(none.set).toBeNull();
    // Half V8's default budget, then its default, then 1.5 times it: the marks come in that order, each well apart.
    expect(none.n).toBeLessThan(100000);
    expect(low.n * 1.5).toBeLessThan(none.n);
    expect(none.n * 1.3).toBeLessThan(high.n);
    // A budget given to node is the operator's: nothing drawn, and the mark comes where that budget puts it.
    const given = calls(0, [`--interrupt-budget=${V8_INTERRUPT_BUDGET * 3}`]);
    expect(given.set).toBeNull();
    expect(given.n).toBeGreaterThan(high.n * 1.5);
  });
});
