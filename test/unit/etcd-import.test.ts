// The staged import's chunks: each under etcd's default limits (128
// operations, 1.5 MiB), in order, nothing lost.
import { describe, expect, it } from 'vitest';
import { chunks } from '../../src/store/etcd-import.js';
import { putOp } from '../../src/store/etcd-client.js';

describe('staged import chunks', () => {
  it('cuts by count (at most 100) and by bytes (about 1 MiB), keeping the order', () => {
    const small = Array.from({ length: 250 }, (_, i) => putOp(`/k/${i}`, 'v'));
    expect(chunks(small).map((c) => c.length)).toEqual([100, 100, 50]);
    const big = Array.from({ length: 10 }, (_, i) => putOp(`/b/${i}`, 'x'.repeat(300 * 1024)));
    const cut = chunks(big);
    expect(cut.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(cut.flat().map((o) => o.request_put?.key?.toString())).toEqual(big.map((o) => o.request_put?.key?.toString()));
    expect(chunks([])).toEqual([]);
  });
});
