// Big batches: 10,000 rules, 10,000 map elements and 10,000 interval
// elements each go in one batch, one sendto(), with no ENOBUFS or EMSGSIZE;
// element lists longer than one message are split, and an error deep in a
// split list still names its op and element.
import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../../src/errors.js';
import { renderElements, rule, type NftSet } from '../../src/nft/index.js';
import { isRoot, nsExec, withNft } from '../helpers/netns.js';

const N = 10_000;
const pub = (i: number) => `100.${(i >> 8) & 255}.${i & 255}.1`;
const priv = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.2`;

describe.skipIf(!isRoot)('big nft batches', () => {
  it('10,000 rules in one batch', async () => {
    await withNft(async (nft, ns) => {
      const b = nft.batch();
      b.addTable({ family: 'ip', name: 'nat' });
      b.addChain({ family: 'ip', table: 'nat', name: 'pre', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' });
      for (let i = 0; i < N; i++) b.addRule({ family: 'ip', table: 'nat', chain: 'pre', exprs: rule().ipDaddr(pub(i)).tcpDport(22).dnat(priv(i)) });
      expect(b.encode().length).toBeGreaterThan(2_000_000);
      await b.commit();
      const rules = await nft.listRules('ip', 'nat', 'pre');
      expect(rules.length).toBe(N);
      const last = b.ops[N + 1];
      expect(last.kind === 'rule' && rules[N - 1].exprs).toEqual(last.kind === 'rule' && last.rule.exprs);
      const text = nsExec(ns, 'nft', ['list', 'chain', 'ip', 'nat', 'pre']);
      expect(text.match(/dnat to/g)?.length).toBe(N);
    });
  });

  it('10,000 map elements, and 10,000 interval elements, in one batch each', async () => {
    await withNft(async (nft) => {
      const map: NftSet = { family: 'ip', table: 'nat', name: 'pubmap', key: 'ipv4_addr', data: 'ipv4_addr' };
      const nets: NftSet = { family: 'ip', table: 'nat', name: 'nets', key: 'ipv4_addr', flags: ['interval'] };
      const pairs = Array.from({ length: N }, (_, i) => [pub(i), priv(i)] as const);
      const b = nft.batch().addTable({ family: 'ip', name: 'nat' }).addSet(map).addElements(map, pairs);
      expect(b.messages).toBeGreaterThan(4); // the element list took several messages
      await b.commit();
      expect((await nft.listElements(map)).length).toBe(N);

      const cidrs = Array.from({ length: N }, (_, i) => `${20 + (i >> 8)}.${i & 255}.0.0/16`);
      await nft.batch().addSet(nets).addElements(nets, cidrs).commit();
      const got = await nft.listElements(nets);
      expect(got.length).toBe(N);
      expect(renderElements(nets, got.slice(0, 2))).toBe('{ 20.0.0.0/16, 20.1.0.0/16 }');

      // Delete every other map element in one batch.
      await nft
        .batch()
        .deleteElements(
          map,
          pairs.filter((_, i) => i % 2).map(([k]) => k),
        )
        .commit();
      expect((await nft.listElements(map)).length).toBe(N / 2);
    });
  });

  it('an error in the 3rd message of a split element list names the op and the element', async () => {
    await withNft(async (nft) => {
      const map: NftSet = { family: 'ip', table: 'nat', name: 'pubmap', key: 'ipv4_addr', data: 'ipv4_addr' };
      await nft.batch().addTable({ family: 'ip', name: 'nat' }).addSet(map).commit();
      await nft
        .batch()
        .addElements(map, [[pub(5000), priv(5000)]])
        .commit();
      // create (NLM_F_EXCL) fails on the element that already exists, the 5001st.
      const b = nft.batch().createElements(
        map,
        Array.from({ length: N }, (_, i) => [pub(i), priv(i)] as const),
      );
      const err = (await b.commit().catch((e: unknown) => e)) as NetlinkError;
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err.code).toBe('EEXIST');
      expect(err.opIndex).toBe(0);
      expect(err.attribute).toBe(`element #5001 (key ${pub(5000)})`);
      expect((await nft.listElements(map)).length).toBe(1);
    });
  });
});
