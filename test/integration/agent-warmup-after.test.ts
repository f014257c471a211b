// AgentOptions.warmUp as a function (an agent on etcd passes its first
// status put): the warm-up after the start sync waits for the promise it
// returns, so that its CPU does not hold back what the caller waits for; it
// then runs as usual (two more reads of the store, nothing changed). Root: the
// agent applies to a throw-away namespace.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { StoreSource } from '../../src/agent/store-source.js';
import type { SyncResult } from '../../src/agent/types.js';
import { FileStore } from '../../src/store/file.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-warmup-after-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = { ...JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8')), segmentation: 'vxlan' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!isRoot)('the agent warm-up after a promise (root)', () => {
  it('waits for the promise warmUp() returns (called once, after the start sync), then reads twice and reports no sync', async () => {
    const file = join(dir, 'cloud.json');
    writeFileSync(file, JSON.stringify(seed));
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const store = new FileStore(file);
      let reads = 0;
      const read = store.read.bind(store);
      store.read = (o) => {
        reads++;
        return read(o);
      };
      let open!: () => void;
      const calls: number[] = [];
      const a = new Agent({
        role: { role: 'nc', node: 'nc1' },
        netns: ns,
        source: new StoreSource(store),
        resyncSeconds: 0,
        warmUp: () => {
          calls.push(reads);
          return new Promise<void>((r) => (open = r));
        },
      });
      const seen: SyncResult[] = [];
      a.on('sync', (r) => seen.push(r));
      try {
        expect(await a.start()).toMatchObject({ result: 'ok' });
        await sleep(400);
        // Called once, after the start sync's read; nothing warmed up while the promise is pending.
        expect(calls).toEqual([1]);
        expect(reads).toBe(1);
        open();
        for (const t0 = Date.now(); reads < 3 && Date.now() - t0 < 5000;) await sleep(20);
        await sleep(200);
        expect(reads).toBe(3);
        expect(seen).toHaveLength(1);
      } finally {
        await a.stop();
        await store.close();
      }
    }, 'euwup');
  }, 30_000);
});
