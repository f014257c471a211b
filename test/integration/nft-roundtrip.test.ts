// Round trips in a fresh namespace per test: write through the library, read
// back through the library (the same typed objects), through `nft list
// ruleset` (the same text the library renders) and through `nft -j list
// ruleset` (the independent oracle). And the other way: what nft -f writes,
// and what the library renders fed to nft -f, reads back the same.
import { describe, expect, it } from 'vitest';
import { renderRuleset, rule, type Nft, type Ruleset, type SetElement } from '../../src/nft/index.js';
import type { Batch } from '../../src/nft/batch.js';
import { isRoot, nftRuleset, nsExec, withNft } from '../helpers/netns.js';
import { miscBatch, seedBatch, setsBatch } from '../fixtures/nft/rulesets.js';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../fixtures/nft/', import.meta.url));
const cases: Array<[string, (c?: Nft['conn']) => Batch]> = [
  ['seed', seedBatch],
  ['sets', setsBatch],
  ['misc', miscBatch],
];

/** A dump without kernel-assigned handles and element expiry, for comparing two namespaces. */
function strip(rs: Ruleset) {
  const h = <T extends { handle?: bigint }>({ handle: _h, ...x }: T) => x;
  return {
    tables: rs.tables.map(h),
    chains: rs.chains.map(h),
    sets: rs.sets.map(h),
    rules: rs.rules.map(h),
    elements: [...(rs.elements ?? new Map<string, SetElement[]>()).entries()].map(([k, v]) => [k, v.map(({ expires: _e, ...e }) => e)]),
  };
}

function nftText(ns: string): string {
  return nsExec(ns, 'nft', ['list', 'ruleset'])
    .replace(/,\n\t+\s+/g, ', ')
    .replace(/ expires [0-9dhms]+/g, '');
}

describe.skipIf(!isRoot)('nft round trips', () => {
  for (const [name, build] of cases) {
    it(`${name}: library write, library read, nft list`, async () => {
      await withNft(async (nft, ns) => {
        const b = build(nft.conn);
        await b.commit();
        const rs = await nft.listRuleset();
        // The same typed objects back.
        for (const op of b.ops) {
          if (op.kind === 'rule') {
            const got = rs.rules.filter((r) => r.table === op.rule.table && r.chain === op.rule.chain && r.family === op.rule.family);
            expect(got.map(({ handle: _h, ...r }) => r)).toContainEqual(op.rule);
          }
          if (op.kind === 'set' && op.verb !== 'delete' && !b.ops.some((o) => o.kind === 'set' && o.verb === 'delete' && o.set.name === op.set.name)) {
            expect(rs.sets.map(({ handle: _h, ...s }) => s)).toContainEqual(op.set);
          }
        }
        // Rendered, it is what nft lists.
        expect(renderRuleset(rs)).toBe(nftText(ns).replace(/\b(iif|oif) "lo"/g, '$1 1'));
      });
    });

    it(`${name}: the rendered batch, fed to nft -f, writes the same ruleset`, async () => {
      const text = build().render();
      const ours = await withNft(async (nft) => {
        await build(nft.conn).commit();
        return strip(await nft.listRuleset());
      });
      const theirs = await withNft(async (nft, ns) => {
        nsExec(ns, 'nft', ['-f', '-'], text);
        return strip(await nft.listRuleset());
      });
      expect(theirs).toEqual(ours);
    });

    it(`${name}: what nft -f writes decodes to what the library writes`, async () => {
      const viaNft = await withNft(async (nft, ns) => {
        nsExec(ns, 'nft', ['-f', `${fixtures}${name}.nft`]);
        return strip(await nft.listRuleset());
      });
      const viaLib = await withNft(async (nft) => {
        await build(nft.conn).commit();
        return strip(await nft.listRuleset());
      });
      expect(viaNft).toEqual(viaLib);
    });
  }

  it('the seed as nft -j sees it (independent oracle)', async () => {
    await withNft(async (nft, ns) => {
      await seedBatch(nft.conn).commit();
      const j = nftRuleset(ns);
      const chains = j.filter((o) => o.chain).map((o) => o.chain);
      expect(chains.map((c) => `${c.family} ${c.table} ${c.name} ${c.hook ?? '-'} ${c.prio ?? '-'} ${c.policy ?? '-'}`)).toEqual([
        'ip nat prerouting prerouting -100 accept',
        'ip nat postrouting postrouting 100 accept',
        'ip filter forward forward 0 drop',
        'ip filter admin-default - - -',
      ]);
      const rules = j.filter((o) => o.rule).map((o) => o.rule);
      expect(rules.length).toBe(11);
      const stmt = (r: any, key: string) => r.expr.find((e: any) => e[key])?.[key];
      const dnat = rules.filter((r) => stmt(r, 'dnat')).map((r) => stmt(r, 'dnat'));
      expect(dnat).toEqual([{ addr: '169.254.169.254', port: 8773 }, { addr: '10.1.2.2' }, { addr: '10.1.2.3' }]);
      const snat = rules.filter((r) => stmt(r, 'snat')).map((r) => stmt(r, 'snat'));
      expect(snat).toEqual([{ addr: '192.168.32.200' }, { addr: '192.168.32.201' }]);
      expect(rules.filter((r) => r.expr.some((e: any) => 'masquerade' in e)).length).toBe(1);
      const admin = rules.find((r) => r.chain === 'admin-default');
      expect(admin.comment).toBe('authorize');
      expect(admin.expr).toContainEqual({ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 22 } });
      expect(admin.expr).toContainEqual({
        match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: { prefix: { addr: '10.1.2.0', len: 27 } } },
      });
      const fwd = rules.filter((r) => r.chain === 'forward');
      expect(fwd[0].expr[0]).toEqual({ match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } });
      expect(fwd[3].expr).toEqual([{ jump: { target: 'admin-default' } }]);
    });
  });

  it('inserts at a position, adds after a handle, replaces and deletes by handle', async () => {
    await withNft(async (nft) => {
      const c = { family: 'inet', table: 't', chain: 'c' } as const;
      const b = nft.batch();
      b.addTable({ family: 'inet', name: 't' }).addChain({ family: 'inet', table: 't', name: 'c' });
      b.addRule({ ...c, exprs: rule().tcpDport(1).accept() }).addRule({ ...c, exprs: rule().tcpDport(2).accept() });
      await b.commit();
      // The dport each rule matches, in chain order.
      const port = async () => (await nft.listRules('inet', 't', 'c')).map((r) => `${(r.exprs[3] as { data: Buffer }).data.readUInt16BE(0)}`);
      const [r1, r2] = await nft.listRules('inet', 't', 'c');
      await nft
        .batch()
        .insertRule({ ...c, exprs: rule().tcpDport(0).accept() })
        .commit();
      await nft
        .batch()
        .insertRule({ ...c, exprs: rule().tcpDport(15).accept() }, { position: r2.handle! })
        .commit();
      await nft
        .batch()
        .addRule({ ...c, exprs: rule().tcpDport(16).accept() }, { position: r2.handle! })
        .commit();
      await nft
        .batch()
        .addRule({ ...c, exprs: rule().tcpDport(11).accept() }, { position: r1.handle! })
        .commit();
      expect(await port()).toEqual(['0', '1', '11', '15', '2', '16']);
      await nft
        .batch()
        .replaceRule({ ...c, handle: r1.handle!, exprs: rule().tcpDport(10).drop() })
        .deleteRule({ ...c, handle: r2.handle! })
        .commit();
      expect(await port()).toEqual(['0', '10', '11', '15', '16']);
      const replaced = (await nft.listRules('inet', 't', 'c')).find((r) => r.handle === r1.handle)!;
      expect(replaced.exprs.at(-1)).toEqual({ kind: 'immediate', dreg: 0, verdict: { code: 'drop' } });
    });
  });

  it('adds and deletes elements, intervals included, and lists them back merged', async () => {
    await withNft(async (nft) => {
      const nets = { family: 'ip', table: 't', name: 'nets', key: 'ipv4_addr', flags: ['interval'] } as const;
      const pub = { family: 'ip', table: 't', name: 'pub', key: 'ipv4_addr', data: 'ipv4_addr' } as const;
      await nft
        .batch()
        .addTable({ family: 'ip', name: 't' })
        .addSet(nets)
        .addSet(pub)
        .addElements(nets, ['10.0.0.0/8', '192.168.1.1-192.168.1.9', '172.16.0.1', '250.0.0.0-255.255.255.255'])
        .addElements(pub, [
          ['192.168.32.200', '10.1.2.2'],
          ['192.168.32.201', '10.1.2.3'],
        ])
        .commit();
      await nft.batch().deleteElements(nets, ['192.168.1.1-192.168.1.9']).deleteElements(pub, ['192.168.32.200']).commit();
      const { renderElements } = await import('../../src/nft/index.js');
      const sets = await nft.listSets('ip', 't');
      const n = sets.find((s) => s.name === 'nets')!;
      const p = sets.find((s) => s.name === 'pub')!;
      expect(renderElements(n, await nft.listElements(n))).toBe('{ 10.0.0.0/8, 172.16.0.1, 250.0.0.0-255.255.255.255 }');
      expect(renderElements(p, await nft.listElements(p))).toBe('{ 192.168.32.201 : 10.1.2.3 }');
    });
  });
});
