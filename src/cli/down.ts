// eucanet down: what a role made on this host removed, and a list of what
// went and what was left.
import { downRole, type DownReport } from '../managed/apply.js';
import { describeForeign } from '../managed/ownership.js';
import type { CliValues } from './commands.js';
import { EXIT_OK } from './output.js';
import { writeOut } from './stdio.js';

export function formatDown(r: DownReport): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const out: string[] = [];
  const n = r.removed.links.length + r.removed.addresses.length + r.removed.routes.length + r.removed.tables.length;
  out.push(
    `${r.dryRun ? 'dry run: ' : ''}role ${r.role}: ${n ? `${verb} ${n} object${n === 1 ? '' : 's'}` : 'nothing of this role to remove'}${r.dryRun ? ' (nothing changed)' : ` (${r.ops} op${r.ops === 1 ? '' : 's'})`}`,
  );
  const list = (label: string, xs: string[]) => xs.length && out.push(`  ${label}: ${xs.join(', ')}`);
  list('links', r.removed.links);
  list('addresses', r.removed.addresses);
  list('routes', r.removed.routes);
  list('nftables tables', r.removed.tables);
  list(r.dryRun ? 'ports to release from its bridges' : 'ports released from its bridges', r.released);
  if (r.dhcp) {
    const pid = r.dhcp.pid !== undefined ? ` (pid ${r.dhcp.pid})` : '';
    out.push(r.dhcp.stopped ? `  dnsmasq: ${r.dryRun ? 'would stop' : 'stopped'}${pid}` : '  dnsmasq: not running');
  }
  for (const s of r.sysctls) {
    out.push(s.action === 'restored' ? `  ${s.key}: ${r.dryRun ? 'would restore' : 'restored'} to ${s.value}` : `  ${s.key}: left at ${s.value} (${s.why})`);
  }
  if (r.left.length) {
    out.push(`left: ${r.left.length} eucanet object${r.left.length === 1 ? '' : 's'} not of role ${r.role} (down --force removes them):`);
    for (const f of r.left) out.push(`  ${describeForeign(f)}`);
  }
  return `${out.join('\n')}\n`;
}

export async function down(v: CliValues): Promise<number> {
  const role = v.role as 'cc' | 'nc';
  const r = await downRole(role, { ...(v.netns ? { netns: v.netns } : {}), dryRun: !!v['dry-run'], force: !!v.force });
  if (v.json) {
    const { plan: _p, ...rest } = r;
    writeOut(`${JSON.stringify(rest, null, 2)}\n`);
  } else {
    writeOut(formatDown(r));
  }
  return EXIT_OK;
}
