// A dump filtered on one original source or destination address is filtered
// by the kernel (CTA_FILTER): only the matching entries come back, checked by
// counting the messages the dump returns, and the result is the same as the
// unfiltered dump matched here. `conntrack -I` makes the entries.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { listConntrack } from '../../src/conntrack/index.js';
import type { CtEntry } from '../../src/conntrack/types.js';
import type { Handle } from '../../src/handle.js';
import { isRoot, withHandle } from '../helpers/netns.js';

const sh = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const insert = (ns: string, src: string, dst: string, sport: number) =>
  sh(ns, `conntrack -I -s ${src} -d ${dst} -p udp --sport ${sport} --dport 53 -t 120 2>/dev/null`);

/** Counts the messages each dump brings back (what the kernel sent). */
function countDumps(h: Handle): number[] {
  const sizes: number[] = [];
  const dump = h.ct.dump.bind(h.ct);
  h.ct.dump = async (req) => {
    const msgs = await dump(req);
    sizes.push(msgs.length);
    return msgs;
  };
  return sizes;
}

const key = (e: CtEntry) => `${e.orig.src} ${e.orig.sport} > ${e.orig.dst}`;
const keys = (es: CtEntry[]) => es.map(key).sort();

describe.skipIf(!isRoot)('conntrack dump with an original address', () => {
  it('the kernel sends only the entries of that source or destination', async () => {
    await withHandle(async (h, ns) => {
      insert(ns, '10.1.0.1', '10.2.0.1', 1001);
      insert(ns, '10.1.0.2', '10.2.0.1', 1002);
      insert(ns, '10.1.0.3', '10.2.0.9', 1003);
      insert(ns, '10.1.0.1', '10.2.0.9', 1004);
      const all = await listConntrack(h.ct, { family: 'ipv4' });
      expect(all).toHaveLength(4);
      const sizes = countDumps(h);
      const byDst = await listConntrack(h.ct, { family: 'ipv4', orig: { dst: '10.2.0.1' } });
      expect(keys(byDst)).toEqual(['10.1.0.1 1001 > 10.2.0.1', '10.1.0.2 1002 > 10.2.0.1']);
      const bySrc = await listConntrack(h.ct, { family: 'ipv4', orig: { src: '10.1.0.1' } });
      expect(keys(bySrc)).toEqual(['10.1.0.1 1001 > 10.2.0.1', '10.1.0.1 1004 > 10.2.0.9']);
      const both = await listConntrack(h.ct, { family: 'ipv4', orig: { src: '10.1.0.1', dst: '10.2.0.9' } });
      expect(keys(both)).toEqual(['10.1.0.1 1004 > 10.2.0.9']);
      const none = await listConntrack(h.ct, { family: 'ipv4', orig: { dst: '10.9.9.9' } });
      expect(none).toEqual([]);
      // The kernel did the selecting: 2, 2, 1 and 0 entries sent, not 4 each time.
      expect(sizes).toEqual([2, 2, 1, 0]);
      // A prefix is matched here, on the whole table.
      const byNet = await listConntrack(h.ct, { family: 'ipv4', orig: { dst: '10.2.0.0/24' } });
      expect(byNet).toHaveLength(4);
      expect(sizes[4]).toBe(4);
      // Each is what the unfiltered dump matched here gives.
      expect(keys(byDst)).toEqual(keys(all.filter((e) => e.orig.dst === '10.2.0.1')));
      expect(keys(bySrc)).toEqual(keys(all.filter((e) => e.orig.src === '10.1.0.1')));
    }, 'ctorig');
  });

  it('an IPv6 address, or no family: matched here (the kernel inverts IPv6 comparisons, refuses a tuple filter without a family)', async () => {
    await withHandle(async (h, ns) => {
      insert(ns, 'fd00::1', 'fd00::2', 2001);
      insert(ns, 'fd00::3', 'fd00::2', 2002);
      insert(ns, '10.1.0.1', '10.2.0.1', 2003);
      const sizes = countDumps(h);
      const v6 = await listConntrack(h.ct, { family: 'ipv6', orig: { src: 'fd00::3' } });
      expect(keys(v6)).toEqual(['fd00::3 2002 > fd00::2']);
      expect(sizes).toEqual([2]);
      const any = await listConntrack(h.ct, { orig: { dst: '10.2.0.1' } });
      expect(keys(any)).toEqual(['10.1.0.1 2003 > 10.2.0.1']);
      expect(sizes[1]).toBe(3);
    }, 'ctorig');
  });
});
