// A namespace's full dump once the kernel has stopped moving by itself: after
// an apply, carrier flags, operstate and "linkdown" on routes follow the
// kernel's linkwatch work, which can take a while on a loaded machine. Two
// equal dumps in a row, half a second apart, are taken as settled.
import { kernelDump } from './state.js';

/** The full dump without the bridges' running timers, which tick between any two reads. */
export const stableDump = (ns: string): string => kernelDump(ns).replace(/"\w+_timer": [\d.]+/g, '"timer"');

export async function settledDump(ns: string, timeoutMs = 15_000): Promise<string> {
  let last = stableDump(ns);
  for (const t0 = Date.now(); Date.now() - t0 < timeoutMs;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = stableDump(ns);
    if (now === last) return now;
    last = now;
  }
  throw new Error(`namespace ${ns} did not settle in ${timeoutMs} ms`);
}
