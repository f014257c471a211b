// Decoders on captured kernel dumps (capture.mjs --dump: the replies the
// kernel sent to `nft list ruleset`), checked two ways: rendered, they read
// like nft's own listing; as typed objects, they equal what the library
// writes for the same ruleset.
import { describe, expect, it } from 'vitest';
import { renderRuleset, type Chain, type Rule } from '../../src/nft/index.js';
import type { Batch } from '../../src/nft/batch.js';
import { decodeDump, nftListing } from '../fixtures/nft/dump.js';
import { miscBatch, seedBatch, setsBatch } from '../fixtures/nft/rulesets.js';

const cases: Array<[string, () => Batch]> = [
  ['seed', seedBatch],
  ['sets', setsBatch],
  ['misc', miscBatch],
];

/** What the batch writes, as the kernel would report it (base chains get the default policy). */
function written(b: Batch) {
  const rules: Rule[] = [];
  const chains: Chain[] = [];
  for (const op of b.ops) {
    if (op.kind === 'rule') rules.push(op.rule);
    if (op.kind === 'chain' && op.verb !== 'delete') chains.push(op.chain.hook ? { policy: 'accept', ...op.chain } : op.chain);
  }
  return { rules, chains };
}

const noHandle = <T extends { handle?: bigint }>(x: T): Omit<T, 'handle'> => {
  const { handle: _h, ...rest } = x;
  return rest;
};

describe('decoding kernel dumps', () => {
  it("anon: rules with nft's anonymous sets and maps render with the sets inline", () => {
    const rs = decodeDump('anon');
    expect(rs.sets.every((s) => s.flags?.includes('anonymous'))).toBe(true);
    expect(renderRuleset(rs)).toBe(nftListing('anon'));
  });

  for (const [name, build] of cases) {
    it(`${name}: renders as nft lists it`, () => {
      // nft names interfaces by index lookup (iif "lo"); the library prints the index.
      const ours = renderRuleset(decodeDump(name));
      expect(ours).toBe(nftListing(name).replace(/\b(iif|oif) "lo"/g, '$1 1'));
    });

    it(`${name}: rules and chains decode to the typed objects the library writes`, () => {
      const rs = decodeDump(name);
      const w = written(build());
      const key = (r: { family: string; table: string; chain?: string; name?: string }) => `${r.family} ${r.table} ${r.chain ?? r.name}`;
      for (const k of new Set(w.rules.map(key))) {
        expect(rs.rules.filter((r) => key(r) === k).map(noHandle), k).toEqual(w.rules.filter((r) => key(r) === k));
      }
      for (const c of w.chains) expect(rs.chains.map(noHandle)).toContainEqual(c);
    });
  }

  it('sets: sets and elements decode to what the library writes', () => {
    const rs = decodeDump('sets');
    const b = setsBatch();
    for (const op of b.ops) {
      if (op.kind === 'set') expect(rs.sets.map(noHandle)).toContainEqual(op.set);
      if (op.kind === 'elements') {
        const got = rs.elements!.get(`${op.set.family} ${op.set.table} ${op.set.name}`)!.map(({ expires: _e, ...e }) => e);
        const want = [...op.elements].sort((a, b) => Buffer.compare(a.key, b.key));
        expect(got, op.set.name).toEqual(want);
      }
    }
  });
});
