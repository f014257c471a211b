import { describe, expect, it } from 'vitest';
import { NlWriter } from '../../src/netlink/writer.js';
import { Attrs, splitMessages } from '../../src/netlink/reader.js';

describe('NlWriter / Attrs', () => {
  it('pads attributes to 4 bytes and back-patches nests and message length', () => {
    const w = new NlWriter(8); // tiny, to force growth
    w.beginMessage(16, 0x405, 7, 0);
    w.rawU32(0);
    w.str(3, 'ab'); // 4 + 3 -> 8
    const n = w.nestStart(18);
    w.u8(1, 0xaa); // 4 + 1 -> 8
    w.u32(2, 0x01020304);
    w.nestEnd(n);
    w.endMessage();
    const b = w.bytes();
    expect(b.toString('hex')).toBe(
      '30000000' +
        '1000' +
        '0504' +
        '07000000' +
        '00000000' +
        '00000000' +
        '0700' +
        '0300' +
        '61620000' +
        '1400' +
        '1200' +
        '0500' +
        '0100' +
        'aa000000' +
        '0800' +
        '0200' +
        '04030201',
    );
    const [m] = splitMessages(b);
    expect(m).toMatchObject({ type: 16, flags: 0x405, seq: 7, length: 48 });
    const a = Attrs.ofMessage(m, 4);
    expect(a.str(3)).toBe('ab');
    const inner = a.nested(18)!;
    expect(inner.u8(1)).toBe(0xaa);
    expect(inner.u32(2)).toBe(0x01020304);
    expect(inner.u16(9)).toBeUndefined();
  });

  it('records attribute offsets and nest paths when tracing', () => {
    const w = new NlWriter();
    w.trace = [];
    w.beginMessage(16, 0, 1);
    w.rawZero(16);
    w.u32(4, 1500);
    const n = w.nestStart(18);
    const d = w.nestStart(2);
    w.u16(1, 10);
    w.nestEnd(d);
    w.nestEnd(n);
    w.endMessage();
    expect(w.trace).toEqual([
      { offset: 32, path: [4] },
      { offset: 40, path: [18] },
      { offset: 44, path: [18, 2] },
      { offset: 48, path: [18, 2, 1] },
    ]);
  });
});
