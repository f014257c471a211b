// The CC agent's rules-only sync (agent/cc-rules-sync.ts) against the real
// kernel: an authorize or a revoke is applied by flushing and filling the
// changed groups' chains in one nftables batch: no preflight, nothing read
// (no link, address, FDB or nftables dump), no plan of the role. The oracle
// is a full apply of the same version: right after, it must send nothing and
// leave the kernel (`ip -j -d link`, `bridge -j fdb`, `nft -j list ruleset`,
// addresses) as it was. A chain someone emptied comes out as planned; one
// someone deleted fails the batch, and a full reconcile follows at once; a
// rule together with an instance takes the usual path.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { authorize, revoke, runInstance } from '../../src/managed/ops/index.js';
import type { Rule } from '../../src/managed/types.js';
import { NetlinkConnection } from '../../src/netlink/socket.js';
import { withCc as ccIn, fullFindsNothing, write, type Cc } from '../helpers/agent-cc.js';
import { repoRoot } from '../helpers/cli.js';
import { isRoot, nsExec } from '../helpers/netns.js';

if (!isRoot) console.warn('test/integration/agent-cc-rules.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-agent-ccrules-'));
chmodSync(dir, 0o711); // dnsmasq re-reads its hosts file as nobody
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
const cloud = { ...seed, segmentation: 'vxlan' };
const withCc = (fn: (cc: Cc) => Promise<void>) => ccIn(dir, cloud, 'euccru', fn);

/** The rules of a chain of table ip eucanet as nft shows them (their text, without handles). */
function chainRules(ns: string, chain: string): string[] {
  const out = JSON.parse(nsExec(ns, 'nft', ['-j', 'list', 'chain', 'ip', 'eucanet', chain])) as { nftables: Array<{ rule?: { expr: unknown[] } }> };
  return out.nftables.flatMap((x) => (x.rule ? [JSON.stringify(x.rule.expr)] : []));
}

const ssh: Rule = { protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' };
const https: Rule = { protocol: 'tcp', from: 443, to: 443, cidr: '10.9.0.0/16' };
const fromDefault: Rule = { protocol: 'udp', from: 53, to: 53, sourceGroup: 'admin/default' };

describe.skipIf(!isRoot)('the CC agent applies a rules-only version by the changed chains alone (root, dnsmasq)', () => {
  it('authorize and revoke: the chain as a full apply makes it, nothing read', async () => {
    await withCc(async (cc) => {
      const web0 = chainRules(cc.ns, 'admin-web');
      const default0 = chainRules(cc.ns, 'admin-default');
      expect(web0).toHaveLength(1);
      const dumps = vi.spyOn(NetlinkConnection.prototype, 'dump');
      try {
        const a = await write(cc, (s) => authorize(s, 'admin/web', https));
        expect(a).toMatchObject({ result: 'ok', mode: 'incremental', rules: true, changed: 'nft chains 1' });
        expect(a.ops).toBeGreaterThan(0);
        const web1 = chainRules(cc.ns, 'admin-web');
        expect(web1).toHaveLength(2);
        expect(web1[1]).toContain('10.9.0.0');
        // A source group: the rule matches that group's block.
        const b = await write(cc, (s) => authorize(s, 'admin/web', fromDefault));
        expect(b).toMatchObject({ result: 'ok', mode: 'incremental', rules: true, changed: 'nft chains 1' });
        expect(chainRules(cc.ns, 'admin-web')[2]).toContain(cc.agent.current?.state.groups[0].subnet.split('/')[0]);
        expect(chainRules(cc.ns, 'admin-default')).toEqual(default0);
        expect(dumps.mock.calls.length, 'nothing read by the rules-only syncs').toBe(0);
      } finally {
        dumps.mockRestore();
      }
      await fullFindsNothing(cc, 'authorize');
      for (const rule of [fromDefault, https]) {
        const r = await write(cc, (s) => revoke(s, 'admin/web', rule));
        expect(r, JSON.stringify(rule)).toMatchObject({ result: 'ok', mode: 'incremental', rules: true, changed: 'nft chains 1' });
      }
      expect(chainRules(cc.ns, 'admin-web')).toEqual(web0);
      await fullFindsNothing(cc, 'revoke');
      // Two groups' rules in one version: both chains.
      const both = await write(cc, (s) => {
        const one = authorize(s, 'admin/web', https);
        return authorize(one.state, 'admin/default', https);
      });
      expect(both).toMatchObject({ result: 'ok', mode: 'incremental', rules: true, changed: 'nft chains 2' });
      await fullFindsNothing(cc, 'two groups');
    });
  }, 90_000);

  it('a chain emptied behind its back comes out as planned; a deleted one: a full reconcile; a rule with an instance: the usual path', async () => {
    await withCc(async (cc) => {
      nsExec(cc.ns, 'nft', ['flush', 'chain', 'ip', 'eucanet', 'admin-default']);
      const a = await write(cc, (s) => authorize(s, 'admin/default', https));
      expect(a).toMatchObject({ result: 'ok', mode: 'incremental', rules: true, changed: 'nft chains 1' });
      const rules = chainRules(cc.ns, 'admin-default');
      expect(rules).toHaveLength(2);
      expect(rules[0]).toContain('"dport"');
      await fullFindsNothing(cc, 'after the emptied chain');
      // The chain deleted (its jump first): the batch's flush fails, nothing of it is applied, and a full reconcile makes both again.
      const jump = (
        JSON.parse(nsExec(cc.ns, 'nft', ['-j', '-a', 'list', 'chain', 'ip', 'eucanet', 'forward'])) as {
          nftables: Array<{ rule?: { handle: number; expr: unknown[] } }>;
        }
      ).nftables.flatMap((x) => (x.rule && JSON.stringify(x.rule.expr).includes('"admin-web"') ? [x.rule.handle] : []));
      expect(jump).toHaveLength(1);
      nsExec(cc.ns, 'nft', ['delete', 'rule', 'ip', 'eucanet', 'forward', 'handle', String(jump[0])]);
      nsExec(cc.ns, 'nft', ['delete', 'chain', 'ip', 'eucanet', 'admin-web']);
      const gone = await write(cc, (s) => authorize(s, 'admin/web', https));
      expect(gone).toMatchObject({ result: 'ok', mode: 'full' });
      expect(gone.rules).toBeUndefined();
      expect(gone.incrementalError).toMatch(/ENOENT/);
      expect(chainRules(cc.ns, 'admin-web')).toHaveLength(2);
      await fullFindsNothing(cc, 'after the deleted chain');
      const mixed = await write(cc, (s) =>
        runInstance(authorize(s, 'admin/default', { ...ssh, cidr: '10.8.0.0/16' }).state, { id: 'i-40', group: 'admin/default', node: 'nc2' }),
      );
      expect(mixed).toMatchObject({ result: 'ok', mode: 'incremental' });
      expect(mixed.rules).toBeUndefined();
      await fullFindsNothing(cc, 'a rule and an instance');
    });
  }, 90_000);
});
