// The conntrack entry count (IPCTNL_MSG_CT_GET_STATS) against `conntrack -C`
// in a throw-away namespace, and the CC's conntrack step not dumping the
// table (a walk of the kernel's whole hash table) when the namespace has no
// entry.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { countConntrack } from '../../src/conntrack/index.js';
import { staleFor } from '../../src/managed/apply-conntrack.js';
import { allocate } from '../../src/managed/allocate.js';
import { isRoot, withHandle } from '../helpers/netns.js';

const sh = (ns: string, cmd: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const oracleCount = (ns: string) => Number(sh(ns, 'conntrack -C').trim());
const insert = (ns: string, k: number) => sh(ns, `conntrack -I -s 10.1.0.${k} -d 10.2.0.1 -p udp --sport ${1000 + k} --dport 53 -t 120 2>/dev/null`);

const state = allocate({
  mode: 'MANAGED',
  subnet: '10.0.0.0/16',
  addrsPerNet: 32,
  vlanRange: [10, 20],
  publicIps: ['172.16.0.1-172.16.0.9'],
  cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
  nodes: { nc1: { privateInterface: 'eth0' } },
  groups: [{ owner: 'a', name: 'g', rules: [] }],
  instances: [],
});

describe.skipIf(!isRoot)('conntrack count', () => {
  it('is the namespace own count, as conntrack -C says', async () => {
    await withHandle(async (h, ns) => {
      expect(await countConntrack(h.ct)).toBe(0);
      expect(oracleCount(ns)).toBe(0);
      for (const k of [1, 2, 3]) insert(ns, k);
      expect(oracleCount(ns)).toBe(3);
      expect(await countConntrack(h.ct)).toBe(3);
    }, 'ctcnt');
  });

  it('the conntrack step does not dump an empty namespace, and dumps one with entries', async () => {
    await withHandle(async (h, ns) => {
      let dumps = 0;
      const dump = h.ct.dump.bind(h.ct);
      h.ct.dump = (req) => {
        dumps++;
        return dump(req);
      };
      expect(await staleFor(h, state)).toEqual({ stale: [], scanned: 0 });
      expect(dumps).toBe(0);
      insert(ns, 1);
      const r = await staleFor(h, state);
      expect(dumps).toBe(1);
      expect(r.scanned).toBe(1);
    }, 'ctcnt');
  });
});
