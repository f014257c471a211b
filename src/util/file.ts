// Files replaced all at once: the one writeFileAtomic (state files, the DHCP
// server's configuration and leases).
import { basename, dirname, join } from 'node:path';
import { close, fchmod, fchown, fstat, fsync, open, realpath, rename, stat, unlink, writeFile } from './fs-async.js';

export interface AtomicWriteOptions {
  /** The file's mode, whatever the umask and the old file say. Default: the old file's, or 0644 for a new one. */
  mode?: number;
  /** Write through a symlink at `path` to its target (default), or replace the symlink itself with the file. */
  followSymlinks?: boolean;
}

/**
 * Replaces a file's contents all at once: a temp file in the same directory,
 * fsync, rename over the target, fsync the directory. A reader sees the old
 * file or the new one, never a mix, even across a crash. Keeps the old file's
 * owner and group (a nobody:nogroup file stays so when root rewrites it), and
 * its mode unless `opts.mode` says otherwise.
 */
export async function writeFileAtomic(path: string, data: string, opts: AtomicWriteOptions = {}): Promise<void> {
  const target = opts.followSymlinks === false ? path : await realpath(path).catch(() => path);
  const dir = dirname(target);
  // The pid and a random number name it; opened with O_EXCL ('wx'), a name
  // taken, or a link put there, is refused rather than followed. Math.random,
  // not node:crypto: a cold CC writes its DHCP files through here before it
  // starts dnsmasq, and loading crypto (OpenSSL's setup) costs more than the write.
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${((Math.random() * 0x100000000) >>> 0).toString(16)}.tmp`);
  const st = await stat(target).catch(() => undefined);
  const mode = opts.mode ?? (st ? st.mode & 0o7777 : 0o644);
  try {
    const fd = await open(tmp, 'wx', mode);
    try {
      await writeFile(fd, data, 'utf8');
      // Owner first: chown clears set-id bits, chmod then puts the mode back.
      if (st) {
        const made = await fstat(fd);
        if (made.uid !== st.uid || made.gid !== st.gid) await fchown(fd, st.uid, st.gid);
      }
      await fchmod(fd, mode); // not the umask's idea of it
      await fsync(fd);
    } finally {
      await close(fd);
    }
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await fsync(d);
  } finally {
    await close(d);
  }
}
