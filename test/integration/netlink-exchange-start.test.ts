// An exchange on an idle connection starts at once (src/netlink/socket.ts),
// not a microtask later: reconcile computes the desired side of its diff
// while the kernel answers its dumps, which needs the native call made
// before the caller goes on. Exchanges asked while one is under way still
// wait their turn, one at a time per socket.
import { describe, expect, it } from 'vitest';
import { LinkDumpRequest } from '../../src/rtnl/link.js';
import { isRoot, withHandle } from '../helpers/netns.js';

/** Counts the calls made to the connection's native exchange; each call still goes to the addon. */
function countExchanges(conn: object): { calls: number } {
  const sock = (conn as unknown as { sock: { exchange: (...a: unknown[]) => unknown } }).sock;
  const real = sock.exchange;
  const seen = { calls: 0 };
  // The addon's method is read-only on its prototype: an own property shadows it.
  Object.defineProperty(sock, 'exchange', {
    value(this: unknown, ...a: unknown[]) {
      seen.calls++;
      return real.apply(this, a);
    },
  });
  return seen;
}

describe.skipIf(!isRoot)('netlink exchange start (root)', () => {
  it('an idle connection hands the request to the addon before dumps() returns', async () => {
    await withHandle(async (h) => {
      const seen = countExchanges(h.rtnl);
      const p = h.rtnl.dumps([new LinkDumpRequest()]);
      expect(seen.calls).toBe(1);
      const [links] = await p;
      expect(links.length).toBeGreaterThan(0); // lo at least
    });
  });

  it('a second exchange asked meanwhile waits for the first, and both answer', async () => {
    await withHandle(async (h) => {
      const seen = countExchanges(h.rtnl);
      const p1 = h.rtnl.dumps([new LinkDumpRequest()]);
      const p2 = h.rtnl.dumps([new LinkDumpRequest()]);
      expect(seen.calls).toBe(1);
      const [[a], [b]] = await Promise.all([p1, p2]);
      expect(seen.calls).toBe(2);
      expect(b.length).toBe(a.length);
    });
  });
});
