// A 20,000-instance cloud through `eucanet cloud put` and back: one key per
// object (no value near etcd's 1.5 MiB limit). Into an empty cloud under
// etcd's default limits the import is staged with its settings key last; with
// the limits raised it is one transaction. A change bigger than etcd's limits
// to a cloud that has a state is refused as a whole, nothing written, with the
// etcd flags to raise named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { withAllocations } from '../../src/managed/document.js';
import { runInstance } from '../../src/managed/ops/index.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import { eucanetAsync as eucanet } from '../helpers/cli-async.js';
import { bigState } from '../helpers/big-state.js';
import { withEtcd } from '../helpers/etcd.js';
import { etcdRevision, rangePrefix } from '../helpers/etcd-oracle.js';

const PREFIX = '/eucanet/default/state/';
const dir = mkdtempSync(join(tmpdir(), 'eucanet-etcd-big-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const N = 20_000;
const big = bigState(N);
const file = join(dir, 'big.json');
writeFileSync(file, JSON.stringify(big));

describe('etcd store: a 20,000-instance cloud', () => {
  it("into an empty cloud under etcd's default limits: staged, settings last (no state, then all of it); a later change too big for one transaction is refused whole, the flags named", () =>
    withEtcd(async (etcd) => {
      const r = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', file, '--json']);
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { revision: number };
      const seen = await rangePrefix(etcd.url, PREFIX);
      expect(seen.kvs.filter((kv) => kv.key.startsWith(`${PREFIX}instances/`))).toHaveLength(N);
      // Readers see a state only with its settings: the settings key came last, alone at the final revision.
      const settings = seen.kvs.find((kv) => kv.key === `${PREFIX}settings`);
      expect(settings?.modRevision).toBe(out.revision);
      expect(seen.kvs.filter((kv) => kv.modRevision === out.revision)).toHaveLength(1);
      expect(Math.max(...seen.kvs.filter((kv) => kv !== settings).map((kv) => kv.modRevision))).toBeLessThan(out.revision);
      const store = openEtcdStore({ urls: [etcd.url] });
      try {
        expect((await store.read()).state).toEqual(JSON.parse(JSON.stringify(withAllocations(big, allocate(big)))));
      } finally {
        await store.close();
      }
      // Every instance moved to another node: 20,000 changed keys over a cloud that has a state: one transaction or nothing.
      const moved = join(dir, 'moved.json');
      writeFileSync(moved, JSON.stringify({ ...big, instances: big.instances?.map((i) => ({ ...i, node: 'nc20' })) }));
      const before = await etcdRevision(etcd.url);
      const refused = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', moved]);
      expect(refused.status, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(/start etcd with --max-request-bytes \d+ and --max-txn-ops 200\d\d or more/);
      expect(refused.stderr).toContain(etcd.url);
      expect(await etcdRevision(etcd.url)).toBe(before);
    }));

  it('with etcd started for it (--max-txn-ops, --max-request-bytes): one transaction, one key per object, read back whole', () =>
    withEtcd(
      async (etcd) => {
        const t0 = performance.now();
        const r = await eucanet(['cloud', 'put', '--etcd', etcd.url, '--state', file, '--if-revision', '0', '--json']);
        const putMs = performance.now() - t0;
        expect(r.status, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { revision: number; instances: number };
        expect(out.instances).toBe(N);
        const seen = await rangePrefix(etcd.url, PREFIX);
        // One transaction: every key has the one revision.
        expect(new Set(seen.kvs.map((kv) => kv.modRevision))).toEqual(new Set([out.revision]));
        expect(seen.kvs.filter((kv) => kv.key.startsWith(`${PREFIX}instances/`))).toHaveLength(N);
        const largest = Math.max(...seen.kvs.map((kv) => kv.value.length));
        expect(largest).toBeLessThan(1.5 * 1024 * 1024);
        const total = seen.kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0);

        const store = openEtcdStore({ urls: [etcd.url] });
        try {
          const t1 = performance.now();
          const snap = await store.read();
          const readMs = performance.now() - t1;
          expect(snap.revision).toBe(out.revision);
          expect(snap.state).toEqual(JSON.parse(JSON.stringify(withAllocations(big, allocate(big)))));
          // One more instance on top of 20,000: the transaction's compare covers the whole prefix; its cost.
          const next = runInstance(snap.state, { id: 'i-extra', group: 'u/g1', node: 'nc3' }).state;
          const t2 = performance.now();
          await store.write(next, { ifVersion: snap.version });
          const writeMs = performance.now() - t2;
          const after = await rangePrefix(etcd.url, PREFIX);
          expect(after.kvs.filter((kv) => kv.modRevision > out.revision).map((kv) => kv.key)).toEqual([`${PREFIX}instances/i-extra`]);
          console.log(
            `20,000 instances: cloud put ${putMs.toFixed(0)} ms (CLI, allocation included), ${seen.kvs.length} keys, ${total} bytes, largest value ${largest} bytes; ` +
              `read ${readMs.toFixed(0)} ms; a one-key write (validation included) ${writeMs.toFixed(0)} ms`,
          );
        } finally {
          await store.close();
        }
      },
      { args: ['--max-txn-ops', '25000', '--max-request-bytes', String(32 * 1024 * 1024)] },
    ));
});
