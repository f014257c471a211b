// Where a command's time goes, from inside the process: with EUCANET_PHASES set
// in the environment, each phase(name) records the time since the previous
// one (the first: since the process started), and the
// command line prints them as one JSON line on stderr before it exits. Off
// (the default), phase() is one test of a constant.

const ON = !!process.env.EUCANET_PHASES;

/**
 * Milliseconds since the process started, a monotonic clock like
 * performance.now(), without it: the first use of `performance` loads Node's
 * perf_hooks (a dozen modules) on a cold command (issue 19).
 */
export const nowMs = (): number => process.uptime() * 1000;
const marks: Array<[string, number, number, number]> = [];

/** Ends the phase `name` now (its time: since the previous phase ended). */
export function phase(name: string): void {
  if (ON) {
    const c = process.cpuUsage();
    marks.push([name, nowMs(), (c.user + c.system) / 1000, process.resourceUsage().minorPageFault]);
  }
}

/**
 * The phases ended since mark `from` (a length of phaseCount()): per name,
 * "wall/cpu" ms (the process's CPU time over the phase), in the order met.
 * A long-lived process (the agent) reports each sync's phases this way.
 */
export function phasesSince(from: number, start: { wall: number; cpu: number }): Record<string, string> {
  const out: Record<string, [number, number]> = {};
  let prev = [start.wall, start.cpu];
  for (const [name, t, c] of marks.slice(from)) {
    const had = out[name] ?? [0, 0];
    out[name] = [had[0] + t - prev[0], had[1] + c - prev[1]];
    prev = [t, c];
  }
  return Object.fromEntries(Object.entries(out).map(([k, [w, c]]) => [k, `${w.toFixed(1)}/${c.toFixed(1)}`]));
}

/** How many phases have ended so far (for phasesSince). */
export const phaseCount = (): number => marks.length;

/** Whether phases are being recorded (EUCANET_PHASES is set). */
export const phasesOn = (): boolean => ON;

/**
 * The phases recorded so far as milliseconds per name (a name met twice, as in
 * a re-planned reconcile, adds up), in the order first met.
 */
export function phaseTimes(): Record<string, number> {
  return sums(1);
}

/**
 * The process's CPU time (user + system, all its threads) over each phase
 * so far, as phaseTimes() gives the wall-clock time: on a loaded machine it
 * moves much less than the wall clock. The first phase counts from 0 (the
 * process's start).
 */
export function phaseCpuTimes(): Record<string, number> {
  return sums(2);
}

/**
 * The minor page faults of each phase so far, as phaseTimes() gives the
 * wall-clock time (the first phase's since the process started): on a
 * machine where a fault costs microseconds (a VM: 13 us here), memory first
 * touched is a large part of a cold command.
 */
export function phaseFaults(): Record<string, number> {
  return sums(3);
}

/** Per name, the sum of column `at` (1: wall, 2: CPU, 3: minor page faults) over its phases. */
function sums(at: 1 | 2 | 3): Record<string, number> {
  const out: Record<string, number> = {};
  let prev = 0;
  for (const m of marks) {
    out[m[0]] = (out[m[0]] ?? 0) + (m[at] - prev);
    prev = m[at];
  }
  for (const k of Object.keys(out)) out[k] = Math.round(out[k] * 1000) / 1000;
  return out;
}
