// Parsing successive versions of the state file at the cost of what changed
// between them. An operation rewrites the whole file (0.58 MB at 5000
// instances) but changes a few bytes of it: JSON.parse of the whole text was
// most of an agent's read, and the interner then compared every parsed
// instance with the last version's, value by value.
//
// Here the new bytes are compared with the last version's (the common prefix
// and suffix, memcmp), and the file is scanned for its structure only: the
// top-level object's keys, and the byte range of each element of its
// `groups` and `instances` arrays. An element whose bytes lie wholly in the
// common prefix (at the same offset) or the common suffix (at the same offset
// from the end) is the very text of an element parsed last time at that
// place, so it is that element's object; only the others are parsed. The rest
// of the document (settings, hosts, with each list emptied) is parsed whole,
// a few KB. The result is what JSON.parse gives, object for object; anything
// the scan does not expect (a duplicate top-level key, an escape in one, a
// malformed list) makes it parse the whole text with JSON.parse, whose error
// names the problem.
import { parseJson } from '../managed/validate.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

type ListKey = 'groups' | 'instances';
const LISTS: ReadonlySet<string> = new Set<ListKey>(['groups', 'instances']);

/** A top-level list as scanned: its key, the offsets of its `[` and `]`, and its elements' [start, end) offsets. */
export interface ScannedList {
  key: ListKey;
  open: number;
  close: number;
  elems: number[];
}

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function ws(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i])) i++;
  return i;
}

/** The offset just past the string that starts at `i` (a quote); -1 if it does not end. */
function skipString(b: Uint8Array, i: number): number {
  const n = b.length;
  for (i++; i < n; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  return -1;
}

/** The offset just past the value that starts at `i`; -1 when it is not one (the parse of its text says why). */
function skipValue(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return skipString(b, i);
  if (c === LBRACE || c === LBRACKET) {
    let depth = 0;
    while (i < b.length) {
      const x = b[i];
      if (x === QUOTE) {
        i = skipString(b, i);
        if (i < 0) return -1;
        continue;
      }
      if (x === LBRACE || x === LBRACKET) depth++;
      else if (x === RBRACE || x === RBRACKET) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  const start = i;
  while (i < b.length && !isWs(b[i]) && b[i] !== COMMA && b[i] !== RBRACE && b[i] !== RBRACKET) i++;
  return i > start ? i : -1;
}

/** The list whose `[` is at `i`: its elements' ranges; undefined if malformed. */
function scanList(b: Buffer, key: ListKey, i: number): ScannedList | undefined {
  const out: ScannedList = { key, open: i, close: -1, elems: [] };
  i = ws(b, i + 1);
  if (b[i] === RBRACKET) return { ...out, close: i };
  for (;;) {
    const end = skipValue(b, i);
    if (end < 0) return undefined;
    out.elems.push(i, end);
    i = ws(b, end);
    if (b[i] === RBRACKET) return { ...out, close: i };
    if (b[i] !== COMMA) return undefined;
    i = ws(b, i + 1);
  }
}

/** The top-level object's `groups` and `instances` arrays; undefined when the text is not as expected. */
export function scanTop(b: Buffer): ScannedList[] | undefined {
  let i = ws(b, 0);
  if (b[i] !== LBRACE) return undefined;
  const keys = new Set<string>();
  const lists: ScannedList[] = [];
  i = ws(b, i + 1);
  if (b[i] === RBRACE) return ws(b, i + 1) === b.length ? lists : undefined;
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const keyEnd = skipString(b, i);
    if (keyEnd < 0) return undefined;
    // A key with an escape would need decoding to compare: the whole text is parsed instead.
    if (b.subarray(i + 1, keyEnd - 1).includes(BACKSLASH)) return undefined;
    const key = b.toString('utf8', i + 1, keyEnd - 1);
    if (keys.has(key)) return undefined; // JSON.parse keeps the last: not worth following
    keys.add(key);
    i = ws(b, keyEnd);
    if (b[i] !== COLON) return undefined;
    i = ws(b, i + 1);
    let end: number;
    if (LISTS.has(key) && b[i] === LBRACKET) {
      const l = scanList(b, key as ListKey, i);
      if (!l) return undefined;
      lists.push(l);
      end = l.close + 1;
    } else end = skipValue(b, i);
    if (end < 0) return undefined;
    i = ws(b, end);
    if (b[i] === RBRACE) return ws(b, i + 1) === b.length ? lists : undefined;
    if (b[i] !== COMMA) return undefined;
    i = ws(b, i + 1);
  }
}

/** The length of the common prefix of a and b (binary search over memcmp). */
export function commonPrefix(a: Buffer, b: Buffer): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a.compare(b, lo, mid, lo, mid) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The length of the common suffix of a and b, at most `max`. */
export function commonSuffix(a: Buffer, b: Buffer, max: number): number {
  let lo = 0;
  let hi = Math.min(max, a.length, b.length);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    // The last `lo` bytes are known equal: only the ones before them are compared.
    if (a.compare(b, b.length - mid, b.length - lo, a.length - mid, a.length - lo) === 0) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A version as parsed: its bytes, its scan, and each list's elements ([start, end) offsets) and values in order. */
interface Version {
  bytes: Buffer;
  scan: ScannedList[];
  lists: Map<ListKey, { elems: number[]; values: unknown[] }>;
}

/** The index of the element of `l` that starts at `at` (from `from` on), or -1. */
function elementAt(l: ScannedList, at: number, from: number): number {
  let lo = from;
  let hi = l.elems.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const a = l.elems[2 * mid];
    if (a === at) return mid;
    if (a < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

const shifted = (l: ScannedList, by: number, from = 0): ScannedList => ({
  key: l.key,
  open: l.open - by,
  close: l.close - by,
  elems: l.elems.slice(from).map((x) => x - by),
});

/**
 * scanTop(b) of a version whose bytes are the last one's but for the range
 * [prefix, b.length - suffix), when that range lies among the elements of one
 * list: the last scan is taken for the common prefix (the lists before, the
 * list's elements wholly in it) and for the common suffix (from the first
 * element that starts in it where an element of the last version started,
 * at the same offset from the end: the scan from there is the same), and
 * only the bytes between are scanned (an operation changes one element or
 * two: the scan of a 0.58 MB file was about half a read). Undefined when
 * the change is not of that shape (scanTop then scans the whole text).
 */
export function scanChange(b: Buffer, last: { bytes: Buffer; scan: ScannedList[] }, prefix: number, suffix: number): ScannedList[] | undefined {
  if (prefix === b.length && prefix === last.bytes.length) return last.scan; // the same bytes
  const at = last.scan.findIndex((l) => l.open < prefix && prefix <= l.close);
  if (at < 0) return undefined;
  const was = last.scan[at];
  // The change reaches past this list (an associate-address: an instance and the reserved addresses): scanTop.
  if (last.bytes.length - suffix > was.close) return undefined;
  const shift = last.bytes.length - b.length;
  const from = b.length - suffix; // where the common suffix starts in b
  // The rest of the document from a point in the suffix that is the start of
  // the last version's element m of this list (or its `]`, m = its length).
  const rest = (l: ScannedList, m: number): ScannedList[] => [
    ...last.scan.slice(0, at),
    { ...l, elems: l.elems.concat(shifted(was, shift, 2 * m).elems), close: was.close - shift },
    ...last.scan.slice(at + 1).map((x) => shifted(x, shift)),
  ];
  let k = 0;
  while (k < was.elems.length / 2 && was.elems[2 * k + 1] <= prefix) k++;
  const l: ScannedList = { key: was.key, open: was.open, close: -1, elems: was.elems.slice(0, 2 * k) };
  let i = ws(b, k ? was.elems[2 * k - 1] : was.open + 1);
  if (k) {
    if (b[i] === COMMA) i = ws(b, i + 1);
    else if (b[i] !== RBRACKET) return undefined;
  }
  for (;;) {
    if (i >= from) {
      const m = b[i] === RBRACKET && i + shift === was.close ? was.elems.length / 2 : elementAt(was, i + shift, k);
      if (m >= 0) return rest(l, m);
    }
    if (b[i] === RBRACKET) return undefined; // closed before the common suffix: the change reaches past this list
    const end = skipValue(b, i);
    if (end < 0) return undefined;
    l.elems.push(i, end);
    i = ws(b, end);
    if (b[i] === COMMA) i = ws(b, i + 1);
    else if (b[i] !== RBRACKET) return undefined;
  }
}

export class ReusingParser {
  private last?: Version;
  /** How the last parse went: elements reused and parsed (for tests and the benchmark). */
  stats = { reused: 0, parsed: 0, whole: false };

  /** The bytes last parsed (by the incremental path), if any. */
  get lastBytes(): Buffer | undefined {
    return this.last?.bytes;
  }

  /** `bytes` parsed as JSON (errors as parseJson's, naming `source`). */
  parse(bytes: Buffer, source: string): unknown {
    const last = this.last;
    const prefix = last ? commonPrefix(last.bytes, bytes) : 0;
    // Prefix and suffix disjoint in both versions: an old element matches one new one at most.
    const suffix = last ? commonSuffix(last.bytes, bytes, Math.min(last.bytes.length, bytes.length) - prefix) : 0;
    const lists = (last && scanChange(bytes, last, prefix, suffix)) ?? scanTop(bytes);
    if (!lists) return this.whole(bytes, source);
    const now: Version = { bytes, scan: lists, lists: new Map() };
    let parsed = 0;
    let reused = 0;
    for (const l of lists) {
      const before = last?.lists.get(l.key);
      const values = before ? this.sameBytes(l, before, bytes.length, prefix, suffix) : new Array<unknown>(l.elems.length / 2);
      for (let j = 0; j < values.length; j++) {
        if (values[j] !== undefined) {
          reused++;
          continue;
        }
        const a = l.elems[2 * j];
        const e = l.elems[2 * j + 1];
        const old = before && this.aligned(before, j, values.length, bytes, a, e);
        if (old !== undefined) {
          values[j] = old;
          reused++;
          continue;
        }
        try {
          values[j] = JSON.parse(bytes.toString('utf8', a, e));
          parsed++;
        } catch {
          return this.whole(bytes, source);
        }
      }
      now.lists.set(l.key, { elems: l.elems, values });
    }
    // The rest: the text with each list's elements left out.
    const parts: Buffer[] = [];
    let from = 0;
    for (const l of lists) {
      parts.push(bytes.subarray(from, l.open + 1));
      from = l.close;
    }
    parts.push(bytes.subarray(from));
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
    } catch {
      return this.whole(bytes, source);
    }
    for (const [key, list] of now.lists) doc[key] = list.values;
    this.last = now;
    this.stats = { reused, parsed, whole: false };
    return doc;
  }

  /** Which of the last version's elements a value of this version was taken from (aligned() takes no other). */
  private used?: Uint8Array;

  /**
   * The list's values whose bytes lie wholly in the common prefix or suffix
   * with the last version: the same text as the last version's element at the
   * same index from the start (prefix) or from the end (suffix), at the same
   * offset from the file's start or end. Those are the last version's
   * objects; the others are left undefined.
   */
  private sameBytes(l: ScannedList, before: { elems: number[]; values: unknown[] }, size: number, prefix: number, suffix: number): unknown[] {
    const n = l.elems.length / 2;
    const n0 = before.values.length;
    const out = new Array<unknown>(n);
    const used = (this.used = new Uint8Array(n0));
    const shift = (this.last?.bytes.length ?? 0) - size;
    for (let j = 0; j < n; j++) {
      const a = l.elems[2 * j];
      const e = l.elems[2 * j + 1];
      let k = -1;
      if (e <= prefix) k = j;
      else if (a >= size - suffix) k = j + n0 - n;
      const d = e <= prefix ? 0 : shift;
      if (k < 0 || k >= n0 || before.elems[2 * k] !== a + d || before.elems[2 * k + 1] !== e + d) continue;
      out[j] = before.values[k];
      used[k] = 1;
    }
    return out;
  }

  /**
   * An element between changes: the last version's element at the same index
   * from the start or from the end of the list, if its bytes are the same
   * (and no other element took it).
   */
  private aligned(before: { elems: number[]; values: unknown[] }, j: number, n: number, bytes: Buffer, a: number, e: number): unknown {
    const last = this.last;
    const used = this.used;
    if (!last || !used) return undefined;
    const n0 = before.values.length;
    for (const k of [j, j + n0 - n]) {
      if (k < 0 || k >= n0 || used[k]) continue;
      const oa = before.elems[2 * k];
      const oe = before.elems[2 * k + 1];
      if (oe - oa !== e - a || last.bytes.compare(bytes, a, e, oa, oe) !== 0) continue;
      used[k] = 1;
      return before.values[k];
    }
    return undefined;
  }

  private whole(bytes: Buffer, source: string): unknown {
    this.last = undefined;
    this.stats = { reused: 0, parsed: 0, whole: true };
    return parseJson(bytes.toString('utf8'), source);
  }
}
