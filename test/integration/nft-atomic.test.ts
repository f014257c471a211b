// All or nothing: a batch with one bad op changes nothing, byte for byte, and
// its error names the op (index and nft text), errno, the extended ACK
// message and attribute. A batch built against a stale generation fails
// with ERESTART and changes nothing.
import { describe, expect, it } from 'vitest';
import { NetlinkError, isGenerationMismatch } from '../../src/errors.js';
import { openNft, rule, type Nft } from '../../src/nft/index.js';
import type { Batch } from '../../src/nft/batch.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';
import { seedBatch } from '../fixtures/nft/rulesets.js';

async function withSeed<T>(fn: (nft: Nft, ns: string) => Promise<T>): Promise<T> {
  return withNetns(async (ns) => {
    const nft = openNft({ netns: ns });
    try {
      await seedBatch(nft.conn).commit();
      return await fn(nft, ns);
    } finally {
      nft.close();
    }
  }, 'eut-nft');
}

/** 1000 valid ops (tables, chains, sets, elements, rules) with op #499 replaced by `bad`. */
function bigBatchWith(nft: Nft, bad: (b: Batch) => void): Batch {
  const b = nft.batch();
  b.addTable({ family: 'inet', name: 'extra' });
  b.addChain({ family: 'inet', table: 'extra', name: 'c', type: 'filter', hook: 'input', priority: 0, policy: 'accept' });
  const set = { family: 'inet', table: 'extra', name: 'blocked', key: 'ipv4_addr', flags: ['interval'] } as const;
  b.addSet(set);
  let i = 0;
  while (b.length < 499) {
    i++;
    if (i % 50 === 0) b.addElements(set, [`10.${i >> 8}.${i & 255}.0/24`]);
    else
      b.addRule({
        family: 'inet',
        table: 'extra',
        chain: 'c',
        exprs: rule()
          .ipSaddr(`10.9.${i >> 8}.${i & 255}`)
          .tcpDport(1000 + i)
          .counter()
          .drop(),
      });
  }
  bad(b);
  expect(b.length).toBe(500);
  while (b.length < 1000) {
    i++;
    b.addRule({ family: 'ip', table: 'filter', chain: 'admin-default', exprs: rule().ipDaddr('10.1.2.0/27').tcpDport(i).accept() });
  }
  return b;
}

async function snapshot(nft: Nft, ns: string) {
  return { text: nsExec(ns, 'nft', ['list', 'ruleset']), dump: await nft.listRuleset(), gen: await nft.generation() };
}

async function rejected(b: Batch, o?: { genid?: number }): Promise<NetlinkError> {
  const err = await b.commit(o).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NetlinkError);
  return err as NetlinkError;
}

describe.skipIf(!isRoot)('nft batches are atomic', () => {
  it('op #499 (the 500th) adds a rule to a chain that does not exist: nothing changes', async () => {
    await withSeed(async (nft, ns) => {
      const before = await snapshot(nft, ns);
      const b = bigBatchWith(nft, (x) => x.addRule({ family: 'ip', table: 'filter', chain: 'no-such-chain', exprs: rule().accept() }));
      const err = await rejected(b);
      expect(err.opIndex).toBe(499);
      expect(err.code).toBe('ENOENT');
      expect(err.errno).toBe(2);
      expect(err.op).toBe('add rule ip filter no-such-chain accept');
      expect(err.attribute).toBe('NFTA_RULE_CHAIN');
      expect(err.message).toBe('op #499 add rule ip filter no-such-chain accept: ENOENT: at NFTA_RULE_CHAIN');
      expect(await snapshot(nft, ns)).toEqual(before);
    });
  });

  it('op #499 fails inside an expression: the error names the expression', async () => {
    await withSeed(async (nft, ns) => {
      const before = await snapshot(nft, ns);
      const b = bigBatchWith(nft, (x) =>
        x.addRule({ family: 'ip', table: 'filter', chain: 'forward', exprs: rule().tcpDport(22).ipSaddr('@no-such-set').accept() }),
      );
      const err = await rejected(b);
      expect(err.opIndex).toBe(499);
      expect(err.code).toBe('ENOENT');
      // meta l4proto, cmp, payload, cmp (tcp dport 22), payload (ip saddr), lookup: the 6th.
      expect(err.attribute).toBe('expression #6 (lookup)');
      expect(err.message).toContain('op #499 add rule ip filter forward tcp dport 22 ip saddr @no-such-set accept: ENOENT: at expression #6 (lookup)');
      expect(await snapshot(nft, ns)).toEqual(before);
    });
  });

  it('op #499 breaks a kernel attribute policy: errno, extended ACK message and attribute', async () => {
    await withSeed(async (nft, ns) => {
      const before = await snapshot(nft, ns);
      const b = bigBatchWith(nft, (x) => x.addTable({ family: 'ip', name: 'valid' }));
      // The library refuses such a name itself; force it past validation to see the kernel's answer.
      (b.ops[499] as { table: { name: string } }).table.name = 'x'.repeat(300);
      const err = await rejected(b);
      expect(err.opIndex).toBe(499);
      expect(err.code).toBe('ERANGE');
      expect(err.extack).toBe('Attribute failed policy validation');
      expect(err.attribute).toBe('NFTA_TABLE_NAME');
      expect(err.message).toMatch(/^op #499 add table ip x+: ERANGE: Attribute failed policy validation: at NFTA_TABLE_NAME$/);
      expect(await snapshot(nft, ns)).toEqual(before);
    });
  });

  it('a stale generation id fails with ERESTART and changes nothing; the current one commits', async () => {
    await withSeed(async (nft, ns) => {
      const g0 = await nft.generation();
      // Someone else changes the ruleset (here: nft itself, a separate process).
      nsExec(ns, 'nft', ['add', 'table', 'ip', 'other']);
      const before = await snapshot(nft, ns);
      expect(before.gen).not.toBe(g0);
      const stale = nft.batch().addRule({ family: 'ip', table: 'filter', chain: 'admin-default', exprs: rule().tcpDport(80).accept() });
      const err = await rejected(stale, { genid: g0 });
      expect(err.code).toBe('ERESTART');
      expect(isGenerationMismatch(err)).toBe(true);
      expect(err.message).toContain(`generation ${g0} is stale`);
      expect(await snapshot(nft, ns)).toEqual(before);
      await stale.commit({ genid: before.gen });
      expect((await nft.listRules('ip', 'filter', 'admin-default')).length).toBe(2);
      expect(await nft.generation()).toBe(before.gen + 1);
    });
  });
});
