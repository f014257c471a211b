// parseIPv6 (src/util/ip.ts) reads IPv6 text by char codes. Two independent
// oracles judge it on generated text: node's isIPv6 says which strings are
// addresses (zone ids aside, which parseIPv6 refuses), and the WHATWG URL
// parser's canonical host text says which address each one is.
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIPv6, parseIPv6 } from '../../src/util/ip.js';

/** A deterministic generator (xorshift), so a failure names a reproducible case. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** The canonical text of an address, as the URL parser writes it; undefined when it refuses it. */
function urlCanonical(s: string): string | undefined {
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** IPv6 text for 8 random groups (zero runs likely), in one of the ways people write it. */
function sample(r: () => number): string {
  const g = Array.from({ length: 8 }, () => (r() < 0.4 ? 0 : Math.floor(r() * 0x10000)));
  const hex = (v: number) => {
    let t = v.toString(16);
    if (r() < 0.2) t = t.padStart(4, '0');
    return r() < 0.2 ? t.toUpperCase() : t;
  };
  const v4Tail = r() < 0.25;
  const parts = g.slice(0, v4Tail ? 6 : 8).map(hex);
  const tail = v4Tail ? `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}` : undefined;
  if (r() < 0.6) {
    // "::" for a random run of groups (possibly of non-zero ones: then it is another address, or none)
    const from = Math.floor(r() * (parts.length + 1));
    const to = from + Math.floor(r() * (parts.length - from + 1));
    const text = `${parts.slice(0, from).join(':')}::${parts.slice(to).join(':')}`;
    return tail ? (text.endsWith('::') ? `${text}${tail}` : `${text}:${tail}`) : text;
  }
  return [...parts, ...(tail ? [tail] : [])].join(':');
}

/** A small edit of valid text: most are no longer addresses. */
function mutate(s: string, r: () => number): string {
  const at = Math.floor(r() * (s.length + 1));
  const chars = ':.0fFgx1:%';
  switch (Math.floor(r() * 4)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + chars[Math.floor(r() * chars.length)] + s.slice(at);
    case 2:
      return `${s}:${s}`;
    default:
      return s.slice(0, at) + s.slice(at).replace(/[0-9a-f]/i, '12345');
  }
}

describe('parseIPv6', () => {
  it('takes what node isIPv6 takes and gives the address the URL parser reads, on 20000 generated strings', () => {
    const r = rng(19);
    let valid = 0;
    for (let k = 0; k < 20000; k++) {
      const s = k % 2 ? mutate(sample(r), r) : sample(r);
      const got = parseIPv6(s);
      const want = isIPv6(s) && !s.includes('%');
      expect({ s, ok: got !== undefined }).toEqual({ s, ok: want });
      if (got) {
        valid++;
        expect({ s, text: formatIPv6(got) }).toEqual({ s, text: urlCanonical(s) });
      }
    }
    expect(valid).toBeGreaterThan(5000);
  });

  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['fe80::d00d:aff:fe00:1', 'fe80::d00d:aff:fe00:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('reads %s as %s', (text, canonical) => {
    expect(formatIPv6(parseIPv6(text) ?? new Uint8Array(16).fill(255))).toBe(canonical);
  });

  it.each([
    ':',
    ':::',
    '1:::2',
    '1::2::3',
    '1:',
    ':1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::',
    '1.2.3.4',
    '::1.2.3',
    '::01.2.3.4',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:8::',
    '',
  ])('refuses %j', (text) => {
    expect(parseIPv6(text)).toBeUndefined();
  });
});
