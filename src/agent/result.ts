// Pieces of a sync's result: an error in one line, an invalid version named
// by its field, the drift reasons kept, what an applied version did.
import type { ValidationError } from '../errors.js';
import type { ApplyResult } from '../managed/apply.js';
import { describeDelta } from '../tx/delta.js';
import type { SyncResult } from './types.js';

/** Drift reasons kept for one sync's result (then "..."). */
export const MAX_REASONS = 5;

/** An error's message, first line only. */
export const oneLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

/** An invalid state version: its field, and its value unless big (a whole document), then its start as text. */
export function invalidOf(version: string, err: ValidationError): NonNullable<SyncResult['invalid']> {
  const text = JSON.stringify(err.value) ?? String(err.value);
  const value = text.length > 200 ? `${text.slice(0, 200)}...` : err.value;
  return { version, field: err.field, value, message: oneLine(err) };
}

/** A version applied: its ops, full or incremental (with what changed), DHCP's action and dnsmasq's pid; `incrementalError` when an incremental apply failed first. */
export function appliedResult(
  version: string,
  r: Pick<ApplyResult, 'delta' | 'ops' | 'dhcp'>,
  incrementalError: string | undefined,
): Omit<SyncResult, 'seq' | 'trigger' | 'triggers'> {
  return {
    result: 'ok',
    version,
    ops: r.ops,
    ms: 0,
    mode: r.delta ? 'incremental' : 'full',
    ...(r.delta ? { changed: describeDelta(r.delta) } : {}),
    ...(incrementalError !== undefined ? { incrementalError } : {}),
    ...(r.dhcp ? { dhcp: r.dhcp.action } : {}),
    ...(r.dhcp?.pid !== undefined ? { dnsmasqPid: r.dhcp.pid } : {}),
  };
}
