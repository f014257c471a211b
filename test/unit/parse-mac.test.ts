// parseMac, read by char codes (src/util/ip.ts): the same answers as the
// definition (six two-digit hex bytes separated by ":", any case), checked
// against that definition as a regex on valid, malformed and random inputs.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { parseMac } from '../../src/util/ip.js';

const DEFINITION = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function oracle(text: string): number[] | undefined {
  return DEFINITION.test(text) ? text.split(':').map((h) => parseInt(h, 16)) : undefined;
}

describe('parseMac', () => {
  it('parses valid MACs of any case to their bytes', () => {
    expect([...parseMac('mac', 'd0:0d:0a:01:02:02')]).toEqual([0xd0, 0x0d, 0x0a, 0x01, 0x02, 0x02]);
    expect([...parseMac('mac', 'FF:fe:A0:9b:00:Ff')]).toEqual([0xff, 0xfe, 0xa0, 0x9b, 0x00, 0xff]);
  });

  it('refuses malformed ones naming the field and the value', () => {
    for (const bad of [
      '',
      'd0:0d:0a:01:02',
      'd0:0d:0a:01:02:02:03',
      'd0-0d-0a-01-02-02',
      'g0:0d:0a:01:02:02',
      'd0:0d:0a:01:02:0',
      ' d0:0d:0a:01:02:2',
      'd0:0d:0a:01:02:02 ',
      'd0:0d:0a:01:0202:',
      7,
      null,
    ]) {
      let err: unknown;
      try {
        parseMac('instances[3].mac', bad);
      } catch (e) {
        err = e;
      }
      expect(err, String(bad)).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain('instances[3].mac');
    }
  });

  it('agrees with the definition on random strings of MAC-like characters', () => {
    const chars = '0123456789abcdefABCDEFgG:-';
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
    for (let n = 0; n < 20000; n++) {
      const t = Array.from({ length: 17 }, (_, i) => (i % 3 === 2 && rand() < 0.9 ? ':' : chars[Math.floor(rand() * chars.length)])).join('');
      const want = oracle(t);
      if (want) expect([...parseMac('mac', t)], t).toEqual(want);
      else expect(() => parseMac('mac', t), t).toThrow(ValidationError);
    }
  });
});
