// eucanet apply / down / allocate.
import { basename } from 'node:path';
import type { DhcpPlan } from '../dhcp/index.js';
import { applyRole, downRole } from '../managed/apply.js';
import { allocate } from '../managed/allocate.js';
import { allocateFile, loadState } from '../managed/statefile.js';
import type { Role } from '../managed/roles/index.js';
import { EXIT_OK, UsageError, progressBar } from './output.js';
import type { CliValues } from './main.js';

export function roleOf(v: CliValues): Role {
  if (v.role === 'cc') return { role: 'cc' };
  if (v.role === 'nc') {
    if (!v.node) throw new UsageError('--role nc needs --node NAME');
    return { role: 'nc', node: v.node };
  }
  throw new UsageError(`--role must be cc or nc (got ${JSON.stringify(v.role ?? '')})`);
}

function need(v: string | undefined, flag: string): string {
  if (!v) throw new UsageError(`${flag} is required`);
  return v;
}

export async function apply(v: CliValues): Promise<number> {
  const role = roleOf(v);
  const loaded = await loadState(need(v.state, '--state'), v.conf ? { conf: v.conf } : {});
  for (const w of loaded.warnings) process.stderr.write(`eucanet: warning: ${w}\n`);
  const state = allocate(loaded.state);
  const t0 = performance.now();
  const r = await applyRole(state, role, {
    ...(v.netns ? { netns: v.netns } : {}),
    dryRun: v['dry-run'] ?? false,
    ...(v['dry-run'] ? {} : { onProgress: progressBar() }),
  });
  const ms = performance.now() - t0;
  const text = [r.plan.removals.toString(), r.plan.changes.toString()].filter(Boolean).join('\n');
  if (v.json) {
    process.stdout.write(
      `${JSON.stringify({ role: role.role, dryRun: !!v['dry-run'], ops: r.plan.size, ms: Math.round(ms), plan: { removals: r.plan.removals.toJSON(), changes: r.plan.changes.toJSON() }, dhcp: r.dhcp ?? null }, null, 2)}\n`,
    );
  } else if (v['dry-run']) {
    process.stdout.write(text ? `${text}\n` : '# nothing to do: the kernel already matches the state\n');
    if (r.dhcp) process.stdout.write(`${dhcpPlanLines(r.dhcp.plan)}\n`);
  } else {
    const what = role.role === 'cc' ? 'cluster controller' : `node controller ${role.node}`;
    const dhcp = r.dhcp ? `; dhcp ${r.dhcp.action}${r.dhcp.pid ? ` (pid ${r.dhcp.pid})` : ''}` : '';
    process.stdout.write(`${what}: ${r.ops} op${r.ops === 1 ? '' : 's'} applied in ${ms.toFixed(0)} ms${dhcp}\n`);
  }
  return EXIT_OK;
}

/** A DHCP plan for people: "# dhcp: reload dnsmasq (pid 12): 2 networks, 5 hosts; hosts update, opts unchanged ...". */
function dhcpPlanLines(p: DhcpPlan): string {
  const what = p.action === 'unchanged' ? 'unchanged' : `${p.action} dnsmasq`;
  const files = p.files.map((f) => `${basename(f.path)} ${f.change}`).join(', ');
  const why = p.reason ? ` (${p.reason})` : '';
  return `# dhcp: ${what}${p.pid !== undefined ? ` (pid ${p.pid})` : ''}${why}: ${p.networks} network${p.networks === 1 ? '' : 's'}, ${p.hosts} host${p.hosts === 1 ? '' : 's'}; ${p.stateDir}: ${files}`;
}

export async function down(v: CliValues): Promise<number> {
  const role = v.role === 'cc' || v.role === 'nc' ? v.role : undefined;
  if (!role) throw new UsageError('--role must be cc or nc');
  const r = await downRole(role, v.netns ? { netns: v.netns } : {});
  process.stdout.write(`${r.ops} op${r.ops === 1 ? '' : 's'}: everything eucanet owned is removed\n`);
  return EXIT_OK;
}

export async function allocateCmd(v: CliValues): Promise<number> {
  const r = await allocateFile(need(v.state, '--state'), v.conf ? { conf: v.conf } : {});
  for (const w of r.warnings) process.stderr.write(`eucanet: warning: ${w}\n`);
  process.stdout.write(r.changed ? `${v.state}: allocations written\n` : `${v.state}: already fully allocated\n`);
  return EXIT_OK;
}
