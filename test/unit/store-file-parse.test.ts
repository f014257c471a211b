// The file store's parse of successive versions (src/store/file-parse.ts):
// the elements of `groups` and `instances` whose bytes did not change are the
// last version's objects, only the others are parsed, and the result is
// always what JSON.parse gives.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { formatState } from '../../src/managed/statefile.js';
import { FileStore } from '../../src/store/file.js';
import { ReusingParser, commonPrefix, commonSuffix, scanChange, scanTop } from '../../src/store/file-parse.js';
import { warmUpVariants } from '../../src/store/file-warm.js';
import { Rng } from '../fuzz/prng.js';
import { repoRoot } from '../helpers/cli.js';

type Doc = { groups: Array<Record<string, unknown>>; instances: Array<Record<string, unknown>>; [k: string]: unknown };

const cloud = (n: number): Doc => ({
  mode: 'MANAGED',
  subnet: '10.0.0.0/8',
  groups: [
    { owner: 'admin', name: 'g0', rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }] },
    { owner: 'admin', name: 'g1', rules: [] },
  ],
  instances: Array.from({ length: n }, (_, k) => ({ id: `i-${k}`, group: `admin/g${k % 2}`, node: 'nc1', port: `vn${k}`, mac: `d0:0d:00:00:00:${k % 100}` })),
  nodes: { nc1: { privateInterface: 'eth0' } },
});

const buf = (d: unknown, pretty = true) => Buffer.from(pretty ? formatState(d) : JSON.stringify(d));

describe('ReusingParser', () => {
  it('hands an unchanged instance over as the last version object, and parses only the changed one', () => {
    const p = new ReusingParser();
    const d = cloud(1000);
    const a = p.parse(buf(d), 'f') as Doc;
    expect(p.stats).toEqual({ reused: 0, parsed: 1002, whole: false });
    d.instances[500] = { ...d.instances[500], port: 'changed' };
    const b = p.parse(buf(d), 'f') as Doc;
    expect(b).toEqual(JSON.parse(formatState(d)));
    expect(p.stats).toEqual({ reused: 1001, parsed: 1, whole: false });
    for (const k of [0, 499, 501, 999]) expect(b.instances[k]).toBe(a.instances[k]);
    expect(b.instances[500]).not.toBe(a.instances[500]);
    expect(b.groups[0]).toBe(a.groups[0]);
  });

  it('reuses across a size change (an instance added in the middle, a rule added to a group)', () => {
    const p = new ReusingParser();
    const d = cloud(50);
    const a = p.parse(buf(d), 'f') as Doc;
    d.instances.splice(20, 0, { id: 'i-new', group: 'admin/g0', node: 'nc1', port: 'vnew' });
    (d.groups[1].rules as unknown[]).push({ protocol: 'udp', from: 53, to: 53, cidr: '0.0.0.0/0' });
    const b = p.parse(buf(d), 'f') as Doc;
    expect(b).toEqual(JSON.parse(formatState(d)));
    expect(b.instances[49]).toBe(a.instances[48]);
    expect(b.instances[0]).toBe(a.instances[0]);
    expect(b.groups[0]).toBe(a.groups[0]);
    expect(b.groups[1]).not.toBe(a.groups[1]);
  });

  it('gives what JSON.parse gives over random edits, never one object twice in a version', () => {
    const rng = new Rng(16);
    for (let run = 0; run < 40; run++) {
      const p = new ReusingParser();
      const d = cloud(rng.below(30));
      const pretty = rng.chance(0.5);
      for (let v = 0; v < 15; v++) {
        const k = rng.below(d.instances.length + 1);
        const edit = rng.below(7);
        if (edit === 0 && d.instances.length) d.instances.splice(k % d.instances.length, 1);
        else if (edit === 1) d.instances.splice(k, 0, { id: `i-${run}-${v}`, group: 'admin/g0', node: 'nc1', port: `p${v}` });
        else if (edit === 2 && d.instances.length) d.instances[k % d.instances.length] = { ...d.instances[k % d.instances.length], port: `x${v}` };
        else if (edit === 3 && d.instances.length)
          d.instances.push({ ...d.instances[0] }); // a duplicate element
        else if (edit === 4) d[`s${rng.below(3)}`] = rng.below(100);
        else if (edit === 5) (d.groups[rng.below(2)].rules as unknown[]).push({ protocol: 'tcp', from: v, to: v, cidr: '0.0.0.0/0' });
        else d.instances.reverse();
        const text = buf(d, pretty);
        const got = p.parse(text, 'f') as Doc;
        expect(got).toEqual(JSON.parse(text.toString()));
        expect(p.stats.whole).toBe(false);
        const objs = [...got.instances, ...got.groups];
        expect(new Set(objs).size).toBe(objs.length);
      }
    }
  });

  it('invalid JSON: the error of a whole parse, naming the file', () => {
    const p = new ReusingParser();
    p.parse(buf(cloud(3)), 'cloud.json');
    const bad = Buffer.from(formatState(cloud(3)).replace('"port": "vn1"', '"port": vn1'));
    expect(() => p.parse(bad, 'cloud.json')).toThrow(ValidationError);
    expect(() => p.parse(bad, 'cloud.json')).toThrow(/cloud\.json.*not valid JSON/);
    expect(p.stats.whole).toBe(true);
    for (const text of ['{"instances": [{"id": 1},]}', '{"instances": [,{}]}', '{"instances": [{} {}]}', '{"a": 1} x', '{"instances": [{"a": [}]]}'])
      expect(() => p.parse(Buffer.from(text), 'f'), text).toThrow(/not valid JSON/);
  });

  it('what the scan does not follow is parsed whole, as JSON.parse does (a duplicate key, an escaped key, a list that is not one)', () => {
    const p = new ReusingParser();
    for (const text of [
      '{"instances": [{"id": 1}], "instances": [{"id": 2}]}',
      '{"inst\\u0061nces": [{"id": 3}]}',
      '{"groups": 7, "instances": {"a": [1]}}',
      '  {}  ',
    ]) {
      expect(p.parse(Buffer.from(text), 'f'), text).toEqual(JSON.parse(text));
    }
    expect(scanTop(Buffer.from('{"instances": [{"id": "a\\"]"}, 2]}'))?.[0]?.elems).toEqual([15, 29, 31, 32]);
  });

  it('commonPrefix and commonSuffix', () => {
    const a = Buffer.from('abcdefgh');
    const b = Buffer.from('abcXefgh');
    expect(commonPrefix(a, b)).toBe(3);
    expect(commonSuffix(a, b, 8)).toBe(4);
    expect(commonSuffix(a, b, 2)).toBe(2);
    expect(commonPrefix(a, a)).toBe(8);
    expect(commonPrefix(Buffer.from(''), a)).toBe(0);
  });
});

describe('FileStore.warmUp', () => {
  it('parses a moved copy and edited copies of the last version in memory and leaves the parser on the version itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-warm-'));
    try {
      const file = join(dir, 'cloud.json');
      const d = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')) as Doc;
      const n = d.instances.length + d.groups.length;
      writeFileSync(file, formatState(d));
      const store = new FileStore(file);
      store.warmUp(); // nothing read yet: nothing to do
      expect(store.parser.lastBytes).toBeUndefined();
      const first = await store.read();
      const a = first.state as unknown as Doc;
      const parses: Array<typeof store.parser.stats> = [];
      const parse = store.parser.parse.bind(store.parser);
      store.parser.parse = (b, src) => {
        const out = parse(b, src);
        parses.push(store.parser.stats);
        return out;
      };
      const version = first.version;
      store.warmUp();
      // The moved copy: every element after the change (one byte in front),
      // taken from the last version; then the version itself; then each
      // edited copy (a group, an instance changed: one element parsed) and
      // the version itself after it (that element parsed back).
      const one = { reused: n - 1, parsed: 1, whole: false };
      expect(parses).toEqual([{ reused: n, parsed: 0, whole: false }, { reused: n, parsed: 0, whole: false }, one, one, one, one]);
      expect(store.parser.lastBytes?.equals(readFileSync(file))).toBe(true);
      // The store reads the version as before the warm-up.
      const again = await store.read();
      expect(again.version).toBe(version);
      expect(again.state).toEqual(a);
      d.instances[3] = { ...d.instances[3], port: 'vnet-other' };
      writeFileSync(file, formatState(d));
      const b = (await store.read()).state as unknown as Doc;
      expect(b.instances[4]).toBe(a.instances[4]);
      expect(b.instances[3]).not.toBe(a.instances[3]);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('warmUpVariants', () => {
  it('makes a copy with one more rule in the first group, and one with the last instance port renamed, both valid JSON', () => {
    const d = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')) as Doc & { groups: Array<{ rules: unknown[] }> };
    const bytes = Buffer.from(formatState(d));
    const [rule, port] = warmUpVariants(bytes).map((b) => JSON.parse(b.toString()) as typeof d);
    expect(rule.groups[0].rules).toEqual([{ protocol: 'tcp', from: 65535, to: 65535, cidr: '192.0.2.0/24' }, ...d.groups[0].rules]);
    expect({ ...rule, groups: rule.groups.slice(1) }).toEqual({ ...d, groups: d.groups.slice(1) });
    const last = d.instances.length - 1;
    expect(port.instances[last]).toEqual({ ...d.instances[last], port: `w${String(d.instances[last].port)}` });
    expect({ ...port, instances: port.instances.slice(0, last) }).toEqual({ ...d, instances: d.instances.slice(0, last) });
    // A group with no rules yet, compact JSON as the benchmarks write it.
    const empty = Buffer.from(JSON.stringify({ groups: [{ owner: 'a', name: 'b', rules: [] }], instances: [] }));
    expect(warmUpVariants(empty).map((b) => JSON.parse(b.toString()) as unknown)).toEqual([
      { groups: [{ owner: 'a', name: 'b', rules: [{ protocol: 'tcp', from: 65535, to: 65535, cidr: '192.0.2.0/24' }] }], instances: [] },
    ]);
  });
});

describe('scanChange', () => {
  it('scans only between the common prefix and suffix: what scanTop finds, over random edits (or undefined: scanTop then)', () => {
    const rng = new Rng(61);
    let taken = 0;
    for (let run = 0; run < 40; run++) {
      const d = cloud(rng.below(30));
      const pretty = rng.chance(0.5);
      let last = buf(d, pretty);
      let scan = scanTop(last)!;
      for (let v = 0; v < 15; v++) {
        const k = rng.below(d.instances.length + 1);
        const edit = rng.below(6);
        if (edit === 0 && d.instances.length) d.instances.splice(k % d.instances.length, 1);
        else if (edit === 1) d.instances.splice(k, 0, { id: `i-${run}-${v}`, group: 'admin/g0', node: 'nc1', port: `p${v}` });
        else if (edit === 2 && d.instances.length) d.instances[k % d.instances.length] = { ...d.instances[k % d.instances.length], port: `x${v}` };
        else if (edit === 3) d[`s${rng.below(3)}`] = rng.below(100);
        else if (edit === 4) (d.groups[rng.below(2)].rules as unknown[]).push({ protocol: 'tcp', from: v, to: v, cidr: '0.0.0.0/0' });
        else d.instances.push({ id: `i-end-${run}-${v}`, group: 'admin/g1', node: 'nc1', port: `e${v}` });
        const text = buf(d, pretty);
        const prefix = commonPrefix(last, text);
        const got = scanChange(text, { bytes: last, scan }, prefix, commonSuffix(last, text, Math.min(last.length, text.length) - prefix));
        const want = scanTop(text)!;
        if (got) {
          taken++;
          expect(got).toEqual(want);
        }
        last = text;
        scan = want;
      }
    }
    // Most edits are within one list: those are taken.
    expect(taken).toBeGreaterThan(300);
  });

  it('a run-instance, a terminate and an authorize at 5000 instances: found from the last scan', () => {
    const d = cloud(5000);
    let last = buf(d);
    let scan = scanTop(last)!;
    const edits: Array<() => void> = [
      () => d.instances.push({ id: 'i-new', group: 'admin/g0', node: 'nc1', port: 'vnew' }),
      () => d.instances.pop(),
      () => (d.groups[0].rules as unknown[]).push({ protocol: 'tcp', from: 80, to: 80, cidr: '0.0.0.0/0' }),
      () => d.instances.splice(2500, 1),
    ];
    for (const edit of edits) {
      edit();
      const text = buf(d);
      const prefix = commonPrefix(last, text);
      const got = scanChange(text, { bytes: last, scan }, prefix, commonSuffix(last, text, Math.min(last.length, text.length) - prefix));
      expect(got).toEqual(scanTop(text));
      last = text;
      scan = got!;
    }
    // The same bytes again: the last scan itself.
    expect(scanChange(last, { bytes: last, scan }, last.length, 0)).toBe(scan);
  });
});

describe('scanChange, a change that reaches past its list', () => {
  it('leaves it to scanTop (an instance changed and a key after the list)', () => {
    const d = cloud(50);
    const last = buf(d);
    const scan = scanTop(last)!;
    d.instances[1] = { ...d.instances[1], port: 'moved' };
    d.nodes = { nc1: { privateInterface: 'eth9' } }; // after the list
    const text = buf(d);
    const prefix = commonPrefix(last, text);
    const suffix = commonSuffix(last, text, Math.min(last.length, text.length) - prefix);
    expect(scanChange(text, { bytes: last, scan }, prefix, suffix)).toBeUndefined();
    const p = new ReusingParser();
    p.parse(last, 'f');
    expect(p.parse(text, 'f')).toEqual(JSON.parse(text.toString()));
  });
});
