// The re-apply's element reads (src/nft/wire/setelem-pairs.ts): plain sets
// and maps read from the kernel as key -> value byte strings and compared
// against the desired elements as bytes, no object per element; ranges and
// verdict maps still decoded in full. Checked against the real kernel in a
// throw-away namespace, with `nft -j list ruleset` as the oracle.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import type { NftSet } from '../../src/nft/types.js';
import { byteString } from '../../src/util/bytes.js';
import type { DesiredState } from '../../src/tx/desired.js';
import { readOwned } from '../../src/tx/nft-diff.js';
import { plan, reconcile } from '../../src/tx/reconcile.js';
import { isRoot, nftRuleset, withHandle } from '../helpers/netns.js';

const T = 'eucanet';
const pm: NftSet = { family: 'ip', table: T, name: 'pm', key: 'ipv4_addr', data: 'ipv4_addr' };
const ps: NftSet = { family: 'ip', table: T, name: 'ps', key: 'ipv4_addr' };
const pp: NftSet = { family: 'ip', table: T, name: 'pp', key: 'inet_service', data: 'mark' };
const pi: NftSet = { family: 'ip', table: T, name: 'pi', key: 'ipv4_addr', flags: ['interval'] };

const pairs = (n: number, base = 0) =>
  Array.from({ length: n }, (_, i) => [`172.16.${i >> 8}.${i & 255}`, `10.1.${(i + base) >> 8}.${(i + base) & 255}`] as [string, string]);

function want(mapElems: [string, string][], extra: Partial<Record<'ps' | 'pp' | 'pi', unknown[]>> = {}): DesiredState {
  return {
    nft: {
      tables: [{ family: 'ip', name: T }],
      chains: [],
      sets: [
        { ...pm, elements: mapElems },
        { ...ps, elements: (extra.ps ?? ['192.0.2.1', '192.0.2.2']) as never },
        {
          ...pp,
          elements: (extra.pp ?? [
            [22, 1],
            [80, 2],
          ]) as never,
        },
        { ...pi, elements: (extra.pi ?? ['198.51.100.0/24', '203.0.113.10-203.0.113.20']) as never },
      ],
      rules: [],
    },
  };
}

/** The map's elements as the kernel lists them (nft -j), "key value" sorted. */
function mapInKernel(ns: string, name: string): string[] {
  const set = nftRuleset(ns).find((o) => o.map?.name === name || o.set?.name === name);
  const elem = (set?.map ?? set?.set)?.elem ?? [];
  return elem.map((e: unknown) => (Array.isArray(e) ? `${e[0]} ${e[1]}` : String(e))).sort();
}

describe.skipIf(!isRoot)('re-apply compares plain set elements as bytes (root)', () => {
  it('reads plain sets and maps as byte pairs equal to the full decode, ranges in full', async () => {
    await withHandle(async (h) => {
      await reconcile(h, want(pairs(300)));
      const cur = await readOwned(h.nft);
      expect([...(cur.pairs?.keys() ?? [])].sort()).toEqual(['ip eucanet pm', 'ip eucanet pp', 'ip eucanet ps']);
      expect([...cur.elements.keys()]).toEqual(['ip eucanet pi']);
      for (const [k, { pairs: p, full }] of cur.pairs ?? []) {
        const decoded = full();
        expect(p.size, k).toBe(decoded.length);
        for (const e of decoded) expect(p.get(byteString(e.key)), k).toBe(e.data ? byteString(e.data) : '');
      }
      expect(cur.pairs?.get('ip eucanet pm')?.pairs.get(String.fromCharCode(172, 16, 1, 2))).toBe(String.fromCharCode(10, 1, 1, 2));
    });
  });

  it('changes exactly the elements that differ, and then nothing', async () => {
    await withHandle(async (h, ns) => {
      await reconcile(h, want(pairs(300)));
      // 300 -> 290 elements: 10 gone, 5 with a new value, 20 new.
      const next = pairs(310).slice(10);
      for (let i = 0; i < 5; i++) next[i][1] = `10.9.0.${i}`;
      const p = await plan(
        h,
        want(next, {
          ps: ['192.0.2.2', '192.0.2.3'],
          pp: [
            [22, 1],
            [80, 3],
          ],
        }),
      );
      const text = p.changes.toString();
      expect(text).toMatch(/delete element ip eucanet pm \{ 172\.16\.0\.0, 172\.16\.0\.1,/);
      expect(text).toContain('delete element ip eucanet ps { 192.0.2.1 }');
      expect(text).toContain('add element ip eucanet ps { 192.0.2.3 }');
      expect(p.changes.size).toBe(6);
      await reconcile(
        h,
        want(next, {
          ps: ['192.0.2.2', '192.0.2.3'],
          pp: [
            [22, 1],
            [80, 3],
          ],
        }),
      );
      expect(mapInKernel(ns, 'pm')).toEqual(next.map(([k, v]) => `${k} ${v}`).sort());
      expect(mapInKernel(ns, 'ps')).toEqual(['192.0.2.2', '192.0.2.3']);
      expect(mapInKernel(ns, 'pp')).toEqual(['22 1', '80 3']);
      expect(
        (
          await plan(
            h,
            want(next, {
              ps: ['192.0.2.2', '192.0.2.3'],
              pp: [
                [22, 1],
                [80, 3],
              ],
            }),
          )
        ).size,
      ).toBe(0);
    });
  });

  it('desired elements not in plain form (objects) are compared in full, with the same answer', async () => {
    await withHandle(async (h) => {
      await reconcile(h, want(pairs(10)));
      const objects = pairs(10).map(([key, data]) => ({ key, data }));
      expect((await plan(h, want(objects as never))).size).toBe(0);
      const changed = objects.map((o, i) => (i === 3 ? { ...o, data: '10.7.7.7' } : o));
      expect((await plan(h, want(changed as never))).changes.toString()).toContain('add element ip eucanet pm { 172.16.0.3 : 10.7.7.7 }');
    });
  });

  it('bad desired elements are refused naming the element, before anything is sent', async () => {
    await withHandle(async (h, ns) => {
      await reconcile(h, want(pairs(10)));
      const bad = pairs(10);
      bad[7] = ['172.16.0.07', '10.1.0.7'];
      const err = await plan(h, want(bad)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(String((err as Error).message)).toMatch(/pm element #7 key.*172\.16\.0\.07/);
      expect(mapInKernel(ns, 'pm')).toEqual(
        pairs(10)
          .map(([k, v]) => `${k} ${v}`)
          .sort(),
      );
    });
  });
});
