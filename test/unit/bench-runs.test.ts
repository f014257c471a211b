// The benchmark's counted runs per size (bench/instances.mjs countedRuns):
// more runs at small N, where one run is short and its time swings with the
// machine, the same count for every approach.
import { describe, expect, it } from 'vitest';
import { countedRuns } from '../../bench/instances.mjs';

describe('bench countedRuns', () => {
  it('counts 9x --reps at N=100 to 300, 3x at N=1000 and --reps from N=3000 on', () => {
    expect(countedRuns(100, 5)).toBe(45);
    expect(countedRuns(300, 5)).toBe(45);
    expect(countedRuns(500, 5)).toBe(30);
    expect(countedRuns(1000, 5)).toBe(15);
    expect(countedRuns(3000, 5)).toBe(5);
    expect(countedRuns(5000, 5)).toBe(5);
    expect(countedRuns(1000, 9)).toBe(27);
  });
  it('never counts fewer than --reps, and boost 1 (a smoke run) counts exactly --reps', () => {
    expect(countedRuns(10, 5)).toBe(45);
    expect(countedRuns(50, 1, 1)).toBe(1);
    expect(countedRuns(100, 7, 1)).toBe(7);
  });
});
