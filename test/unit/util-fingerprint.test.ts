// The DHCP marker's fingerprint (src/util/fingerprint.ts): the same parts give
// the same value; a change of one character, of where one part ends, or of
// the length gives another.
import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../src/util/fingerprint.js';
import { uniform } from '../fuzz/prng.js';

describe('fingerprint', () => {
  it('is a function of the parts, their boundaries included', () => {
    const hosts = Array.from(
      { length: 1000 },
      (_, i) => `dhcp-host=d0:0d:0a:00:${(i >> 8).toString(16)}:${(i & 255).toString(16)},10.0.${i >> 8}.${i & 255},i-${i}\n`,
    ).join('');
    const f = fingerprint('conf', hosts, 'opts');
    expect(f).toMatch(/^[0-9a-f]+-[0-9a-f]{16}$/);
    expect(fingerprint('conf', hosts, 'opts')).toBe(f);
    expect(f.split('-')[0]).toBe((4 + hosts.length + 4).toString(16));
    expect(fingerprint('ab', 'c')).not.toBe(fingerprint('a', 'bc'));
    expect(fingerprint('abc', '')).not.toBe(fingerprint('abc'));
    expect(fingerprint('conf', hosts.replace('i-999', 'i-998'), 'opts')).not.toBe(f);
  });

  it('gives each of 5000 different one-character changes of a hosts file its own value', () => {
    const rnd = uniform(19);
    const base = Array.from({ length: 200 }, (_, i) => `dhcp-host=d0:0d:0a:00:40:${i.toString(16).padStart(2, '0')},10.0.64.${i}\n`).join('');
    const texts = new Set<string>();
    while (texts.size < 5000) {
      const at = Math.floor(rnd() * base.length);
      const c = String.fromCharCode(32 + Math.floor(rnd() * 95));
      if (c !== base[at]) texts.add(base.slice(0, at) + c + base.slice(at + 1));
    }
    const values = new Set([...texts].map((t) => fingerprint(t)));
    expect(values.size).toBe(5000);
    expect(values.has(fingerprint(base))).toBe(false);
  });
});
