// A fingerprint of some text, computed without node:crypto: the CC's DHCP
// marker (src/dhcp/server.ts) records which files dnsmasq confirmed loading
// by one, and a cold `eucanet apply --role cc` otherwise loaded node:crypto
// (OpenSSL's setup, about 14 million instructions) for a SHA-256 of them, in
// the middle of its commit (issue 19, the cold path).
//
// Not cryptographic. The marker and the files it describes are in a root-only
// state directory: whoever could make two contents collide could write the
// files themselves. The total length is part of it.

const M1 = 0x9e3779b1; // 2^32 / golden ratio, odd
const M2 = 0x85ebca77; // odd multipliers of murmur3's mixer
const M3 = 0xc2b2ae3d;
const M4 = 0x27d4eb2f;

/**
 * Two 32-bit multiply-xor lanes over the parts' UTF-16 code units, an
 * out-of-range unit (0x10000) between parts so that ("ab", "c") and ("a",
 * "bc") differ, then mixed: "LENGTH-HHHHHHHHHHHHHHHH" (hex).
 */
export function fingerprint(...parts: string[]): string {
  let a = 0x6a09e667;
  let b = 0xbb67ae85;
  let len = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      a = Math.imul(a ^ c, M1);
      b = Math.imul(b ^ c, M4);
    }
    a = Math.imul(a ^ 0x10000, M1);
    b = Math.imul(b ^ 0x10000, M4);
    len += p.length;
  }
  a = Math.imul(a ^ (a >>> 16), M2) ^ Math.imul(b ^ (b >>> 13), M3);
  b = Math.imul(b ^ (b >>> 16), M2) ^ Math.imul(a ^ (a >>> 13), M3);
  a ^= a >>> 15;
  b ^= b >>> 15;
  return `${len.toString(16)}-${hex8(b)}${hex8(a)}`;
}

const hex8 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');
