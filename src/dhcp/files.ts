// The state directory: made with explicit modes and no symbolic links
// followed, atomic writes, and reading dnsmasq's log back.
import { closeSync, constants, fchmodSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { chmod, close, lstat, mkdir, open, readFile, stat } from '../util/fs-async.js';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../util/file.js';

/**
 * Writes a state-directory file atomically and durably (util/file.ts), with
 * the mode given whatever the umask (dnsmasq reads as an unprivileged user),
 * replacing a planted symlink rather than writing through it.
 */
export function writeStateFile(path: string, data: string, mode = 0o644): Promise<void> {
  return writeFileAtomic(path, data, { mode, followSymlinks: false });
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    const fd = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await readFile(fd, 'utf8');
    } finally {
      await close(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Where eucanet's run-time directories live: everything below is eucanet's own. */
export const RUN_BASE = '/run/eucanet';

/** The first directory on `dir`'s path that eucanet owns: RUN_BASE for a directory under it, else `dir` itself. */
export function ownedRoot(dir: string): string {
  return dir === RUN_BASE || dir.startsWith(`${RUN_BASE}/`) ? RUN_BASE : dir;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Every directory from "/" down to `dir`. */
function pathDirs(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    out.unshift(d);
    if (dirname(d) === d) return out;
  }
}

/**
 * Checks (create false) or makes (create true) the state directory `dir`.
 * Directories from `owned` down (see ownedRoot) are eucanet's: a symbolic link
 * planted there is refused, never followed, and each of them (and each
 * directory made) gets mode 0755 explicitly, whatever the umask (dnsmasq drops
 * root for "nobody" and then re-reads its hosts and options files, so it must
 * reach them). Returns the problem as one sentence, or undefined.
 */
export async function prepareDir(dir: string, owned: string, create: boolean): Promise<string | undefined> {
  for (const d of pathDirs(dir)) {
    const ours = d === owned || d.startsWith(`${owned}/`);
    let st = await (ours ? lstatOrUndefined(d) : stat(d).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))));
    if (st === undefined) {
      if (!create) return undefined; // the rest is made by eucanet, with mode 0755
      await mkdir(d, 0o755).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
      if ((await lstat(d)).isDirectory()) await chmod(d, 0o755);
      st = await lstat(d);
    }
    if (st.isSymbolicLink()) return `${d} is a symbolic link: eucanet does not follow links under ${owned}`;
    if (!st.isDirectory()) return `${d} is not a directory`;
    // eucanet's own directories (the state directory, and /run/eucanet and below)
    // get their mode set, whatever an earlier run's umask made of them.
    if (create && (d === dir || ours) && (st.mode & 0o7777) !== 0o755) {
      await chmod(d, 0o755);
      st = await lstat(d);
    }
    if ((st.mode & constants.S_IXOTH) === 0 && !((d === dir || ours) && !create)) {
      return `${d} is not searchable by others, and dnsmasq re-reads its hosts file as user "nobody"; chmod o+x ${d} or choose another stateDir`;
    }
  }
  return undefined;
}

/** The files of the state directory that are symbolic links (planted: eucanet never makes one). */
export async function plantedLinks(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) if ((await lstatOrUndefined(p))?.isSymbolicLink()) out.push(p);
  return out;
}

/** Opens a file for appending without following a symbolic link, created with `mode` whatever the umask. */
export function openAppendNoFollow(path: string, mode: number): number {
  const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The log's text from byte `offset` on (at most the last 1 MiB of it). */
export function readFrom(path: string, offset: number): string {
  let fd: number;
  try {
    // Not through a planted link: the log's lines end up in error messages.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(offset, size - (1 << 20));
    if (size <= start) return '';
    const buf = Buffer.alloc(size - start);
    const n = readSync(fd, buf, 0, buf.length, start);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The last `n` non-empty lines of a text. */
export function lastLines(text: string, n: number): string[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n);
}
