// A small batch is sent from the JavaScript thread (exchangeSync) when its
// connection is idle; a large one, or one queued behind an exchange in
// flight, through a worker (exchange()). Either way the kernel applies it,
// and a refusal is the same NetlinkError naming the op.
import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../../src/errors.js';
import { SYNC_BATCH_BYTES } from '../../src/nft/batch.js';
import type { Nft } from '../../src/nft/index.js';
import { isRoot, nsExec, withNft } from '../helpers/netns.js';

/** Counts the connection's synchronous and asynchronous exchanges. */
function spy(nft: Nft): { sync: number; async: number } {
  const seen = { sync: 0, async: 0 };
  const conn = nft.conn;
  const exchange = conn.exchange.bind(conn);
  const exchangeSync = conn.exchangeSync.bind(conn);
  conn.exchange = (...a: Parameters<typeof exchange>) => (seen.async++, exchange(...a));
  conn.exchangeSync = (...a: Parameters<typeof exchangeSync>) => (seen.sync++, exchangeSync(...a));
  return seen;
}

const set = { family: 'ip', table: 't', name: 'm', key: 'ipv4_addr', data: 'ipv4_addr' } as const;
const pairs = (n: number) => Array.from({ length: n }, (_, i): [string, string] => [`172.16.${i >> 8}.${i & 255}`, `10.1.${i >> 8}.${i & 255}`]);
const elements = (ns: string) => {
  const out = JSON.parse(nsExec(ns, 'nft', ['-j', 'list', 'map', 'ip', 't', 'm'])) as { nftables: Array<{ map?: { elem?: unknown[] } }> };
  return out.nftables.find((o) => o.map)?.map?.elem?.length ?? 0;
};

describe.skipIf(!isRoot)('nft batch commit: small batches from the JavaScript thread', () => {
  it('sends a small batch synchronously and a large one through a worker; the kernel applies both', async () => {
    await withNft(async (nft, ns) => {
      const seen = spy(nft);
      const small = nft.batch().addTable({ family: 'ip', name: 't' }).addSet(set).addElements(set, pairs(10));
      expect(small.encodeForCommit().buf.length).toBeLessThanOrEqual(SYNC_BATCH_BYTES);
      await small.commit();
      expect(seen).toEqual({ sync: 1, async: 0 });
      const large = nft.batch().addElements(set, pairs(2000).slice(10));
      expect(large.encodeForCommit().buf.length).toBeGreaterThan(SYNC_BATCH_BYTES);
      await large.commit();
      expect(seen).toEqual({ sync: 1, async: 1 });
      expect(elements(ns)).toBe(2000);
    });
  });

  it('queues a small batch behind an exchange in flight instead of sending it synchronously', async () => {
    await withNft(async (nft, ns) => {
      await nft.batch().addTable({ family: 'ip', name: 't' }).addSet(set).commit();
      const seen = spy(nft);
      const big = nft.batch().addElements(set, pairs(2000));
      const small = nft.batch().addTable({ family: 'ip', name: 'u' });
      await Promise.all([big.commit(), small.commit()]);
      expect(seen).toEqual({ sync: 0, async: 2 });
      expect(elements(ns)).toBe(2000);
      expect(nsExec(ns, 'nft', ['list', 'tables'])).toContain('table ip u');
    });
  });

  it('a refusal of a batch sent synchronously names the op and changes nothing', async () => {
    await withNft(async (nft, ns) => {
      const seen = spy(nft);
      // The set's table does not exist: the kernel refuses the batch (ENOENT) and applies none of it.
      const b = nft
        .batch()
        .addTable({ family: 'ip', name: 'v' })
        .addElements({ ...set, table: 'missing' }, pairs(1));
      const err = await b.commit().catch((e: unknown) => e);
      expect(seen.sync).toBe(1);
      expect(err).toBeInstanceOf(NetlinkError);
      expect((err as NetlinkError).code).toBe('ENOENT');
      expect(String((err as Error).message)).toMatch(/missing/);
      expect(nsExec(ns, 'nft', ['list', 'tables'])).not.toContain('table ip v');
    });
  });
});
