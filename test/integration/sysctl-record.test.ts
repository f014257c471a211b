// What `down` puts back: the value of a sysctl before eucanet first set it,
// recorded per namespace under a directory (here a throw-away one). A record
// of a namespace deleted without `down` is pruned by the next record written.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dropSysctlRecordsOf, recordSysctls, restoreSysctls } from '../../src/managed/sysctl-record.js';
import { readSysctl, writeSysctl } from '../../src/sys/sysctl.js';
import { addon } from '../../src/native.js';
import { freshName, isRoot, withNetns } from '../helpers/netns.js';

const KEY = 'net.ipv4.ip_forward';

describe.skipIf(!isRoot)('sysctl records (root)', () => {
  it("restores the value from before the first apply, once; a deleted namespace's record is pruned by the next one written", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-sysctl-'));
    try {
      await withNetns(async (ns) => {
        // Made and deleted while `ns` exists, so the two cannot share an inode number.
        const gone = freshName();
        addon.netnsCreate(gone);
        try {
          recordSysctls(gone, { [KEY]: 1 }, dir);
        } finally {
          addon.netnsDelete(gone);
        }
        const stale = readdirSync(dir);
        expect(stale).toHaveLength(1);

        recordSysctls(ns, { [KEY]: 1 }, dir);
        const mine = readdirSync(dir);
        expect(mine).toHaveLength(1);
        expect(mine).not.toEqual(stale);
        writeSysctl(ns, KEY, '1');
        recordSysctls(ns, { [KEY]: 1 }, dir); // a second apply: eucanet's own value is not recorded
        expect(restoreSysctls(ns, [KEY], { dir })).toEqual([{ key: KEY, value: '0', action: 'restored' }]);
        expect(readSysctl(ns, KEY)).toBe('0');
        expect(readdirSync(dir)).toEqual([]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("drops the records of one named namespace (a test's or a benchmark's, deleted without `down`), and only those", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-sysctl-'));
    try {
      await withNetns(async (a) => {
        await withNetns((b) => {
          recordSysctls(a, { [KEY]: 1 }, dir);
          recordSysctls(b, { [KEY]: 1 }, dir);
          expect(readdirSync(dir)).toHaveLength(2);
          dropSysctlRecordsOf(b, dir);
          expect(readdirSync(dir)).toHaveLength(1);
          // a's record is the one left: down in `a` still restores from it.
          writeSysctl(a, KEY, '1');
          expect(restoreSysctls(a, [KEY], { dir })).toEqual([{ key: KEY, value: '0', action: 'restored' }]);
          dropSysctlRecordsOf(b, dir); // nothing left of b's: no error
          expect(readdirSync(dir)).toEqual([]);
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
