// The benchmark's counted runs per size (bench/instances.mjs countedRuns):
// more runs at small N, where one run is short and its time swings with the
// machine, the same count for every approach; and where a long-lived worker's
// counted runs are split over several processes (workerBlocks).
import { describe, expect, it } from 'vitest';
import { countedRuns, workerBlocks } from '../../bench/instances.mjs';

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

describe('bench workerBlocks', () => {
  it('starts a fresh process at the start of each equal block of counted runs', () => {
    expect(workerBlocks(45, 3)).toEqual([15, 30]);
    expect(workerBlocks(15, 3)).toEqual([5, 10]);
    expect(workerBlocks(5, 3)).toEqual([2, 4]);
    expect(workerBlocks(10, 4)).toEqual([3, 6, 9]);
  });
  it('keeps one process for one round, one process asked for, or none', () => {
    expect(workerBlocks(1, 3)).toEqual([]);
    expect(workerBlocks(45, 1)).toEqual([]);
    expect(workerBlocks(45, 0)).toEqual([]);
    expect(workerBlocks(2, 3)).toEqual([1]);
  });
});
