// openNft's namespace argument: a name under /run/netns, a path, or an open
// fd all reach the same namespace, and never the caller's own.
import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openNft } from '../../src/nft/index.js';
import { isRoot, nsExec, withNetns } from '../helpers/netns.js';

describe.skipIf(!isRoot)('openNft namespaces', () => {
  it('by name, by path and by fd', async () => {
    await withNetns(async (ns) => {
      const fd = openSync(`/run/netns/${ns}`, 'r');
      try {
        const targets = [ns, `/run/netns/${ns}`, fd];
        for (const [i, netns] of targets.entries()) {
          const nft = openNft({ netns });
          try {
            await nft
              .batch()
              .addTable({ family: 'inet', name: `t${i}` })
              .commit();
            expect((await nft.listTables()).map((t) => t.name)).toEqual(targets.slice(0, i + 1).map((_, j) => `t${j}`));
          } finally {
            nft.close();
          }
        }
        expect(nsExec(ns, 'nft', ['list', 'tables'])).toBe('table inet t0\ntable inet t1\ntable inet t2\n');
      } finally {
        closeSync(fd);
      }
    }, 'eut-nft');
  });
});
