// The benchmark's report says what it was measured on, and, where the kernel
// has the vCPU-packing scheduler knob (bench/lib/machine.mjs), that the
// library's threads then mostly share one vCPU: it is why overlapping the
// JavaScript work with the kernel's buys nothing there (docs/performance.md,
// round 26). Read here from this machine, and from made-up results.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { machine } from '../../bench/lib/machine.mjs';
import { markdown } from '../../bench/lib/report.mjs';

const KNOB = '/proc/sys/kernel/sched_vcpu_pack';

/** The parts of a results.json that markdown() reads before its tables. */
const results = (m: object) =>
  ({
    date: '2026-12-04T00:00:00.000Z',
    seconds: 1,
    options: { smoke: true },
    machine: { cpu: 'x', cores: 2, memoryGiB: 1, kernel: 'k', os: 'o', node: 'v', ...m },
  }) as unknown as Parameters<typeof markdown>[0];

describe('benchmark machine facts', () => {
  it('records the vCPU-packing knob exactly when this kernel has it', () => {
    const m = machine();
    if (existsSync(KNOB)) expect(m.vcpuPack).toBe(Number(readFileSync(KNOB, 'utf8').trim()));
    else expect(m).not.toHaveProperty('vcpuPack');
    expect(m.cores).toBeGreaterThan(0);
  });

  it('says in the report that the threads share a vCPU when the knob is set, and not otherwise', () => {
    expect(markdown(results({ vcpuPack: 15 }))).toContain('`kernel.sched_vcpu_pack` = 15');
    expect(markdown(results({ vcpuPack: 0 }))).not.toContain('sched_vcpu_pack');
    expect(markdown(results({}))).not.toContain('sched_vcpu_pack');
  });
});
