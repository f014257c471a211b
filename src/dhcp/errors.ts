// What can go wrong running dnsmasq, beyond bad input (a ValidationError).
import { ValidationError } from '../errors.js';

export type DhcpErrorCode =
  /** dnsmasq is not installed; `package` names the Debian package. */
  | 'ENOTINSTALLED'
  /** dnsmasq exited while starting or reloading; `logTail` has its last words. */
  | 'EXITED'
  /** dnsmasq did not report ready (or reloaded) in time. */
  | 'ETIMEDOUT'
  /** dnsmasq could not read its hosts or options file (it reads them as user "nobody"). */
  | 'EACCES'
  /** The state directory cannot be used. */
  | 'ESTATEDIR'
  /** The network namespace to run in does not exist. */
  | 'ENOENT';

export interface DhcpErrorDetails {
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** The last lines dnsmasq wrote to the log file. */
  logTail?: string[];
  /** The Debian package that provides a missing program. */
  package?: string;
  log?: string;
}

/** dnsmasq's exit codes (dnsmasq(8), EXIT CODES). */
const EXIT_MEANING: Record<number, string> = {
  1: 'a problem with its configuration',
  2: 'a problem with network access (address in use, permission to bind a privileged port)',
  3: 'a problem with the file system (missing file or directory, permissions)',
  4: 'memory allocation failure',
  5: 'another miscellaneous problem',
};

export function exitMeaning(code: number | null | undefined): string {
  return code != null && EXIT_MEANING[code] ? ` (${EXIT_MEANING[code]})` : '';
}

export class DhcpError extends Error {
  readonly pid?: number;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly logTail: string[];
  readonly package?: string;
  readonly log?: string;

  constructor(
    readonly code: DhcpErrorCode,
    message: string,
    details: DhcpErrorDetails = {},
  ) {
    const tail = details.logTail?.length ? `\n  ${details.logTail.join('\n  ')}` : '';
    super(`${message}${tail}`);
    this.name = 'DhcpError';
    this.logTail = details.logTail ?? [];
    if (details.pid !== undefined) this.pid = details.pid;
    if (details.exitCode !== undefined) this.exitCode = details.exitCode;
    if (details.signal !== undefined) this.signal = details.signal;
    if (details.package !== undefined) this.package = details.package;
    if (details.log !== undefined) this.log = details.log;
  }
}

/**
 * Everything wrong with a DHCP plan, found before anything is written or sent:
 * one ValidationError (bad input, exit 2) naming each problem.
 */
export class DhcpValidationError extends ValidationError {
  constructor(readonly problems: ValidationError[]) {
    const first = problems[0];
    super(first.field, first.value, first.reason);
    this.name = 'DhcpValidationError';
    if (problems.length > 1) this.message = `DHCP: ${problems.length} problems: ${problems.map((p) => p.message).join('; ')}`;
  }
}

/**
 * DHCP failed after the network was applied: the network stays applied,
 * `dhcpState` says what DHCP was left as (a failure, exit 1, not bad input).
 */
export class DhcpApplyError extends Error {
  readonly code = 'EDHCP';
  constructor(
    message: string,
    override readonly cause: unknown,
    /** What the network transaction did (mutating ops sent). */
    readonly ops: number,
    /** "stopped" (no dnsmasq serves this namespace) or "running" (the old dnsmasq kept, as described). */
    readonly dhcpState: 'stopped' | 'running',
  ) {
    super(message);
    this.name = 'DhcpApplyError';
  }
}
