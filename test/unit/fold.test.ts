// sameFolded (src/util/fold.ts): the same answer as comparing toLowerCase() copies.
import { describe, expect, it } from 'vitest';
import { sameFolded } from '../../src/util/fold.js';
import { Rng } from './../fuzz/prng.js';

describe('sameFolded', () => {
  it('is a.toLowerCase() === b.toLowerCase(), ASCII and not', () => {
    const cases: Array<[string, string]> = [
      ['i-1', 'I-1'],
      ['D0:0D:0A:00:00:01', 'd0:0d:0a:00:00:01'],
      ['@', '`'],
      ['[', '{'],
      ['a', 'b'],
      ['ab', 'abc'],
      ['', ''],
      ['İ', 'i̇'], // U+0130 lowers to two code units
      ['Straße', 'STRASSE'],
      ['ÄÖ', 'äö'],
    ];
    for (const [a, b] of cases) expect(sameFolded(a, b), `${a} ${b}`).toBe(a.toLowerCase() === b.toLowerCase());
    const rng = new Rng(7);
    const alphabet = 'aAbBzZ@`[{09-:_~ä';
    const word = () => Array.from({ length: rng.below(4) }, () => alphabet[rng.below(alphabet.length)]).join('');
    for (let k = 0; k < 3000; k++) {
      const a = word();
      const b = rng.chance(0.5) ? word() : [...a].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
      expect(sameFolded(a, b), `${a} ${b}`).toBe(a.toLowerCase() === b.toLowerCase());
    }
  });
});
