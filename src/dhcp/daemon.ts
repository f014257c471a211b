// Starting, recognising, signalling and stopping one dnsmasq process.
//
// The runtime's one long-lived child process (ARCHITECTURE.md, convention 6):
// the DHCP server. It is started by posix_spawn inside the namespace, from the
// addon (src/sys/spawn.ts says why not child_process), so the child's pid is
// dnsmasq's pid and nothing else runs in between.
import { closeSync, fstatSync, lstatSync, renameSync } from 'node:fs';
import { unlink } from '../util/fs-async.js';
import { basename } from 'node:path';
import { DhcpError, exitMeaning } from './errors.js';
import { fileSize, lastLines, openAppendNoFollow, readFrom, readIfExists } from './files.js';
import { findProgram, isAlive, isExecutable, netnsInode, pidsWithArg, readCmdline, waitGone } from './proc.js';
import type { DnsmasqPaths } from './types.js';
import { spawnInNetns, type SpawnedProcess } from '../sys/spawn.js';

/** Rotate the log (to .1) when a fresh dnsmasq starts and the log is larger than this. */
const LOG_ROTATE_BYTES = 1 << 20;
const POLL_MS = 20;

export interface DaemonConfig {
  paths: DnsmasqPaths;
  /**
   * The namespace file to enter ("/run/netns/NAME", any nsfs path, or
   * "/proc/self/fd/N" for a descriptor), or undefined for the caller's namespace.
   */
  netnsPath?: string;
  /** The namespace as a descriptor of this process (then netnsPath names it in messages). */
  netnsFd?: number;
  dnsmasqPath?: string;
}

/** The dnsmasq binary, or a clear error naming its package. */
export function resolveDnsmasq(given?: string): string {
  const found = given !== undefined ? (isExecutable(given) ? given : undefined) : findProgram('dnsmasq', ['/usr/sbin/dnsmasq']);
  if (!found) {
    throw new DhcpError(
      'ENOTINSTALLED',
      `dnsmasq is not installed: ${given ?? '/usr/sbin/dnsmasq'} not found. Install the Debian package dnsmasq-base (apt-get install dnsmasq-base)`,
      { package: 'dnsmasq-base' },
    );
  }
  return found;
}

/**
 * True when `pid` is a live dnsmasq started with our configuration file, in
 * our namespace: a pid file alone is not trusted (the pid may have been reused).
 */
export function isOurDnsmasq(pid: number, cfg: DaemonConfig): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  const argv = readCmdline(pid);
  if (!argv?.length) return false;
  // argv[0] is dnsmasq; argv[1] is, when the binary is a script run by an interpreter.
  const bin = cfg.dnsmasqPath;
  const isDnsmasq = basename(argv[0]) === 'dnsmasq' || argv[0] === bin || (bin !== undefined && argv[1] === bin);
  if (!isDnsmasq || !argv.includes(`--conf-file=${cfg.paths.config}`)) return false;
  const want = netnsInode(cfg.netnsPath ?? '/proc/self/ns/net');
  return want !== undefined && netnsInode(`/proc/${pid}/ns/net`) === want;
}

/** Our running dnsmasq: the pid in the pid file if that process is verifiably ours, else one found by its command line. */
export async function findRunning(cfg: DaemonConfig): Promise<number | undefined> {
  const text = await readIfExists(cfg.paths.pid);
  // Only a whole decimal number: "123abc" is not pid 123.
  const pid = text !== undefined && /^\s*[1-9][0-9]{0,9}\s*$/.test(text) ? Number(text.trim()) : NaN;
  if (isOurDnsmasq(pid, cfg)) return pid;
  // A pid file lost or overwritten (dnsmasq writes it as "nobody") must not
  // hide our dnsmasq: look for it by its command line, and check it the same way.
  return pidsWithArg(`--conf-file=${cfg.paths.config}`).find((p) => isOurDnsmasq(p, cfg));
}

export interface Started {
  child: SpawnedProcess;
  pid: number;
}

/**
 * Whether log line `line` says dnsmasq could not read one of our files. A
 * file of the hosts directory that dnsmasq reads on the inotify event of its
 * own removal is gone by then ("No such file or directory"): that is the
 * removal dnsmasq was told about, not a file it cannot read.
 */
export function isUnreadable(line: string, paths: { hosts: string; hostsDir: string; opts: string }): boolean {
  if (line.includes(`cannot read ${paths.hostsDir}/`) && line.endsWith(': No such file or directory')) return false;
  return line.includes(`cannot read ${paths.hosts}`) || line.includes(`cannot read ${paths.hostsDir}`) || line.includes(`cannot read ${paths.opts}`);
}

/** The log's lines written by process `pid` since `offset`. */
function linesOf(cfg: DaemonConfig, offset: number): string[] {
  return readFrom(cfg.paths.log, offset).split('\n');
}

/**
 * Waits until dnsmasq `pid` logs that it has read its options file (the last
 * file it reads, at start and on every SIGHUP) after log offset `offset`.
 * Fails at once if the process dies or cannot read a file.
 */
export async function waitLoaded(
  cfg: DaemonConfig,
  pid: number,
  offset: number,
  timeoutMs: number,
  what: string,
  exited: () => { code: number | null; signal: string | null } | undefined = () => (isAlive(pid) ? undefined : { code: null, signal: null }),
): Promise<void> {
  const { paths } = cfg;
  const done = `[${pid}]: read ${paths.opts}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const lines = linesOf(cfg, offset);
    if (lines.some((l) => l.includes(done))) return;
    const unreadable = lines.find((l) => isUnreadable(l, paths));
    if (unreadable) {
      throw new DhcpError(
        'EACCES',
        `dnsmasq (pid ${pid}) could not read its files while ${what}: it reads them as user "nobody" after dropping root, ` +
          `so ${paths.dir} and every directory above it must be searchable by others`,
        { pid, logTail: lastLines(lines.join('\n'), 10), log: paths.log },
      );
    }
    const exit = exited();
    if (exit) {
      const how = exit.signal ? `was killed by ${exit.signal}` : exit.code !== null ? `exited with code ${exit.code}${exitMeaning(exit.code)}` : 'exited';
      throw new DhcpError('EXITED', `dnsmasq (pid ${pid}) ${how} while ${what}; its log ${paths.log} ends with:`, {
        pid,
        exitCode: exit.code,
        signal: exit.signal,
        logTail: lastLines(readFrom(paths.log, offset), 10),
        log: paths.log,
      });
    }
    if (Date.now() >= until) {
      throw new DhcpError('ETIMEDOUT', `dnsmasq (pid ${pid}) did not report having read ${paths.opts} within ${timeoutMs} ms while ${what}`, {
        pid,
        logTail: lastLines(readFrom(paths.log, offset), 10),
        log: paths.log,
      });
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function rotateLog(log: string): void {
  try {
    const st = lstatSync(log);
    if (st.isFile() && st.size > LOG_ROTATE_BYTES) renameSync(log, `${log}.1`);
  } catch {
    // no log yet
  }
}

/** Log and lease files: root's and its group's only (0640), whatever the umask. */
export const PRIVATE_FILE_MODE = 0o640;

/**
 * Starts dnsmasq in the foreground (-k) as a child in its own session (so it
 * outlives this process and a terminal's ^C), stderr and stdout to the log file,
 * and waits until it has loaded its files (`onSpawn` is told its pid before
 * that wait). The child is unref'd: a CLI run
 * (`eucanet apply`) may exit and leave it serving; a later run attaches to it
 * through the pid file.
 */
export async function startDnsmasq(cfg: DaemonConfig, timeoutMs: number, onSpawn?: (pid: number) => void): Promise<Started> {
  const dnsmasq = resolveDnsmasq(cfg.dnsmasqPath);
  const args = ['--keep-in-foreground', `--conf-file=${cfg.paths.config}`];
  if (cfg.netnsPath !== undefined && netnsInode(cfg.netnsPath) === undefined) {
    throw new DhcpError('ENOENT', `network namespace ${cfg.netnsPath} does not exist: cannot start dnsmasq in it`);
  }
  rotateLog(cfg.paths.log);
  // dnsmasq opens its lease file with the umask it inherits: made here first, 0640.
  closeSync(openAppendNoFollow(cfg.paths.leases, PRIVATE_FILE_MODE));
  const fd = openAppendNoFollow(cfg.paths.log, PRIVATE_FILE_MODE);
  let child: SpawnedProcess;
  let offset: number;
  try {
    offset = fstatSync(fd).size;
    child = spawnInNetns(dnsmasq, args, {
      ...(cfg.netnsFd !== undefined ? { netns: cfg.netnsFd } : cfg.netnsPath !== undefined ? { netns: cfg.netnsPath } : {}),
      stdio: [undefined, fd, fd],
      // dnsmasq translates its messages; the readiness check reads them in English.
      env: { ...process.env, LANG: 'C', LC_ALL: 'C' },
    });
  } catch (err) {
    throw new DhcpError('EXITED', `could not start ${dnsmasq}: ${(err as Error).message}`);
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  onSpawn?.(pid);
  // Reaped at once when it has ended, so that its exit status is known; /proc's view for a kernel with no pidfd.
  const exited = () => (child.ended() || !isAlive(pid) ? { code: child.ended() ? child.exitCode : null, signal: child.signalCode } : undefined);
  try {
    await waitLoaded(cfg, pid, offset, timeoutMs, 'starting', exited);
  } catch (err) {
    if (!exited()) await stopPid(cfg, pid, 2000);
    throw err;
  }
  return { child, pid };
}

/** The log's current size: the offset to read a reload's lines from. */
export const logOffset = (cfg: DaemonConfig): number => fileSize(cfg.paths.log);

export interface Stopped {
  pid: number;
  /** SIGKILL only when dnsmasq ignored SIGTERM for the whole timeout. */
  signal: 'SIGTERM' | 'SIGKILL';
}

/**
 * SIGTERM, then waits up to `timeoutMs` for the process to go. dnsmasq exits
 * at once on SIGTERM; if it has not after the timeout it is wedged, and is
 * sent SIGKILL so that no stale server keeps answering. Removes the pid file.
 */
export async function stopPid(cfg: DaemonConfig, pid: number, timeoutMs: number): Promise<Stopped> {
  let signal: Stopped['signal'] = 'SIGTERM';
  const send = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  };
  send('SIGTERM');
  if (!(await waitGone(pid, timeoutMs))) {
    // Still ours? A pid is only signalled while it is verifiably our dnsmasq.
    if (!isOurDnsmasq(pid, cfg)) return { pid, signal };
    signal = 'SIGKILL';
    send('SIGKILL');
    if (!(await waitGone(pid, 2000))) throw new DhcpError('ETIMEDOUT', `dnsmasq (pid ${pid}) did not exit after SIGTERM and SIGKILL`, { pid });
  }
  if ((await readIfExists(cfg.paths.pid))?.trim() === String(pid)) await unlink(cfg.paths.pid).catch(() => undefined);
  return { pid, signal };
}
