// The CC's conntrack step on its own (managed/apply-conntrack.ts), in a
// throw-away namespace: a stale entry (made with `conntrack -I`: .200 DNATed
// to an address the state does not map it to) is listed by a dry run, a real
// failure of the delete (sendto() made to fail with EPERM by the connection's
// test fault) is a ConntrackApplyError saying the network is applied and
// leaves the entry, and the next run deletes it.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/output.js';
import { allocate } from '../../src/managed/allocate.js';
import { applyConntrack, ConntrackApplyError } from '../../src/managed/apply-conntrack.js';
import { loadState } from '../../src/managed/statefile.js';
import { isRoot, nsExec, withHandle } from '../helpers/netns.js';
import { parseExtended } from '../fixtures/conntrack/fixtures.js';

const SEED = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));

describe.skipIf(!isRoot)('the conntrack step: dry run, failure, retry (root)', () => {
  it('lists, fails clearly leaving the entry, then deletes it on the next run', async () => {
    const state = allocate((await loadState(SEED)).state);
    const i1 = state.instances.find((i) => i.id === 'i-1')!;
    expect(i1.publicIp).toBe('192.168.32.200');
    await withHandle(async (h, ns) => {
      nsExec(ns, 'conntrack', [
        '-I',
        '-p',
        'udp',
        '-s',
        '192.168.32.1',
        '-d',
        '192.168.32.200',
        '--sport',
        '4000',
        '--dport',
        '5000',
        '-r',
        '10.1.99.99',
        '-q',
        '192.168.32.1',
        '--reply-port-src',
        '5000',
        '--reply-port-dst',
        '4000',
        '-t',
        '100',
      ]);
      nsExec(ns, 'conntrack', [
        '-I',
        '-p',
        'udp',
        '-s',
        '192.168.32.1',
        '-d',
        '192.168.32.200',
        '--sport',
        '4001',
        '--dport',
        '5000',
        '-r',
        i1.privateIp,
        '-q',
        '192.168.32.1',
        '--reply-port-src',
        '5000',
        '--reply-port-dst',
        '4001',
        '-t',
        '100',
      ]);
      const oracle = () => parseExtended(nsExec(ns, 'conntrack', ['-L', '-o', 'extended,id']));
      expect(oracle().length).toBe(2);

      const dry = await applyConntrack(h, state, 0, true);
      expect(dry).toEqual({
        stale: [
          `conntrack -D -p udp -s 192.168.32.1 -d 192.168.32.200 --sport 4000 --dport 5000  # 192.168.32.200 maps to ${i1.privateIp} now, not 10.1.99.99`,
        ],
        deleted: 0,
        vanished: 0,
        scanned: 2,
      });

      h.ct.testFault = () => ({ chunk: 0, sendErrno: 1 /* EPERM */ });
      const err = await applyConntrack(h, state, 7).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConntrackApplyError);
      expect((err as Error).message).toMatch(
        /^the network is applied \(7 ops\) but the conntrack cleanup failed: .*EPERM.*; the next apply retries the cleanup$/,
      );
      expect(exitCodeOf(err)).toBe(1);
      expect(oracle().length).toBe(2);

      h.ct.testFault = undefined;
      expect(await applyConntrack(h, state, 0)).toMatchObject({ deleted: 1, vanished: 0, scanned: 2 });
      expect(oracle().map((e) => e.reply.src)).toEqual([i1.privateIp]);
      expect(await applyConntrack(h, state, 0)).toMatchObject({ stale: [], deleted: 0, scanned: 1 });
    }, 'eutct');
  });
});
