// The step that follows an incremental host change (DhcpServer.updateHosts),
// off the caller's path: after hosts were only added, the hosts file and the
// loaded marker rewritten to say what dnsmasq now serves (it has the added
// hosts from the hosts directory already: no SIGHUP); after a removal, a
// reload, so that dnsmasq forgets the removed hosts (hosts-dir.ts says why a
// removal needs one).
//
// Both need the whole hosts file, but not every host checked again: the hosts
// index (hosts-index.ts) kept from the last full check places the changed
// hosts alone. It answers only while the marker on disk is the one written
// from it (no other process or full update has changed the directory since);
// otherwise every host is normalised, as a full update does, and the index is
// made again from that.
import { writeStateFile } from './files.js';
import { readSmall, type HostChange } from './hosts-dir.js';
import { HostsIndex } from './hosts-index.js';
import { markerOf, markLoaded } from './loaded.js';
import { renderNormalized } from './render.js';
import type { DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import { normalizeNetworks } from './validate.js';

/** What the step needs of the server, inside the directory's queue. */
export interface HostsSite {
  paths: DnsmasqPaths;
  logDhcp: boolean;
  runningPid(): Promise<number | undefined>;
  /** update()'s whole work: every file judged and dnsmasq brought to them (it drops the index). */
  bring(nets: NormalizedNetwork[], files: DnsmasqFiles): Promise<unknown>;
  /** The hosts file (and the options file when `opts`) written, the hosts directory emptied, SIGHUP, its confirmation awaited, the marker written. */
  reload(files: DnsmasqFiles, nets: NormalizedNetwork[], pid: number, opts: boolean): Promise<unknown>;
}

/** Per state directory, the index of the hosts this process last wrote there. */
const indexes = new Map<string, HostsIndex>();

/** Forgets the index of `dir`: its files are about to be judged or written in full. */
export function dropIndex(dir: string): void {
  indexes.delete(dir);
}

/**
 * Brings the hosts file, the marker and, after a removal, dnsmasq itself to
 * `networks`, which differ from what was last written by `change`. `last`:
 * no later host change is queued (whose rewrite would cover this one's).
 */
export async function afterHosts(s: HostsSite, networks: DhcpNetwork[], pid: number, change: HostChange, last: boolean): Promise<void> {
  const { dir, loaded } = s.paths;
  const reload = change.del.length > 0;
  const idx = indexes.get(dir);
  indexes.delete(dir); // kept again only once this step has done its writes
  const known = idx !== undefined && readSmall(loaded) === idx.marker ? idx.apply(networks, change) : undefined;
  if (!reload && !last) {
    if (idx && known) indexes.set(dir, idx);
    return;
  }
  const nets = known ?? normalizeNetworks(networks);
  const files = renderNormalized(nets, s.paths, { logDhcp: s.logDhcp });
  if (reload && (!known || (await s.runningPid()) !== pid)) {
    // Not proven to be the files dnsmasq has with these hosts removed: judged in full.
    await s.bring(nets, files);
  } else if (reload) {
    // Only hosts changed (the index proves it): the main configuration and the options file are as dnsmasq read them.
    await s.reload(files, nets, pid, false);
  } else {
    await writeStateFile(s.paths.hosts, files.hosts);
    if ((await s.runningPid()) !== pid) return;
    await markLoaded(s.paths, files, pid);
  }
  // Kept when the marker now on disk is the one for these files (the index's own networks, or a new index of them).
  const marker = readSmall(loaded);
  const now = Number(marker?.split(' ')[0]);
  if (marker === undefined || !(now > 0) || marker !== markerOf(files, now)) return;
  const next = idx && known ? idx : new HostsIndex(networks, nets);
  next.marker = marker;
  indexes.set(dir, next);
}
