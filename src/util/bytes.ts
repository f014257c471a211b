// Byte strings as JavaScript strings, for keys and sorting.

/**
 * Bytes as a string of one char per byte: equal exactly when the bytes are,
 * and JavaScript's string order is the bytes' order. Cheaper than hex or
 * Buffer.compare for short values such as addresses and set keys (no call
 * into C++ per value).
 */
export function byteString(b: Uint8Array): string {
  if (b.length > 32) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
