// The IPv4 parsers every element and address goes through (src/util/ip.ts):
// parseIPv4 (bytes) and ipv4Chars (the same bytes as a one-byte string, what
// the re-apply compares set elements by) accept and refuse the same text.
import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIPv4, ipFamily, ipv4Chars, ipv4Number, parseIPv4 } from '../../src/util/ip.js';

const good = ['0.0.0.0', '1.2.3.4', '10.1.0.255', '172.16.3.7', '255.255.255.255', '192.168.100.10'];
const bad = [
  '',
  '1.2.3',
  '1.2.3.4.5',
  '01.2.3.4',
  '1.2.3.04',
  '256.1.1.1',
  '1.2.3.256',
  '1..3.4',
  '1.2.3.',
  '.1.2.3',
  'a.b.c.d',
  '1.2.3.4 ',
  '1234.1.1.1',
  '1.2.3.-4',
];

describe('IPv4 text', () => {
  it('gives the network-order bytes, as a Buffer and as a string', () => {
    for (const s of good) {
      const octets = s.split('.').map(Number);
      expect([...(parseIPv4(s) ?? [])], s).toEqual(octets);
      expect(ipv4Chars(s), s).toBe(String.fromCharCode(...octets));
      expect(ipv4Number(s), s).toBe(((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0);
    }
  });
  it('refuses the same malformed text in both forms', () => {
    for (const s of bad) {
      expect(parseIPv4(s), s).toBeUndefined();
      expect(ipv4Chars(s), s).toBeUndefined();
      expect(ipv4Number(s), s).toBe(-1);
    }
  });
  it('says IPv4 exactly where node:net isIPv4 does (ipFamily no longer asks it)', () => {
    for (const s of [...good, ...bad, '::1', '::ffff:1.2.3.4', '1.2.3.4/32']) expect(ipFamily(s) === 4, s).toBe(isIPv4(s));
  });
});

describe('formatIPv4 (texts kept by address)', () => {
  it('gives every address its own text, through the store being emptied and refilled', () => {
    const b = new Uint8Array(4);
    // 40000 distinct addresses (more than the store keeps), each formatted twice.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40000; i++) {
        const v = (i * 2654435761) >>> 0;
        b[0] = v >>> 24;
        b[1] = (v >>> 16) & 255;
        b[2] = (v >>> 8) & 255;
        b[3] = v & 255;
        expect(formatIPv4(b)).toBe(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
      }
    }
  });
  it('keys by all 32 bits, the high bit and an offset included', () => {
    expect(formatIPv4(Uint8Array.from([255, 255, 255, 255]))).toBe('255.255.255.255');
    expect(formatIPv4(Uint8Array.from([128, 0, 0, 1]))).toBe('128.0.0.1');
    expect(formatIPv4(Uint8Array.from([0, 0, 0, 0]))).toBe('0.0.0.0');
    expect(formatIPv4(Uint8Array.from([9, 9, 10, 0, 0, 1]), 2)).toBe('10.0.0.1');
    expect(formatIPv4(Uint8Array.from([9, 9, 10, 0, 0, 2]), 2)).toBe('10.0.0.2');
  });
});
