// The agent's source of versions over the etcd store (src/agent/store-source.ts)
// against a real etcd on loopback: each version it hands the agent is the
// allocated state (equal to allocate() of the store's read), and it costs what
// changed: an authorize hands over the previous version's instance list and
// settings themselves (so relevance.ts sees "unchanged" by identity, not by a
// walk of 5000 objects), a run-instance every other instance object.
import { describe, expect, it } from 'vitest';
import { StoreSource } from '../../src/agent/store-source.js';
import { allocate } from '../../src/managed/allocate.js';
import { withAllocations } from '../../src/managed/document.js';
import { authorize, runInstance } from '../../src/managed/ops/index.js';
import { openEtcdStore } from '../../src/store/etcd.js';
import { update } from '../../src/store/update.js';
import { bigState } from '../helpers/big-state.js';
import { withEtcd } from '../helpers/etcd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StoreSource on the etcd store', () => {
  it('an authorize keeps the instance list and settings objects; a run-instance keeps every other instance; each equals allocate()', async () => {
    await withEtcd(async (etcd) => {
      const writer = openEtcdStore({ urls: [etcd.url] });
      const reader = openEtcdStore({ urls: [etcd.url] });
      try {
        const doc = bigState(300);
        await writer.write(withAllocations(doc, allocate(doc)));
        const source = new StoreSource(reader);
        const unwatch = source.watch(() => undefined);
        const v1 = await source.read();
        const g = doc.groups?.[0];
        const r2 = await update(writer, (s) => authorize(s, `${g?.owner}/${g?.name}`, { protocol: 'tcp', from: 2222, to: 2222, cidr: '0.0.0.0/0' }));
        let v2 = await source.read(v1.state ? { version: v1.version, state: v1.state } : undefined);
        while (v2.version !== r2.version) v2 = await sleep(10).then(() => source.read());
        expect(v2.state?.instances).toBe(v1.state?.instances);
        expect(v2.state?.nodes).toBe(v1.state?.nodes);
        expect(v2.state?.groups).not.toBe(v1.state?.groups);
        expect(v2.state).toEqual(allocate((await reader.read()).state, { validated: true }));
        const node = Object.keys(doc.nodes ?? {})[0];
        const r3 = await update(writer, (s) => runInstance(s, { id: 'i-new', group: `${g?.owner}/${g?.name}`, node }));
        let v3 = await source.read();
        while (v3.version !== r3.version) v3 = await sleep(10).then(() => source.read());
        const before = v2.state?.instances ?? [];
        const after = v3.state?.instances ?? [];
        expect(after.length).toBe(before.length + 1);
        expect(after.filter((i) => before.includes(i)).length).toBe(before.length);
        expect(v3.state).toEqual(allocate((await reader.read()).state, { validated: true }));
        unwatch();
      } finally {
        await writer.close();
        await reader.close();
      }
    });
  });
});
