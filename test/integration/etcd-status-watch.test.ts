// The status watch (store/etcd-status-watch.ts) over a real etcd
// (test/helpers/etcd.ts), on the lean channel: statuses put before it opened
// and after are both seen, in order of revision; an error status does not
// count as reaching a revision; a host that never reaches one is named when
// the wait times out; etcd restarted under it loses no put. The statuses are
// written by etcd3's own client, an independent writer. The watch's source
// has no etcd3 client (asking for one throws), so the lean path is the one
// under test.
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { statusKey } from '../../src/store/etcd-status.js';
import { EtcdRangeClient } from '../../src/store/etcd-range.js';
import { StatusWatch, type StatusSource } from '../../src/store/etcd-status-watch.js';
import { withEtcd } from '../helpers/etcd.js';

const CLOUD = 'sw';

/** A lean-only source: its etcd3 client must never be asked for. */
function leanSource(url: string): StatusSource & { close(): void } {
  const fullReads = new EtcdRangeClient({ urls: [url], timeoutMs: 5000 });
  return {
    fullReads,
    get client(): never {
      throw new Error('the status watch asked for etcd3');
    },
    close: () => fullReads.close(),
  };
}

describe('StatusWatch on the lean channel (real etcd)', () => {
  it('sees statuses put before and after it opened, skips errors, names a host that never reaches', async () => {
    await withEtcd(async (etcd) => {
      const writer = new Etcd3({ hosts: etcd.url });
      const src = leanSource(etcd.url);
      let watch: StatusWatch | undefined;
      try {
        const put = (host: string, revision: number, result = 'ok') =>
          writer.put(statusKey(CLOUD, host)).value(JSON.stringify({ host, role: host === 'cc' ? 'cc' : 'nc', revision, result }));
        await put('cc', 5);
        watch = await StatusWatch.open(src, CLOUD);
        expect(watch.hosts()).toEqual(['cc']);
        expect(await watch.reached('cc', 5, 1000)).toBeGreaterThan(0);
        // Waited for before it comes: resolved by the watch's put.
        const nc = watch.reached('nc1', 7, 5000);
        await put('nc1', 6);
        await put('nc1', 7, 'error');
        await put('nc1', 8);
        const at = await nc;
        expect(watch.hosts()).toEqual(['cc', 'nc1']);
        // Revision 6 was reported before 8: an earlier time; 7 (an error) was not a report.
        expect(await watch.reached('nc1', 6, 10)).toBeLessThan(at);
        expect(watch.events).toBe(3);
        await expect(watch.reached('cc', 9, 300)).rejects.toThrow(/cc did not report revision 9 within 300 ms \(last: 5\)/);

        // etcd restarted under the watch: a put made after it is back is seen.
        await etcd.stop();
        await etcd.start();
        const again = watch.reached('cc', 10, 15_000);
        await put('cc', 10);
        expect(await again).toBeGreaterThan(at);
      } finally {
        await watch?.close();
        src.close();
        writer.close();
      }
    });
  }, 60_000);
});
