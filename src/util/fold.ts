// Case-insensitive equality of two strings, as `a.toLowerCase() ===
// b.toLowerCase()`, without making the lower-case copies for ASCII text
// (MACs, hostnames): a check of one new name against thousands costs a
// compare of each, not two strings made for each.

const isAsciiLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** a.toLowerCase() === b.toLowerCase(). */
export function sameFolded(a: string, b: string): boolean {
  if (a === b) return true;
  const n = a.length;
  // Non-ASCII text may change length when lowered: compared the slow way.
  if (n !== b.length) return hasNonAscii(a) || hasNonAscii(b) ? a.toLowerCase() === b.toLowerCase() : false;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x80 || y >= 0x80) return a.toLowerCase() === b.toLowerCase();
    if ((x | 0x20) !== (y | 0x20) || !isAsciiLetter(x) || !isAsciiLetter(y)) return false;
  }
  return true;
}

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return true;
  return false;
}
