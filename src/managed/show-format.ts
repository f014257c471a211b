// `eucanet show` for people: segments, a `brctl show`-like table whose ports
// name their instance and group, addresses, DHCP, and the rules in nft syntax.
import type { HostView } from './show.js';

export function formatHostView(v: HostView): string {
  const out: string[] = [];
  if (v.segments.length) {
    out.push('segments:');
    for (const s of v.segments) {
      out.push(`  ${s.name.padEnd(15)} ${s.kind === 'vlan' ? `802.1Q vlan ${s.vlan} on ${s.parent}` : `vxlan vni ${s.vni}`}`);
    }
    out.push('');
  }
  const portText = (bridge: string, p: string) => {
    const pv = v.ports.find((x) => x.bridge === bridge && x.name === p);
    const who = [pv?.instance, pv?.group].filter(Boolean).join(' ');
    return who ? `${p.padEnd(16)}${who}` : p;
  };
  out.push(`${'bridge name'.padEnd(16)}${'STP enabled'.padEnd(16)}${'interfaces'.padEnd(16)}instance group`);
  for (const b of v.bridges) {
    const [first, ...more] = b.ports;
    out.push(`${b.name.padEnd(16)}${(b.stp ? 'yes' : 'no').padEnd(16)}${first ? portText(b.name, first) : ''}`.trimEnd());
    for (const p of more) out.push(`${''.padEnd(32)}${portText(b.name, p)}`);
  }
  if (!v.bridges.length) out.push('(none)');
  out.push('');
  const byDev = new Map<string, string[]>();
  for (const a of v.addresses) byDev.set(a.dev, [...(byDev.get(a.dev) ?? []), a.address]);
  out.push('addresses:');
  for (const [dev, list] of byDev) out.push(`  ${dev}: ${list.join(', ')}`);
  if (!byDev.size) out.push('  (none)');
  out.push('');
  if (v.dhcp) {
    out.push(`dhcp: ${v.dhcp.running ? `dnsmasq running, pid ${v.dhcp.pid}` : 'dnsmasq not running'} (${v.dhcp.dir})`);
    for (const l of v.dhcp.leases) out.push(`  lease ${l.ip.padEnd(15)} ${l.mac} ${(l.hostname ?? '-').padEnd(12)} expires ${l.expires}`);
    if (!v.dhcp.leases.length) out.push('  (no leases)');
    out.push('');
  }
  out.push(v.ruleset.trim() ? v.ruleset.trimEnd() : '(no eucanet nftables tables)');
  return `${out.join('\n')}\n`;
}
