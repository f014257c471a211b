// The hosts directory (dnsmasq's dhcp-hostsdir): instances added between two
// reloads, one file each, named by the instance's address and holding its
// hosts line. dnsmasq reads a new file there at once through inotify, with no
// SIGHUP and without re-reading the other hosts, so a run-instance costs one
// small file. What the directory cannot do (dnsmasq, --dhcp-hostsdir):
// - a removed or changed file's entry stays in dnsmasq until SIGHUP. So a
//   removal is a reload (after the sync, not on its path: server.ts), and
//   every start and reload empties the directory (the hosts file then holds
//   every host);
// - a new entry whose address (or MAC) an entry still in dnsmasq holds is
//   refused ("duplicate dhcp-host IP address"). So a host that takes the
//   address, MAC or name of one removed in the same change goes through a
//   reload at once (needsReload), and a removal's reload runs before any later
//   change of the same directory (the server's queue is per directory).
// Files dnsmasq is handed here are written atomically (a dot-named temporary
// file renamed: dnsmasq skips dot files, then reads the renamed one), but not
// synced to disk: the directory is rebuilt at every start of dnsmasq (the
// hosts file, written durably, has every host by then), so a crash can cost
// nothing it needs, and an fsync per run-instance would be most of its time.
// The few small files of a run-instance are read and written with blocking
// calls (microseconds each): through the thread pool each would cost a trip
// that a busy machine makes milliseconds long.
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { readdir, unlink } from '../util/fs-async.js';
import { join } from 'node:path';
import { randomHex } from '../util/crypto-lazy.js';
import { DhcpError } from './errors.js';
import { readIfExists } from './files.js';
import { parseLeases } from './leases.js';
import { hostLine } from './render.js';
import type { DhcpHost } from './types.js';

/** Hosts added and removed since the last apply (a changed host is in both). */
export interface HostChange {
  add: DhcpHost[];
  del: DhcpHost[];
}

const fileOf = (dir: string, h: DhcpHost) => join(dir, h.ip);
const lineOf = (h: DhcpHost) => hostLine({ ...h, mac: h.mac.toLowerCase() });

/**
 * True when an added host takes the address, MAC or hostname of a removed one:
 * dnsmasq would refuse its file while the removed entry is still loaded.
 */
export function needsReload(c: HostChange): boolean {
  if (!c.add.length || !c.del.length) return false;
  const gone = new Set<string>();
  for (const h of c.del) {
    gone.add(`ip ${h.ip}`).add(`mac ${h.mac.toLowerCase()}`);
    if (h.hostname !== undefined) gone.add(`name ${h.hostname.toLowerCase()}`);
  }
  return c.add.some(
    (h) => gone.has(`ip ${h.ip}`) || gone.has(`mac ${h.mac.toLowerCase()}`) || (h.hostname !== undefined && gone.has(`name ${h.hostname.toLowerCase()}`)),
  );
}

/**
 * True when a live lease holds an added host's address for another MAC:
 * dnsmasq would not hand the address over (server.ts restarts it instead).
 */
export function leaseTaken(leasesPath: string, add: readonly DhcpHost[], nowS = Date.now() / 1000): boolean {
  if (!add.length) return false;
  const want = new Map(add.map((h) => [h.ip, h.mac.toLowerCase()]));
  const text = readSmall(leasesPath);
  if (!text) return false;
  return parseLeases(text).some((l) => (l.expiry === 0 || l.expiry > nowS) && want.has(l.ip) && want.get(l.ip) !== l.mac);
}

/** A small file of the state directory (not through a link), or undefined when there is none. */
export function readSmall(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Makes the hosts directory (0755: dnsmasq reads it as "nobody") if it is not there; a planted link is refused. */
export function hostsDirReady(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o755 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (lstatSync(dir).isSymbolicLink()) throw new DhcpError('ESTATEDIR', `${dir} is a symbolic link: eucanet does not follow links in its state directory`);
}

/** Writes the added hosts' files and removes the removed ones' (a changed host: its file rewritten). */
export function writeHostFiles(dir: string, c: HostChange): void {
  const added = new Set(c.add.map((h) => h.ip));
  for (const h of c.del) {
    if (added.has(h.ip)) continue;
    try {
      unlinkSync(fileOf(dir, h));
    } catch (err) {
      ignoreMissing(err as NodeJS.ErrnoException);
    }
  }
  for (const h of c.add) writeHostFile(dir, h);
}

/** One host's file: a dot-named temporary file (mode 0644: dnsmasq reads it as "nobody"), renamed into place. */
function writeHostFile(dir: string, h: DhcpHost): void {
  const tmp = join(dir, `.${h.ip}.${randomHex(4)}.tmp`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, `${lineOf(h)}\n`);
    fchmodSync(fd, 0o644); // not the umask's idea of it
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, fileOf(dir, h));
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    throw err;
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

/** The names in the hosts directory (none when it does not exist). */
export async function hostFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Empties the hosts directory (before a start or a reload: the hosts file holds every host). */
export async function clearHostFiles(dir: string): Promise<void> {
  await Promise.all((await readdir(dir).catch(() => [] as string[])).map((n) => unlink(join(dir, n)).catch(ignoreMissing)));
}

/**
 * True when every file in the hosts directory holds a line of `hostsText`
 * (the hosts file dnsmasq would load): dnsmasq then serves exactly that file's
 * hosts, the directory's entries being duplicates of them.
 */
export async function hostFilesWithin(dir: string, hostsText: string): Promise<boolean> {
  const names = await hostFiles(dir);
  if (!names.length) return true;
  const lines = new Set(hostsText.split('\n'));
  for (const n of names) {
    const text = await readIfExists(join(dir, n));
    if (text === undefined || !text.split('\n').every((l) => l === '' || lines.has(l))) return false;
  }
  return true;
}
