// Many writers at once, each a separate process, through one etcd: every
// operation lands (none lost to another's write), and no private address,
// public address or MAC is given twice. Conflicts are retried (update()) and
// counted.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openEtcdStore } from '../../src/store/etcd.js';
import { bigState } from '../helpers/big-state.js';
import { withEtcd } from '../helpers/etcd.js';

const CHILD = new URL('../helpers/etcd-writer-child.mjs', import.meta.url).pathname;
const WRITERS = 8;
const OPS = 10;

function writer(url: string, worker: number): Promise<{ worker: number; ops: number; retries: number; maxRetries: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD, url, String(worker), String(OPS)], { encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`writer ${worker}: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as { worker: number; ops: number; retries: number; maxRetries: number });
    });
  });
}

describe('etcd store: concurrent writers', () => {
  it(`${WRITERS} processes x ${OPS} operations (authorize, run-instance with automatic addresses): all land, no address twice`, () =>
    withEtcd(async (etcd) => {
      const store = openEtcdStore({ urls: [etcd.url] });
      try {
        await store.write(bigState(0, { groups: 2, nodes: 2 }), { ifVersion: '' });
        const t0 = performance.now();
        const results = await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(etcd.url, w)));
        const ms = performance.now() - t0;
        const { state } = await store.read();
        // Every rule and every instance of every writer is there.
        for (let w = 0; w < WRITERS; w++) {
          const rules = state.groups?.find((g) => g.name === `g${w % 2}`)?.rules ?? [];
          for (let i = 0; i < OPS; i += 2)
            expect(
              rules.some((r) => r.from === 10000 + w * 100 + i),
              `writer ${w} rule ${i}`,
            ).toBe(true);
          for (let i = 1; i < OPS; i += 2)
            expect(
              state.instances?.some((x) => x.id === `w${w}-${i}`),
              `writer ${w} instance ${i}`,
            ).toBe(true);
        }
        const instances = state.instances ?? [];
        expect(instances).toHaveLength((WRITERS * OPS) / 2);
        for (const field of ['privateIp', 'publicIp', 'mac'] as const) {
          const values = instances.map((x) => x[field]);
          expect(values.every((v) => typeof v === 'string')).toBe(true);
          expect(new Set(values).size, `${field} given twice`).toBe(values.length);
        }
        const ports = instances.map((x) => `${x.node}/${x.port}`);
        expect(new Set(ports).size).toBe(ports.length);
        const retries = results.reduce((n, r) => n + r.retries, 0);
        console.log(
          `${WRITERS} writers x ${OPS} ops: ${WRITERS * OPS} operations in ${ms.toFixed(0)} ms, ${retries} conflicts retried, ` +
            `at most ${Math.max(...results.map((r) => r.maxRetries))} for one operation`,
        );
      } finally {
        await store.close();
      }
    }));
});
