// commit({ verify: true }): unknown tables, chains, jump targets and sets are
// refused with a ValidationError naming the op and the name, before the
// batch is sent; names created earlier in the same batch count.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { openNft, rule, type Nft } from '../../src/nft/index.js';
import type { Batch } from '../../src/nft/batch.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { seedBatch } from '../fixtures/nft/rulesets.js';

async function withSeed(fn: (nft: Nft) => Promise<void>): Promise<void> {
  await withNetns(async (ns) => {
    const nft = openNft({ netns: ns });
    try {
      await seedBatch(nft.conn).commit();
      await fn(nft);
    } finally {
      nft.close();
    }
  }, 'eut-nft');
}

async function refused(nft: Nft, b: Batch, field: string, value: string): Promise<void> {
  const gen = await nft.generation();
  const err = await b.commit({ verify: true }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).field).toBe(field);
  expect((err as ValidationError).value).toBe(value);
  expect(await nft.generation()).toBe(gen); // nothing was sent
}

const fwd = { family: 'ip', table: 'filter', chain: 'forward' } as const;

describe.skipIf(!isRoot)('verified commits', () => {
  it('refuses unknown chains, jump targets, sets and tables before sending', async () => {
    await withSeed(async (nft) => {
      await refused(nft, nft.batch().addRule({ ...fwd, chain: 'no-such-chain', exprs: rule().accept() }), 'op #0 chain', 'no-such-chain');
      await refused(
        nft,
        nft
          .batch()
          .addRule({ ...fwd, exprs: rule().accept() })
          .addRule({ ...fwd, exprs: rule().jump('user-group') }),
        'op #1 jump target',
        'user-group',
      );
      await refused(nft, nft.batch().addRule({ ...fwd, exprs: rule().ipSaddr('@blocked').drop() }), 'op #0 set', 'blocked');
      await refused(nft, nft.batch().addRule({ ...fwd, table: 'nofilter', exprs: rule().accept() }), 'op #0 table', 'nofilter');
      await refused(
        nft,
        nft
          .batch()
          .deleteTable({ family: 'ip', name: 'filter' })
          .addRule({ ...fwd, exprs: rule().accept() }),
        'op #1 table',
        'filter',
      );
      await refused(
        nft,
        nft.batch().addElements({ family: 'ip', table: 'nat', name: 'pubmap', key: 'ipv4_addr', data: 'ipv4_addr' }, [['1.2.3.4', '10.0.0.1']]),
        'op #0 set',
        'pubmap',
      );
    });
  });

  it('accepts names created earlier in the batch, and commits', async () => {
    await withSeed(async (nft) => {
      const set = { family: 'ip', table: 'filter', name: 'blocked', key: 'ipv4_addr', flags: ['interval'] } as const;
      const b = nft
        .batch()
        .addChain({ family: 'ip', table: 'filter', name: 'user-group' })
        .addSet(set)
        .addElements(set, ['192.0.2.0/24'])
        .addRule({ ...fwd, chain: 'user-group', exprs: rule().tcpDport(443).accept() })
        .addRule({ ...fwd, exprs: rule().ipSaddr('@blocked').drop() })
        .addRule({ ...fwd, exprs: rule().jump('user-group') });
      await b.commit({ verify: true });
      expect((await nft.listRules('ip', 'filter', 'forward')).length).toBe(6);
    });
  });
});
