// The state directory: atomic writes, and reading dnsmasq's log back.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Writes `data` to `path` through a temporary file and rename: readers see the old or the new file, never half. */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.chmod(mode); // not the umask's idea of it: dnsmasq reads as an unprivileged user
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Creates the directory (0755) and returns the first directory on its path that
 * others cannot search, if any: dnsmasq drops root for user "nobody" and then
 * re-reads the hosts and options files on SIGHUP, so it must reach them.
 */
export async function prepareDir(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  for (let d = dir; ; d = dirname(d)) {
    if (((await stat(d)).mode & constants.S_IXOTH) === 0) return d;
    if (dirname(d) === d) return undefined;
  }
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
  if (!existsSync(path)) return '';
  const fd = openSync(path, 'r');
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
  return text.split('\n').filter((l) => l.trim() !== '').slice(-n);
}
