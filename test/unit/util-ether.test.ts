// parseEther (src/util/ip.ts), the nft ether_addr parser, reads MACs by char
// codes. Judged on generated text against the grammar written as a regular
// expression (six groups of one or two hex digits) and parseInt of each group.
import { describe, expect, it } from 'vitest';
import { parseEther } from '../../src/util/ip.js';

const GRAMMAR = /^[0-9a-f]{1,2}(:[0-9a-f]{1,2}){5}$/i;
const oracle = (s: string): number[] | undefined => (GRAMMAR.test(s) ? s.split(':').map((x) => parseInt(x, 16)) : undefined);

describe('parseEther', () => {
  it('accepts the grammar and reads the same bytes, on 20000 generated strings', () => {
    let x = 7;
    const r = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const alphabet = '0123456789abcdefABCDEFg: .';
    let valid = 0;
    for (let k = 0; k < 20000; k++) {
      let s = Array.from({ length: 6 }, () => Math.floor(r() * 256).toString(16))
        .map((h) => (r() < 0.5 ? h.padStart(2, '0') : h))
        .join(':');
      if (k % 2) {
        const at = Math.floor(r() * (s.length + 1));
        s = r() < 0.5 ? s.slice(0, at) + alphabet[Math.floor(r() * alphabet.length)] + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
      }
      if (r() < 0.1) s = s.toUpperCase();
      const got = parseEther(s);
      expect({ s, got: got ? [...got] : undefined }).toEqual({ s, got: oracle(s) });
      if (got) valid++;
    }
    expect(valid).toBeGreaterThan(10000);
  });

  it.each([
    '',
    'd0:0d:0a:01:02',
    'd0:0d:0a:01:02:03:04',
    'd0:0d:0a:01:02:003',
    'd0::0a:01:02:03',
    'g0:0d:0a:01:02:03',
    'd0-0d-0a-01-02-03',
    ' d0:0d:0a:01:02:03',
  ])('refuses %j', (s) => expect(parseEther(s)).toBeUndefined());
});
