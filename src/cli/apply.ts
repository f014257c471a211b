// eucanet apply: one role's network on this host, from the state.
import { basename } from 'node:path';
import type { DhcpPlan } from '../dhcp/index.js';
import { applyRole, type ApplyResult } from '../managed/apply.js';
import { allocate } from '../managed/allocate.js';
import { describeForeign } from '../managed/ownership.js';
import { readState } from '../managed/statefile.js';
import type { Role } from '../managed/roles/index.js';
import type { State } from '../managed/types.js';
import type { CliValues } from './commands.js';
import { inputFile } from './files.js';
import { EXIT_OK, progressBar } from './output.js';
import { writeErr, writeOut } from './stdio.js';
import { must } from '../util/must.js';
import { nowMs, phase } from '../util/phases.js';

/** The role from checked options (parse.ts made sure of --role and --node); a CC's --cluster when given. */
export function roleOf(v: CliValues): Role {
  if (v.role === 'nc') return { role: 'nc', node: must(v.node, 'the --node parse.ts requires with --role nc') };
  return v.cluster !== undefined ? { role: 'cc', cluster: v.cluster } : { role: 'cc' };
}

/** The DHCP part of the outcome, one line; empty when there is none. */
export function dhcpLine(r: ApplyResult): string {
  if (!r.dhcp) return '';
  return `dhcp ${r.dhcp.action}${r.dhcp.pid ? ` (pid ${r.dhcp.pid})` : ''}`;
}

/** The conntrack step, one line; empty when it deleted nothing (or for node controllers). */
export function conntrackLine(r: ApplyResult): string {
  const c = r.conntrack;
  if (!c || c.deleted + c.vanished === 0) return '';
  const gone = c.vanished ? ` (${c.vanished} already gone)` : '';
  return `conntrack: ${c.deleted} stale entr${c.deleted === 1 ? 'y' : 'ies'} deleted of ${c.scanned}${gone}`;
}

/** What the role left alone (an older eucanet's objects), or took over with --force. */
function foreignLines(r: ApplyResult, force: boolean): string[] {
  if (!r.foreign.length) return [];
  const verb = force ? 'taken over (--force)' : 'left alone';
  return [
    `${verb}: ${r.foreign.length} eucanet object${r.foreign.length === 1 ? '' : 's'} not of this role:`,
    ...r.foreign.map((f) => `  ${describeForeign(f)}`),
  ];
}

function json(r: ApplyResult, role: Role, dryRun: boolean, ms: number): string {
  return `${JSON.stringify(
    {
      role: role.role,
      dryRun,
      segmentation: r.segmentation,
      ...(r.note ? { note: r.note } : {}),
      ops: r.plan.size,
      ms: Math.round(ms),
      plan: { removals: r.plan.removals.toJSON(), changes: r.plan.changes.toJSON() },
      dhcp: r.dhcp ?? null,
      conntrack: r.conntrack ?? null,
      foreign: r.foreign,
    },
    null,
    2,
  )}\n`;
}

/** The state of --state (with --conf's settings) or of --etcd. */
async function stateOf(v: CliValues): Promise<State> {
  // The stores' modules (and node:crypto, which they load) only when --etcd asks for one.
  if (v.etcd !== undefined) return (await import('./store-options.js')).readEtcdState(v);
  const loaded = await readState(await inputFile('--state', must(v.state, 'the required --state')), v.conf ? { conf: await inputFile('--conf', v.conf) } : {});
  for (const w of loaded.warnings) writeErr(`eucanet: warning: ${w}\n`);
  return loaded.state;
}

export async function apply(v: CliValues): Promise<number> {
  const role = roleOf(v);
  // Validated by readState or by the etcd store's read: allocation does not check the document again (only what it fills in).
  const loaded = await stateOf(v);
  phase('state');
  const state = allocate(loaded, { validated: true });
  phase('allocate');
  const dryRun = !!v['dry-run'];
  const force = !!v.force;
  const t0 = nowMs();
  const r = await applyRole(state, role, {
    ...(v.netns ? { netns: v.netns } : {}),
    dryRun,
    force,
    ...(dryRun ? {} : { onProgress: progressBar() }),
  });
  const ms = nowMs() - t0;
  if (v.json) {
    writeOut(json(r, role, dryRun, ms));
    return EXIT_OK;
  }
  const lines: string[] = [];
  if (dryRun) {
    if (r.note) lines.push(`# ${r.note}`);
    const text = [r.plan.removals.toString(), r.plan.changes.toString()].filter(Boolean).join('\n');
    lines.push(text || '# nothing to do: the kernel already matches the state');
    lines.push(...foreignLines(r, force).map((l) => `# ${l}`));
    if (r.dhcp) lines.push(dhcpPlanLines(r.dhcp.plan));
    if (r.conntrack)
      lines.push(`# conntrack: ${r.conntrack.stale.length} of ${r.conntrack.scanned} entries no longer match the NAT maps`, ...r.conntrack.stale);
  } else {
    if (r.note) lines.push(r.note);
    const what = role.role === 'cc' ? 'cluster controller' : `node controller ${role.node}`;
    const dhcp = dhcpLine(r);
    const ct = conntrackLine(r);
    lines.push(`${what}: ${r.ops} op${r.ops === 1 ? '' : 's'} applied in ${ms.toFixed(0)} ms${dhcp ? `; ${dhcp}` : ''}${ct ? `; ${ct}` : ''}`);
    lines.push(...foreignLines(r, force));
  }
  writeOut(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

/** A DHCP plan for people: "# dhcp: reload dnsmasq (pid 12): 2 networks, 5 hosts; hosts update, opts unchanged ...". */
function dhcpPlanLines(p: DhcpPlan): string {
  const what = p.action === 'unchanged' ? 'unchanged' : `${p.action} dnsmasq`;
  const files = p.files.map((f) => `${basename(f.path)} ${f.change}`).join(', ');
  const why = p.reason ? ` (${p.reason})` : '';
  return `# dhcp: ${what}${p.pid !== undefined ? ` (pid ${p.pid})` : ''}${why}: ${p.networks} network${p.networks === 1 ? '' : 's'}, ${p.hosts} host${p.hosts === 1 ? '' : 's'}; ${p.stateDir}: ${files}`;
}
