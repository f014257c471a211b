// tx/fdb-delta.ts patchFdb: the desired FDB the NC agent keeps after a
// peer-only sync. Not only the same entries as the new full plan (the
// property test in agent-peer-change.test.ts compares them as sets) but the
// same order: a deleted entry takes out the first equal one, an added one goes
// after the last entry of its device (or at the end), several at one place in
// the order the old walk gave them.
import { describe, expect, it } from 'vitest';
import type { FdbSpec } from '../../src/rtnl/fdb.js';
import { patchFdb } from '../../src/tx/fdb-delta.js';

const e = (dev: string, lladdr: string, dst: string): FdbSpec => ({ dev, lladdr, dst });
const Z = '00:00:00:00:00:00';
const fdb = Object.freeze([
  e('vx10', Z, '10.0.0.2'),
  e('vx10', 'd0:0d:00:00:00:01', '10.0.0.2'),
  e('vx11', Z, '10.0.0.3'),
  e('vx11', 'd0:0d:00:00:00:02', '10.0.0.3'),
]);
const show = (fs: readonly FdbSpec[]) => fs.map((f) => `${String(f.dev)} ${f.lladdr} ${f.dst}`);

describe('patchFdb', () => {
  it('puts an added entry after the last of its device, a new device at the end, and takes out a deleted one', () => {
    const add = [e('vx10', 'd0:0d:00:00:00:09', '10.0.0.4'), e('vx12', Z, '10.0.0.5')];
    const out = patchFdb(fdb, { add, del: [e('vx11', 'd0:0d:00:00:00:02', '10.0.0.3')] });
    expect(show(out)).toEqual([
      'vx10 00:00:00:00:00:00 10.0.0.2',
      'vx10 d0:0d:00:00:00:01 10.0.0.2',
      'vx10 d0:0d:00:00:00:09 10.0.0.4',
      'vx11 00:00:00:00:00:00 10.0.0.3',
      'vx12 00:00:00:00:00:00 10.0.0.5',
    ]);
    // The input is left as it was.
    expect(fdb).toHaveLength(4);
  });

  it("deleting a device's last entry moves its end back; two entries added at one place come in reverse order (the full walk's order)", () => {
    const out = patchFdb(fdb, {
      add: [e('vx10', 'd0:0d:00:00:00:07', '10.0.0.2'), e('vx10', 'd0:0d:00:00:00:08', '10.0.0.2')],
      del: [e('vx10', 'd0:0d:00:00:00:01', '10.0.0.2')],
    });
    expect(show(out)).toEqual([
      'vx10 00:00:00:00:00:00 10.0.0.2',
      'vx10 d0:0d:00:00:00:08 10.0.0.2',
      'vx10 d0:0d:00:00:00:07 10.0.0.2',
      'vx11 00:00:00:00:00:00 10.0.0.3',
      'vx11 d0:0d:00:00:00:02 10.0.0.3',
    ]);
  });

  it('a deleted entry listed twice takes out the first equal one only, once per deletion', () => {
    const twice = [...fdb, e('vx10', 'd0:0d:00:00:00:01', '10.0.0.2')];
    const out = patchFdb(twice, { add: [], del: [e('vx10', 'd0:0d:00:00:00:01', '10.0.0.2')] });
    expect(show(out)).toEqual([...show(fdb).filter((_, i) => i !== 1), 'vx10 d0:0d:00:00:00:01 10.0.0.2']);
  });
});
