// The agent's owed steps (src/agent/owed-step.ts): run once as side work when
// the host is idle, or first in the next sync, or taken over; a failure is
// reported with whether it was a sync's first step.
import { describe, expect, it } from 'vitest';
import { OwedStep } from '../../src/agent/owed-step.js';

/** A host whose idle work runs when `drain()` is called (as the coalescer runs it once no sync runs or waits). */
function host(live = true) {
  const queued: (() => Promise<void>)[] = [];
  const failures: { message: string; inSync: boolean }[] = [];
  const drain = async () => {
    await new Promise<void>((r) => setImmediate(r));
    while (queued.length) await queued.shift()!();
  };
  return {
    h: {
      idle: (fn: () => Promise<void>) => void queued.push(fn),
      live: () => live,
      failed: (err: Error, inSync: boolean) => void failures.push({ message: err.message, inSync }),
    },
    failures,
    drain,
  };
}

describe('OwedStep', () => {
  it('runs the owed step once, as side work after the sync', async () => {
    const t = host();
    const o = new OwedStep(t.h);
    let ran = 0;
    o.owe(async () => void ran++);
    expect(o.pending).toBe(true);
    o.afterSync();
    expect(ran).toBe(0);
    await t.drain();
    expect(ran).toBe(1);
    expect(o.pending).toBe(false);
    o.afterSync();
    await t.drain();
    expect(ran).toBe(1);
  });

  it("runs it as the next sync's first step when that comes before the side work; the side work then finds nothing", async () => {
    const t = host();
    const o = new OwedStep(t.h);
    const order: string[] = [];
    o.owe(async () => void order.push('step'));
    o.afterSync();
    await o.now(true);
    order.push('sync');
    await t.drain();
    expect(order).toEqual(['step', 'sync']);
  });

  it('does not run a step a sync took over, and runs only the newest of two owed', async () => {
    const t = host();
    const o = new OwedStep(t.h);
    const ran: string[] = [];
    o.owe(async () => void ran.push('a'));
    o.afterSync();
    o.drop();
    await t.drain();
    expect(ran).toEqual([]);
    o.owe(async () => void ran.push('b'));
    o.owe(async () => void ran.push('c'));
    o.afterSync();
    o.afterSync();
    await t.drain();
    expect(ran).toEqual(['c']);
  });

  it("reports a failure, saying whether it was a sync's first step", async () => {
    const t = host();
    const o = new OwedStep(t.h);
    o.owe(() => Promise.reject(new Error('EBUSY: delete tap vn1')));
    o.afterSync();
    await t.drain();
    o.owe(() => Promise.reject(new Error('ENODEV')));
    await o.now(true);
    // A step that throws before it returns a promise, and something that is not an Error.
    o.owe(() => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a careless step could throw
      throw 'not an Error';
    });
    await o.now(false);
    expect(t.failures).toEqual([
      { message: 'EBUSY: delete tap vn1', inSync: false },
      { message: 'ENODEV', inSync: true },
      { message: 'not an Error', inSync: false },
    ]);
    expect(o.pending).toBe(false);
  });

  it('runs nothing once the host is stopped', async () => {
    const t = host(false);
    const o = new OwedStep(t.h);
    let ran = 0;
    o.owe(async () => void ran++);
    o.afterSync();
    await t.drain();
    await o.now(true);
    expect(ran).toBe(0);
  });
});
