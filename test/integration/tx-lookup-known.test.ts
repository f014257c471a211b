// A commit with `lookup` and `ifindexes` (CommitOptions): links the caller
// knows are not looked up again, so FDB ops on a known VXLAN device are the
// commit's only requests; a wrong ifindex fails like any op (the kernel's
// ENODEV, nothing left behind); a malformed one is refused before anything
// is sent. `bridge -j fdb show` is the oracle.
import { describe, expect, it } from 'vitest';
import { TransactionError, ValidationError } from '../../src/errors.js';
import type { Handle } from '../../src/handle.js';
import { isRoot, nsExec, withHandle } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/tx-lookup-known.test.ts: skipped, needs root');

async function vxlan(h: Handle): Promise<number> {
  await h.links.add({ name: 'u0', kind: 'veth', peer: 'u1', up: true });
  await h.addresses.add({ dev: 'u0', address: '10.0.0.1/24' });
  await h.links.add({ name: 'vx0', kind: 'vxlan', vni: 10, local: '10.0.0.1', device: 'u0', port: 4789, learning: false, up: true });
  return (await h.links.get('vx0'))?.index ?? 0;
}

const fdbOf = (ns: string): string[] =>
  (JSON.parse(nsExec(ns, 'bridge', ['-j', 'fdb', 'show', 'dev', 'vx0'])) as Array<{ mac: string; dst?: string }>)
    .filter((e) => e.dst !== undefined)
    .map((e) => `${e.mac} ${e.dst}`)
    .sort();

const entry = { dev: 'vx0', lladdr: '02:00:00:00:00:08', dst: '10.0.0.2', self: true } as const;

describe.skipIf(!isRoot)('commit with known ifindexes (root)', () => {
  it('FDB ops on a known device: no lookup, the entry is there', async () => {
    await withHandle(async (h, ns) => {
      const index = await vxlan(h);
      const looked = h.transaction();
      looked.add({ op: 'fdb.add', spec: { ...entry, lladdr: '02:00:00:00:00:07' } });
      expect((await looked.commit({ lookup: true })).rtnlRequests, 'one lookup and the op').toBe(2);
      const tx = h.transaction();
      tx.add({ op: 'fdb.add', spec: entry });
      expect((await tx.commit({ lookup: true, ifindexes: new Map([['vx0', index]]) })).rtnlRequests, 'the op alone').toBe(1);
      expect(fdbOf(ns)).toEqual(['02:00:00:00:00:07 10.0.0.2', '02:00:00:00:00:08 10.0.0.2']);
    });
  });

  it('a wrong ifindex fails with the kernel error and leaves nothing; a malformed one is refused before sending', async () => {
    await withHandle(async (h, ns) => {
      const index = await vxlan(h);
      const tx = h.transaction();
      tx.add({ op: 'fdb.add', spec: entry });
      tx.add({ op: 'fdb.add', spec: { ...entry, lladdr: '02:00:00:00:00:09' } });
      const err = await tx.commit({ lookup: true, ifindexes: new Map([['vx0', index + 1000]]) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransactionError);
      expect(String(err)).toMatch(/ENODEV/);
      expect(fdbOf(ns)).toEqual([]);
      const bad = h.transaction();
      bad.add({ op: 'fdb.add', spec: entry });
      await expect(bad.commit({ lookup: true, ifindexes: new Map([['vx0', 0]]) })).rejects.toThrow(ValidationError);
      await expect(h.transaction().commit({ ifindexes: new Map([['vx0', 1.5]]) })).rejects.toThrow(/ifindexes\.vx0/);
      expect(fdbOf(ns)).toEqual([]);
    });
  });
});
