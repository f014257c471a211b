// The CC's conntrack step over the changed addresses only (apply-conntrack.ts
// staleFor with `only`), against the kernel: a table the last step left
// clean, then 192.168.32.200 moved from i-1 to i-3. The filtered dumps read
// only the entries of the changed addresses and find exactly the stale
// entries the whole table's judgement finds.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allocate } from '../../src/managed/allocate.js';
import { staleFor } from '../../src/managed/apply-conntrack.js';
import { natChangeOf, natMapsOf } from '../../src/managed/ct-reconcile.js';
import { loadState } from '../../src/managed/statefile.js';
import type { AllocatedState } from '../../src/managed/types.js';
import { isRoot, nsExec, withHandle } from '../helpers/netns.js';

const SEED = fileURLToPath(new URL('../../examples/seed.json', import.meta.url));
const CLIENT = '192.168.32.1';

/** An entry: original src -> dst (sport), answered by rsrc to rdst. */
function insert(ns: string, src: string, dst: string, sport: number, rsrc: string, rdst: string): void {
  nsExec(ns, 'conntrack', [
    '-I', '-p', 'udp', '-s', src, '-d', dst, '--sport', String(sport), '--dport', '5000',
    '-r', rsrc, '-q', rdst, '--reply-port-src', '5000', '--reply-port-dst', String(sport), '-t', '100',
  ]); // prettier-ignore
}

describe.skipIf(!isRoot)('the conntrack step over the changed addresses (root)', () => {
  it('reads only their entries and finds what the whole table finds', async () => {
    const before = allocate((await loadState(SEED)).state);
    const i1 = before.instances.find((i) => i.id === 'i-1')!;
    const i2 = before.instances.find((i) => i.id === 'i-2')!;
    const i3 = before.instances.find((i) => i.id === 'i-3')!;
    expect(i1.publicIp).toBe('192.168.32.200');
    expect(i3.publicIp).toBeUndefined();
    const P = i1.publicIp!;
    // 192.168.32.200 moves from i-1 to i-3.
    const after: AllocatedState = {
      ...before,
      instances: before.instances.map((i) => (i.id === 'i-1' ? { ...i, publicIp: undefined } : i.id === 'i-3' ? { ...i, publicIp: P } : i)),
    };
    const only = natChangeOf(natMapsOf(before), natMapsOf(after))!;
    expect([...only.pub]).toEqual([P]);
    expect([...only.priv].sort()).toEqual([i1.privateIp, i3.privateIp].sort());
    await withHandle(async (h, ns) => {
      // Clean under `before`: inbound to P DNATed to i-1, i-1 leaving as P, i-2 in and out, i-3 masqueraded by the CC.
      insert(ns, CLIENT, P, 4001, i1.privateIp, CLIENT);
      insert(ns, i1.privateIp, CLIENT, 4002, CLIENT, P);
      insert(ns, CLIENT, i2.publicIp!, 4003, i2.privateIp, CLIENT);
      insert(ns, i2.privateIp, CLIENT, 4004, CLIENT, i2.publicIp!);
      insert(ns, i3.privateIp, CLIENT, 4005, CLIENT, '192.168.32.20');
      insert(ns, CLIENT, '192.168.32.20', 4006, '192.168.32.20', CLIENT);
      expect((await staleFor(h, before)).stale).toEqual([]);

      const whole = await staleFor(h, after);
      expect(whole.scanned).toBe(6);
      const some = await staleFor(h, after, only, 0);
      // Entries of P (by destination or source) and of i-1 and i-3 (by source): 3 of the 6.
      expect(some.scanned).toBe(3);
      const ports = (r: typeof whole) => r.stale.map((s) => s.entry.orig.sport).sort();
      // The inbound entry to P (now i-3's), i-1 still leaving as P, i-3 leaving masqueraded (it has P now).
      expect(ports(whole)).toEqual([4001, 4002, 4005]);
      expect(ports(some)).toEqual(ports(whole));
      const reasons = (r: typeof whole) => r.stale.map((s) => `${s.entry.orig.sport} ${s.reason}`).sort();
      expect(reasons(some)).toEqual(reasons(whole));
      // A table this small is read whole in one dump by default (a filtered dump walks the kernel's whole table).
      expect((await staleFor(h, after, only)).scanned).toBe(6);
    }, 'ctowed');
  });
});
