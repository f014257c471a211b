// What eucanet owns on a host, read from the kernel and told in the seed's own
// terms: VLAN devices, bridges with their ports (like `brctl show`), the
// addresses it placed, and its nat and filter rules.
import type { Handle } from '../handle.js';
import { renderRuleset, type Ruleset } from '../nft/render.js';
import type { Link } from '../rtnl/link.js';
import { EUCANET_PROTO, isOwnedAlias } from '../tx/desired.js';
import { isOwnedTable } from '../tx/nft-diff.js';

export interface HostView {
  segments: Array<{ name: string; kind: string; vlan?: number; parent?: string; vni?: number }>;
  bridges: Array<{ name: string; stp: boolean; ports: string[] }>;
  addresses: Array<{ dev: string; address: string }>;
  /** eucanet's nftables tables, in nft syntax. */
  ruleset: string;
}

export async function readHostView(h: Handle): Promise<HostView> {
  const links = await h.links.list();
  const byIndex = new Map(links.map((l) => [l.index, l]));
  const name = (i: number | undefined) => (i === undefined ? undefined : byIndex.get(i)?.name);
  const owned = links.filter((l) => isOwnedAlias(l.alias));
  const bridges = owned
    .filter((l) => l.kind === 'bridge')
    .map((b) => ({
      name: b.name,
      stp: b.bridge?.stp ?? false,
      ports: links.filter((l) => l.master === b.index).map((l) => l.name).sort(),
    }));
  const segments = owned
    .filter((l: Link) => l.kind === 'vlan' || l.kind === 'vxlan')
    .map((l) => {
      const s: HostView['segments'][number] = { name: l.name, kind: l.kind! };
      if (l.vlan) s.vlan = l.vlan.id;
      const parent = name(l.parent);
      if (parent) s.parent = parent;
      if (l.vxlan?.vni !== undefined) s.vni = l.vxlan.vni;
      return s;
    });
  const addresses = (await h.addresses.list({ family: 4 }))
    .filter((a) => a.proto === EUCANET_PROTO)
    .map((a) => ({ dev: name(a.index) ?? String(a.index), address: `${a.address}/${a.prefix}` }));
  const rs = await h.nft.listRuleset();
  const mine: Ruleset = {
    tables: rs.tables.filter(isOwnedTable),
    chains: rs.chains.filter((c) => isOwnedTable({ name: c.table })),
    sets: rs.sets.filter((s) => isOwnedTable({ name: s.table })),
    rules: rs.rules.filter((r) => isOwnedTable({ name: r.table })),
    ...(rs.elements ? { elements: rs.elements } : {}),
  };
  return { segments, bridges, addresses, ruleset: renderRuleset(mine) };
}

export function formatHostView(v: HostView): string {
  const out: string[] = [];
  if (v.segments.length) {
    out.push('segments:');
    for (const s of v.segments) {
      out.push(`  ${s.name.padEnd(15)} ${s.kind === 'vlan' ? `802.1Q vlan ${s.vlan} on ${s.parent}` : `vxlan vni ${s.vni}`}`);
    }
    out.push('');
  }
  out.push(`${'bridge name'.padEnd(16)}${'STP enabled'.padEnd(16)}interfaces`);
  for (const b of v.bridges) {
    const [first = '', ...more] = b.ports;
    out.push(`${b.name.padEnd(16)}${(b.stp ? 'yes' : 'no').padEnd(16)}${first}`);
    for (const p of more) out.push(`${''.padEnd(32)}${p}`);
  }
  if (!v.bridges.length) out.push('(none)');
  out.push('');
  const byDev = new Map<string, string[]>();
  for (const a of v.addresses) byDev.set(a.dev, [...(byDev.get(a.dev) ?? []), a.address]);
  out.push('addresses:');
  for (const [dev, list] of byDev) out.push(`  ${dev}: ${list.join(', ')}`);
  if (!byDev.size) out.push('  (none)');
  out.push('');
  out.push(v.ruleset.trim() ? v.ruleset.trimEnd() : '(no eucanet nftables tables)');
  return `${out.join('\n')}\n`;
}
