// One log line per sync: for people, or a JSON object (--json).
import type { SyncResult } from './types.js';

export function formatSync(r: SyncResult, json: boolean, role: string): string {
  if (json) return JSON.stringify({ time: new Date().toISOString(), event: 'sync', role, ...r });
  const why = r.triggers.length > 1 ? `${r.trigger} (+${r.triggers.slice(1).join(',')})` : r.trigger;
  const parts = [`sync #${r.seq}`, `trigger=${why}`, `result=${r.result}`, `ops=${r.ops}`, `ms=${r.ms}`];
  if (r.mode !== undefined) parts.push(`mode=${r.mode}${r.changed !== undefined ? `(${r.changed})` : ''}`);
  if (r.version !== undefined) parts.push(`version=${r.version}`);
  if (r.incrementalError !== undefined) parts.push(`incremental failed, full reconcile made: ${r.incrementalError}`);
  if (r.drift?.length) parts.push(`drift: ${r.drift.join('; ')}`);
  if (r.dhcp !== undefined) parts.push(`dhcp=${r.dhcp}${r.dnsmasqPid !== undefined ? `(pid ${r.dnsmasqPid})` : ''}`);
  if (r.invalid) parts.push(`invalid version ${r.invalid.version}: field ${r.invalid.field}: ${r.invalid.message}`);
  else if (r.error !== undefined) parts.push(`error: ${r.error}`);
  return `eucanet agent ${role}: ${parts.join(' ')}`;
}
