// The test etcd itself: it starts on free loopback ports, keeps its data across
// a stop and start, and leaves nothing behind.
import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { startEtcd } from '../helpers/etcd.js';

describe('test etcd', () => {
  it('serves, survives a restart with its data, and is removed', async () => {
    const etcd = await startEtcd();
    const client = new Etcd3({ hosts: etcd.url });
    try {
      await client.put('/t/a').value('1');
      await etcd.stop();
      await etcd.start();
      expect(await client.get('/t/a').string()).toBe('1');
    } finally {
      client.close();
      await etcd.destroy();
    }
    expect(existsSync(etcd.dataDir)).toBe(false);
  });
});
