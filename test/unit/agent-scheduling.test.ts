// The agent's scheduling, without the kernel: the coalescer (one sync in
// flight, one pending, triggers merged) and the retry backoff.
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/agent/backoff.js';
import { Coalescer } from '../../src/agent/coalesce.js';
import type { SyncTrigger } from '../../src/agent/types.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `done()` holds, or 10 s passed (then the caller's expect shows
 * what happened instead). Not a fixed sleep: with the process held up for
 * longer than a sleep by a loaded machine, the sleep's timer and the work's
 * own timers all expire in one turn of the event loop, and the sleep can end
 * before the setImmediate that calls onIdle, or before the side work's next
 * timer, has run.
 */
async function until(done: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !done() && Date.now() - t0 < 10_000;) await tick(1);
}

describe('Coalescer', () => {
  it('runs a burst of 100 requests as the running sync plus one, never two at once', async () => {
    const runs: SyncTrigger[][] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const c = new Coalescer(async (t) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      runs.push([...t]);
      await tick(20);
      inFlight--;
      return runs.length;
    });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.request(i % 3 === 0 ? 'store' : 'drift')));
    expect(runs).toHaveLength(2);
    expect(maxInFlight).toBe(1);
    expect(runs[0]).toEqual(['store']);
    expect(runs[1]).toEqual(['drift', 'store']);
    // The first caller got the first sync; every other one the second.
    expect(results[0]).toBe(1);
    expect(new Set(results.slice(1))).toEqual(new Set([2]));
  });

  it('a request right as the running sync ends joins the pending one, not a parallel one', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const c = new Coalescer(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick(5);
      inFlight--;
      return 0;
    });
    const all: Array<Promise<number>> = [];
    for (let i = 0; i < 50; i++) {
      all.push(c.request('store'));
      await tick(i % 7);
    }
    await Promise.all(all);
    expect(maxInFlight).toBe(1);
  });

  it('a failed sync does not block the pending one; close refuses new requests', async () => {
    let n = 0;
    const c = new Coalescer(async () => {
      n++;
      await tick(5);
      if (n === 1) throw new Error('kernel says no');
      return n;
    });
    const a = c.request('start');
    const b = c.request('retry');
    await expect(a).rejects.toThrow('kernel says no');
    await expect(b).resolves.toBe(2);
    await c.close();
    await expect(c.request('store')).rejects.toThrow('stopped');
  });

  it('onIdle: called once a burst is over (the running sync, the pending one, side work), never while one runs or waits', async () => {
    const log: string[] = [];
    const c = new Coalescer(async (t) => {
      log.push(`run ${t.join(',')}`);
      await tick(5);
      return 0;
    });
    c.onIdle = () => log.push(`idle busy=${c.busy} waiting=${c.waiting}`);
    await Promise.all([c.request('store'), c.request('drift'), c.request('store')]);
    await until(() => log.some((l) => l.startsWith('idle')));
    // A second call, if there were one, would come on the next turns: give it some.
    await tick(5);
    expect(log).toEqual(['run store', 'run drift,store', 'idle busy=false waiting=false']);
    // Side work after a sync: idle once it ended too.
    log.length = 0;
    await c.request('store');
    c.idle(async () => {
      log.push('side');
      await tick(5);
    });
    await until(() => log.some((l) => l.startsWith('idle')));
    await tick(5);
    expect(log).toEqual(['run store', 'side', 'idle busy=false waiting=false']);
  });

  it('side work asked for while other side work runs runs after it (a conntrack step during the warm-up is not lost), unless a sync comes first', async () => {
    const log: string[] = [];
    const c = new Coalescer(async (t) => {
      log.push(`run ${t.join(',')}`);
      await tick(5);
      return 0;
    });
    const side = (name: string, ms: number) =>
      c.idle(async () => {
        log.push(`${name} start`);
        await tick(ms);
        log.push(`${name} end`);
      });
    side('warm-up', 20);
    side('conntrack', 1);
    await until(() => log.includes('conntrack end'));
    expect(log).toEqual(['warm-up start', 'warm-up end', 'conntrack start', 'conntrack end']);
    // A sync asked for meanwhile runs instead (it does the side work's job), after the running side work.
    log.length = 0;
    side('warm-up', 20);
    side('conntrack', 1);
    const r = c.request('store');
    await r;
    await tick(10);
    expect(log).toEqual(['warm-up start', 'warm-up end', 'run store']);
    await c.close();
  });

  it('with a minimum gap, requests spread over time start syncs at least that far apart; an isolated one runs at once', async () => {
    const starts: number[] = [];
    const c = new Coalescer(async () => {
      starts.push(performance.now());
      await tick(1);
      return 0;
    }, 50);
    const all: Array<Promise<number>> = [];
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      all.push(c.request('store'));
      await tick(3);
    }
    await Promise.all(all);
    expect(starts.length).toBeLessThanOrEqual(Math.ceil(300 / 50) + 2);
    for (let i = 1; i < starts.length; i++) expect(starts[i] - starts[i - 1]).toBeGreaterThanOrEqual(45);
    await tick(60);
    const before = performance.now();
    await c.request('store');
    expect(starts.at(-1)! - before).toBeLessThan(10);
  });
});

describe('Backoff', () => {
  it('doubles from the first delay up to the cap, and a success resets it', () => {
    const b = new Backoff(100, 30_000);
    const seen = Array.from({ length: 12 }, () => b.next());
    expect(seen).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(100);
  });
});
