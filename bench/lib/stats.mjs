// Medians and the numbers the tables print.

/**
 * The value, which the caller knows is there (a map entry it made): throws if not.
 * @template T
 * @param {T | undefined} v
 * @returns {T}
 */
export function must(v) {
  if (v === undefined) throw new Error('bench: a value that must be there is missing');
  return v;
}
/** @param {number[]} xs */
export function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** @param {number} x @param {number} [d] */
export const round = (x, d = 1) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

/** "12.3" for milliseconds, with fewer decimals as numbers grow. @param {number} x */
export function ms(x) {
  if (!Number.isFinite(x)) return '–';
  return x >= 1000 ? x.toFixed(0) : x >= 100 ? x.toFixed(1) : x.toFixed(2);
}
