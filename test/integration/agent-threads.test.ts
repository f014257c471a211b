// `eucanet agent` as a process: its helper threads (V8's, there before the
// command ran) at a lower priority than its main thread, and libuv's pool,
// where its first sync's kernel work ran, at the main thread's
// (src/sys/helper-threads.ts). Nice values read from /proc, per thread. And
// the V8 interrupt budget each agent drew (src/sys/tier-up.ts), from its log.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELPER_THREADS_NICE } from '../../src/cli/agent.js';
import { tierUpBudget } from '../../src/sys/tier-up.js';
import { writeFileAtomic } from '../../src/util/file.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-threads.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each thread of `pid`: its id, its nice value and its CPU so far (clock ticks), from /proc/PID/task/TID/stat. */
function threads(pid: number): Array<{ tid: number; nice: number; ticks: number }> {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    // The fields after the command's name (which may hold spaces), from the state on: utime and stime are 14 and 15, nice 19.
    const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ');
    return { tid: Number(t), nice: Number(f[16]), ticks: Number(f[11]) + Number(f[12]) };
  });
}

describe.skipIf(!isRoot)('eucanet agent: the priority of its threads (root)', () => {
  const budgets: number[] = [];
  // Started at nice 0, and under `nice -n 5` (this thread's nice value, which the child takes): its helpers 10 above its main thread.
  for (const base of [0, 5])
    it(`at nice ${base}: V8's helper threads run ${HELPER_THREADS_NICE} higher; the main thread and libuv's pool (the kernel work) at the process's`, async () => {
      const file = join(dir, `cloud-${base}.json`);
      // VXLAN: this kernel may have no 802.1Q.
      await writeFileAtomic(file, JSON.stringify({ ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' }));
      await withNetns(async (ns) => {
        // nc1's private interface (examples/seed.json), as a host has it.
        execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
        const own = getPriority();
        setPriority(base);
        let a: AgentProcess;
        try {
          a = AgentProcess.start(['--role', 'nc', '--node', 'nc1', '--netns', ns, '--state', file, '--resync', '0']);
        } finally {
          setPriority(own);
        }
        try {
          // Its first sync made nc1's ports: the addon's work on libuv's pool, which the main thread started after the lowering.
          const first = await a.waitFor((l) => l.event === 'sync');
          expect(first, JSON.stringify(first)).toMatchObject({ trigger: 'start', result: 'ok' });
          const all = threads(a.pid);
          const main = all.find((t) => t.tid === a.pid)!;
          expect(main.nice).toBe(base);
          const lowered = all.filter((t) => t.nice === base + HELPER_THREADS_NICE);
          const others = all.filter((t) => t.tid !== a.pid && t.nice === base);
          // Node starts V8's platform workers (4 by default) and its delayed-task thread before any script runs.
          expect(lowered.length, JSON.stringify(all)).toBeGreaterThanOrEqual(4);
          // libuv's pool (4 threads by default) came later, from the main thread: at its nice value, not the helpers'.
          expect(others.length, JSON.stringify(all)).toBeGreaterThanOrEqual(1);
          expect(all.every((t) => t.nice === base || t.nice === base + HELPER_THREADS_NICE)).toBe(true);
          // Its warm-up's line names the V8 interrupt budget it drew (src/sys/tier-up.ts), within the spread.
          const warm = await a.waitFor((l) => l.event === 'warmed-up');
          budgets.push(warm.interruptBudget as number);
          expect(warm.interruptBudget).toBeGreaterThanOrEqual(tierUpBudget(0));
          expect(warm.interruptBudget).toBeLessThanOrEqual(tierUpBudget(1));
        } finally {
          await a.stop('SIGTERM');
        }
      }, 'euthr');
    }, 60_000);
  // Two agents drew their own budgets (1 chance in about 67,000 of the same draw).
  it('drew a V8 interrupt budget per agent', () => expect(new Set(budgets).size).toBe(2));
});
