// What a namespace's sysctls were before eucanet first set them (the cluster
// controller turns on net.ipv4.ip_forward), kept under /run/eucanet so that
// `down` can put them back. One file per namespace, named by the namespace's
// inode (the same namespace whether reached by name, path or fd); the first
// value recorded wins, so a second apply does not record eucanet's own value.
// /run is a tmpfs: after a reboot there is nothing to restore, and nothing is.
import { lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, fstatSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { namedNetnsPath, netnsPath, type Netns } from '../sys/netns-path.js';
import { readSysctl, writeSysctl } from '../sys/sysctl.js';

export const SYSCTL_RECORD_DIR = '/run/eucanet/sysctl';

interface Record_ {
  netns: string;
  /**
   * For a named namespace: its nsfs inode's ctime, set when the namespace was
   * made (the bind mount under /run/netns pins it). Inode numbers are reused
   * once a namespace is gone, so a record of a deleted namespace must not
   * apply to a new one that got its number. (The host's own namespace is
   * never deleted; its nsfs inode's ctime is not stable, so it is not used.)
   */
  born?: number;
  /** key -> the value before eucanet's first change, and the value eucanet set. */
  values: Record<string, { before: string; set: string }>;
}

function inodeOf(netns: Netns): number {
  if (netns === undefined) return statSync('/proc/self/ns/net').ino;
  if (typeof netns === 'number') return fstatSync(netns).ino;
  return statSync(netnsPath(netns)).ino;
}

function fileOf(netns: Netns, dir: string): string {
  return join(dir, `netns-${inodeOf(netns)}.json`);
}

function bornOf(netns: Netns): number | undefined {
  return typeof netns === 'string' && !netns.includes('/') ? statSync(namedNetnsPath(netns)).ctimeMs : undefined;
}

/** The directory, made 0700 whatever the umask; refuses a symlink planted in its place. */
function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?): refusing to keep sysctl records there`);
}

/** The record of this namespace, if there is one (a stale one, of an earlier namespace with the same inode, is none). */
function read(file: string, netns: Netns): Record_ | undefined {
  try {
    if (!lstatSync(file).isFile()) return undefined;
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record_;
    return rec.born === bornOf(netns) ? rec : undefined;
  } catch {
    return undefined;
  }
}

function write(file: string, rec: Record_): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(rec, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Records the current value of each of `want`'s keys that differs from the
 * wanted value and has no record yet. Per-device keys (…/conf/<dev>/…) are
 * skipped: they go with the device.
 */
export function recordSysctls(netns: Netns, want: Record<string, string | number>, dir = SYSCTL_RECORD_DIR): void {
  const keys = Object.keys(want).filter((k) => !/\/conf\/|\.conf\./.test(k));
  if (!keys.length) return;
  ensureDir(dir);
  const file = fileOf(netns, dir);
  const born = bornOf(netns);
  const rec: Record_ = read(file, netns) ?? { netns: String(netns ?? 'host'), ...(born !== undefined ? { born } : {}), values: {} };
  let changed = false;
  for (const key of keys) {
    if (rec.values[key]) continue;
    const before = readSysctl(netns, key);
    if (before === String(want[key])) continue;
    rec.values[key] = { before, set: String(want[key]) };
    changed = true;
  }
  if (changed) {
    write(file, rec);
    pruneStale(dir, file);
  }
}

/** The born time of a named namespace that still exists, or undefined when it is gone. */
function bornNow(name: string): number | undefined {
  try {
    return statSync(namedNetnsPath(name)).ctimeMs;
  } catch {
    return undefined;
  }
}

/** Each record in `dir` but `skip`, with its file; one unreadable or already gone is passed over. */
function* records(dir: string, skip?: string): Generator<[string, Record_]> {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return;
  }
  for (const f of files) {
    const file = join(dir, f);
    if (file === skip || !/^netns-\d+\.json$/.test(f)) continue;
    let rec: Record_;
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as Record_;
    } catch {
      continue;
    }
    yield [file, rec];
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/**
 * Removes the records of named namespaces that are gone (deleted without a
 * `down`), or whose name now belongs to a newer namespace: nothing can be
 * restored in them. Records of paths, descriptors and the host are kept.
 */
function pruneStale(dir: string, keep: string): void {
  for (const [file, rec] of records(dir, keep)) {
    if (rec.born === undefined || rec.netns.includes('/')) continue;
    if (bornNow(rec.netns) !== rec.born) unlinkQuietly(file);
  }
}

/**
 * Removes the records of the named namespace `name`, deleted (or about to
 * be) without a `down`: tests and benchmarks that make namespaces call it as
 * they remove them. The next record made would prune them (pruneStale);
 * this leaves none behind meanwhile.
 */
export function dropSysctlRecordsOf(name: string, dir = SYSCTL_RECORD_DIR): void {
  for (const [file, rec] of records(dir)) if (rec.netns === name) unlinkQuietly(file);
}

export interface SysctlOutcome {
  key: string;
  value: string;
  /** restored: put back to `value`; left: left at `value` (with why). */
  action: 'restored' | 'left';
  why?: string;
}

/**
 * Puts back what recordSysctls saw, for the keys in `keys`, where the value is
 * still the one eucanet set (an operator's later change is kept). A dry run
 * says what it would do. Without a record, says the value is left.
 */
export function restoreSysctls(netns: Netns, keys: string[], opts: { dryRun?: boolean; dir?: string } = {}): SysctlOutcome[] {
  const file = fileOf(netns, opts.dir ?? SYSCTL_RECORD_DIR);
  const rec = read(file, netns);
  const out: SysctlOutcome[] = [];
  for (const key of keys) {
    const now = readSysctl(netns, key);
    const r = rec?.values[key];
    if (!r) {
      out.push({ key, value: now, action: 'left', why: 'no record of its value before eucanet set it' });
    } else if (now !== r.set) {
      out.push({ key, value: now, action: 'left', why: `changed since eucanet set it to ${r.set}` });
    } else {
      if (!opts.dryRun) writeSysctl(netns, key, r.before);
      out.push({ key, value: r.before, action: 'restored' });
    }
  }
  if (!opts.dryRun) unlinkQuietly(file);
  return out;
}
