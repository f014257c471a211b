// What the running dnsmasq has confirmed loading (the marker file: its pid and
// a digest of the three files, written once dnsmasq said it read them), and
// whether SIGHUP can bring it to new files or it must be restarted (see the
// top of server.ts).
import { readIfExists, writeStateFile } from './files.js';
import { hostFilesWithin } from './hosts-dir.js';
import { leaseConflicts, parseLeases } from './leases.js';
import type { DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import { fingerprint } from '../util/fingerprint.js';

/** Digests made, by the files object: a marker written and then checked costs one (about 1 ms at 5000 hosts). */
const digests = new WeakMap<DnsmasqFiles, string>();

// What the marker records of the files dnsmasq confirmed loading (not node:crypto's SHA-256: util/fingerprint.ts says why).
function digestOf(f: DnsmasqFiles): string {
  let d = digests.get(f);
  if (d === undefined) digests.set(f, (d = fingerprint(f.config, f.hosts, f.opts)));
  return d;
}

/** The marker's text for dnsmasq `pid` having loaded `files`. */
export const markerOf = (files: DnsmasqFiles, pid: number): string => `${pid} ${digestOf(files)}\n`;

export function markLoaded(paths: DnsmasqPaths, files: DnsmasqFiles, pid: number): Promise<void> {
  return writeStateFile(paths.loaded, markerOf(files, pid));
}

/**
 * True when dnsmasq `pid` has confirmed loading exactly `files`: the marker
 * written after its confirmation names this pid and these files' digest, and
 * the files on disk are these.
 */
export async function isLoaded(paths: DnsmasqPaths, files: DnsmasqFiles, pid: number): Promise<boolean> {
  const marker = (await readIfExists(paths.loaded))?.trim().split(' ');
  if (marker?.[0] !== String(pid) || marker[1] !== digestOf(files)) return false;
  if ((await readIfExists(paths.hosts)) !== files.hosts || (await readIfExists(paths.opts)) !== files.opts) return false;
  return hostFilesWithin(paths.hostsDir, files.hosts);
}

/** Why SIGHUP cannot bring the running dnsmasq to `files`, or undefined if it can. */
export async function restartReason(paths: DnsmasqPaths, files: DnsmasqFiles, nets: NormalizedNetwork[]): Promise<string | undefined> {
  // The config file on disk is the one the running dnsmasq read: it is only
  // written while no dnsmasq runs (server.ts startFresh).
  if ((await readIfExists(paths.config)) !== files.config) {
    return 'the main configuration changed (interfaces, ranges or lease times), and dnsmasq reads it only at start';
  }
  const conflicts = leaseConflicts(parseLeases((await readIfExists(paths.leases)) ?? ''), nets);
  if (conflicts.length) {
    const c = conflicts[0];
    return `${c.ip} is given to a new MAC but ${c.mac} still holds a lease on it, and dnsmasq does not take a lease back on SIGHUP`;
  }
  return undefined;
}

/** What update() will do (a PlannedAction), with the running pid where the action needs one. */
export type Decision =
  | { action: 'start' }
  | { action: 'unchanged' }
  | { action: 'stop'; pid: number }
  | { action: 'restart'; pid: number; reason: string }
  | { action: 'reload'; pid: number };

/** What bringing the running dnsmasq (`pid`, if any) to `files` takes. */
export async function decide(paths: DnsmasqPaths, files: DnsmasqFiles, nets: NormalizedNetwork[], pid: number | undefined): Promise<Decision> {
  if (nets.length === 0) return pid !== undefined ? { action: 'stop', pid } : { action: 'unchanged' };
  if (pid === undefined) return { action: 'start' };
  const reason = await restartReason(paths, files, nets);
  if (reason !== undefined) return { action: 'restart', pid, reason };
  return (await isLoaded(paths, files, pid)) ? { action: 'unchanged' } : { action: 'reload', pid };
}
