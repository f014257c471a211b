// The handle's one-op verbs run through the transaction's executor
// (src/tx/execute.ts): a change the kernel refuses after applying part of it
// is undone, as in a transaction; errors stay the kernel's own. The kernel's
// state is read back with `ip -j -d link` (an independent oracle).
import { describe, expect, it } from 'vitest';
import { NetlinkError, TransactionError } from '../../src/errors.js';
import { isRoot, nsExec, withHandle } from '../helpers/netns.js';

const linkJson = (ns: string, name: string) => JSON.parse(nsExec(ns, 'ip', ['-j', '-d', 'link', 'show', 'dev', name]))[0];

describe.skipIf(!isRoot)('the handle uses the one op executor (root)', () => {
  it('links.set refused after the kernel applied part of it (up, then a master that refuses): the part is undone', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p' });
      await h.links.add({ kind: 'veth', name: 'eth1', peer: 'eth1p' });
      expect(linkJson(ns, 'eth1').flags).not.toContain('UP');
      // RTM_SETLINK brings eth1 up, then refuses eth0 (a veth) as its master.
      const err = (await h.links.set('eth1', { up: true, master: 'eth0' }).catch((e: unknown) => e)) as NetlinkError;
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err).not.toBeInstanceOf(TransactionError);
      expect(err).toMatchObject({ code: 'EOPNOTSUPP', op: 'link set eth1 (up, master)' });
      expect(linkJson(ns, 'eth1').flags, 'eth1 went back down').not.toContain('UP');
    });
  });

  it('links.add with an alias: created, then aliased (the kernel ignores IFLA_IFALIAS at creation)', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'br0', alias: 'eucanet:test' });
      expect(linkJson(ns, 'br0').ifalias).toBe('eucanet:test');
    });
  });

  it('taps.create with attributes: the taps, then master/up/group in one send; a refused master takes the taps away again', async () => {
    await withHandle(async (h, ns) => {
      await h.links.add({ kind: 'bridge', name: 'br0' });
      await h.taps.create(['tap0', 'tap1'], { master: 'br0', up: true, group: 4200, alias: 'eucanet:port' });
      for (const t of ['tap0', 'tap1']) expect(linkJson(ns, t)).toMatchObject({ master: 'br0', group: '4200', ifalias: 'eucanet:port' });
      await h.links.add({ kind: 'veth', name: 'eth0', peer: 'eth0p' });
      const err = (await h.taps.create(['tap2'], { master: 'eth0' }).catch((e: unknown) => e)) as NetlinkError;
      expect(err).toMatchObject({ code: 'EOPNOTSUPP' });
      expect(() => linkJson(ns, 'tap2')).toThrow();
    });
  });
});
