// DhcpServer: the cluster controller's DHCP service. It writes dnsmasq's files
// into a state directory, starts dnsmasq in the namespace, reloads it with
// SIGHUP as instances come and go, and finds it again from a later process.
//
// SIGHUP or restart. dnsmasq re-reads its hosts file and options file on SIGHUP,
// never its main configuration. So:
// - instances added, removed or changed, a router or DNS changed: the hosts and
//   options files are rewritten (atomically) and dnsmasq gets SIGHUP; its pid
//   does not change, and update() waits until dnsmasq logs that it has read them;
// - the main configuration changed (a network added or removed, its subnet,
//   interface or lease time changed, log-dhcp switched): dnsmasq is restarted
//   gracefully (SIGTERM, wait for exit, start). Its lease file persists, so
//   clients keep their addresses;
// - an address is given to a new MAC while the old MAC still holds a live
//   lease on it: dnsmasq refuses to take a lease back on SIGHUP ("not using
//   configured address ... because it is leased to ...") until it expires
//   (hours). Taking it back at run time needs a DHCPRELEASE sent from the
//   server's own interface (dnsmasq-utils' dhcp_release: a process per change)
//   or D-Bus; instead dnsmasq is restarted, with the stale leases pruned from
//   its lease file while it is down. With MACs derived from addresses (the
//   Eucalyptus default) a reused address comes back with the same MAC, so this
//   does not happen in the ordinary run/terminate cycle.
// Never kill -9 and restart as Eucalyptus did.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ValidationError } from '../netlink/errors.js';
import { findRunning, isOurDnsmasq, logOffset, startDnsmasq, stopPid, waitLoaded, type DaemonConfig, type Stopped } from './daemon.js';
import { DhcpError } from './errors.js';
import { lastLines, prepareDir, readFrom, readIfExists, writeFileAtomic } from './files.js';
import { leaseConflicts, parseLeases, pruneLeases } from './leases.js';
import { dnsmasqPaths, renderNormalized } from './render.js';
import type { DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import { normalizeNetworks } from './validate.js';

const NETNS_NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/;

export interface DhcpServerOptions {
  /** A namespace name (/run/netns/NAME) or a path to a namespace file. Default: the caller's namespace. */
  netns?: string;
  /** Default /run/eucanet/<netns name or "host">/dnsmasq; required when netns is a path. */
  stateDir?: string;
  /** dnsmasq log-dhcp: every transaction and its options in the log. */
  logDhcp?: boolean;
  /** Default /usr/sbin/dnsmasq (Debian package dnsmasq-base), else dnsmasq on PATH. */
  dnsmasqPath?: string;
  /** Default /usr/bin/nsenter (util-linux), else nsenter on PATH. */
  nsenterPath?: string;
  /** How long dnsmasq may take to start, or to reload after SIGHUP. Default 5000 ms. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5000 ms. */
  stopTimeoutMs?: number;
}

export type UpdateAction = 'start' | 'reload' | 'restart' | 'unchanged' | 'stopped';

export interface UpdateResult {
  action: UpdateAction;
  /** The serving dnsmasq's pid (absent after 'stopped'). */
  pid?: number;
  /** The pid before a restart or stop. */
  previousPid?: number;
  /** Why a restart was needed instead of SIGHUP. */
  reason?: string;
}

export interface ExitInfo {
  pid: number;
  code: number | null;
  signal: string | null;
  logTail: string[];
}

export interface DhcpStatus {
  running: boolean;
  pid?: number;
  /** True when this object started it (a child of this process). */
  supervised: boolean;
  netns?: string;
  paths: DnsmasqPaths;
  /** The last unexpected exit of a dnsmasq this object started. */
  lastExit?: ExitInfo;
}

export interface StopResult {
  stopped: boolean;
  pid?: number;
  signal?: Stopped['signal'];
}

function checkNetns(netns: string | undefined, stateDir: string | undefined): { netnsPath?: string; dir: string } {
  if (netns === undefined) return { dir: stateDir ?? '/run/eucanet/host/dnsmasq' };
  if (typeof netns !== 'string') throw new ValidationError('netns', netns, 'expected a namespace name or a path to a namespace file');
  if (netns.startsWith('/')) {
    if (stateDir === undefined) throw new ValidationError('stateDir', stateDir, `required when netns is a path (${netns})`);
    return { netnsPath: netns, dir: stateDir };
  }
  if (!NETNS_NAME_RE.test(netns) || netns === '.' || netns === '..') {
    throw new ValidationError('netns', netns, 'a namespace name is letters, digits, _ . - (1-200 characters), or give a path');
  }
  return { netnsPath: `/run/netns/${netns}`, dir: stateDir ?? `/run/eucanet/${netns}/dnsmasq` };
}

/**
 * Supervises one dnsmasq serving DHCP networks in one namespace.
 *
 * Emits 'exit' (ExitInfo) when a dnsmasq it started exits without being asked.
 */
export class DhcpServer extends EventEmitter {
  readonly netns?: string;
  readonly paths: DnsmasqPaths;
  private readonly cfg: DaemonConfig;
  private readonly logDhcp: boolean;
  private readonly readyTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private child?: ChildProcess;
  /** Pids we are stopping: their exit is expected. */
  private readonly stopping = new Set<number>();
  /** What the running dnsmasq (pid) has confirmed loading, in this process. */
  private loaded?: { pid: number; files: DnsmasqFiles };
  private lastExit?: ExitInfo;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: DhcpServerOptions = {}) {
    super();
    const { netnsPath, dir } = checkNetns(opts.netns, opts.stateDir);
    this.paths = dnsmasqPaths(dir);
    if (opts.netns !== undefined) this.netns = opts.netns;
    this.cfg = { paths: this.paths };
    if (netnsPath !== undefined) this.cfg.netnsPath = netnsPath;
    if (opts.dnsmasqPath !== undefined) this.cfg.dnsmasqPath = opts.dnsmasqPath;
    if (opts.nsenterPath !== undefined) this.cfg.nsenterPath = opts.nsenterPath;
    this.logDhcp = opts.logDhcp ?? false;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 5000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  }

  /** Runs one operation at a time, in call order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The pid of the running dnsmasq: our child, or the one in the pid file if it is verifiably ours. */
  private async runningPid(): Promise<number | undefined> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null && isOurDnsmasq(c.pid!, this.cfg)) return c.pid;
    return findRunning(this.cfg);
  }

  /**
   * Finds a dnsmasq already serving this state directory (started by an earlier
   * process) through its pid file, checking /proc/PID: it must be dnsmasq, with
   * our config file, in our namespace. Returns its pid, or undefined.
   */
  attach(): Promise<number | undefined> {
    return this.serial(() => this.runningPid());
  }

  async status(): Promise<DhcpStatus> {
    const pid = await this.runningPid();
    const s: DhcpStatus = { running: pid !== undefined, supervised: pid !== undefined && this.child?.pid === pid, paths: this.paths };
    if (pid !== undefined) s.pid = pid;
    if (this.netns !== undefined) s.netns = this.netns;
    if (this.lastExit) s.lastExit = this.lastExit;
    return s;
  }

  /** The last lines of dnsmasq's log. */
  logTail(lines = 20): string[] {
    return lastLines(readFrom(this.paths.log, 0), lines);
  }

  /** Same as update(): starts dnsmasq if none is running, else brings it to these networks. */
  start(networks: DhcpNetwork[]): Promise<UpdateResult> {
    return this.update(networks);
  }

  /**
   * Serves exactly these networks: starts dnsmasq if none is running (attaching
   * to one from an earlier process if there is), reloads it with SIGHUP, or
   * restarts it when SIGHUP cannot do (see the top of this file). No networks:
   * stops it. Bad input is refused (a rejected ValidationError) before any
   * file is written.
   */
  async update(networks: DhcpNetwork[]): Promise<UpdateResult> {
    const nets = normalizeNetworks(networks);
    const files = renderNormalized(nets, this.paths, { logDhcp: this.logDhcp });
    return this.serial(async () => {
      const bad = await prepareDir(this.paths.dir);
      if (bad !== undefined) {
        throw new DhcpError(
          'ESTATEDIR',
          `state directory ${this.paths.dir}: ${bad} is not searchable by others, and dnsmasq re-reads its hosts file as user "nobody"; chmod o+x ${bad} or choose another stateDir`,
        );
      }
      const pid = await this.runningPid();
      if (nets.length === 0) {
        const stopped = pid !== undefined ? await this.stopOne(pid) : undefined;
        await this.writeAll(files, nets);
        return stopped ? { action: 'stopped', previousPid: stopped.pid } : { action: 'unchanged' };
      }
      if (pid === undefined) return { action: 'start', pid: await this.startFresh(files, nets) };
      const reason = await this.restartReason(files, nets);
      if (reason !== undefined) {
        await this.stopOne(pid);
        return { action: 'restart', pid: await this.startFresh(files, nets), previousPid: pid, reason };
      }
      if (this.loaded?.pid === pid && this.loaded.files.hosts === files.hosts && this.loaded.files.opts === files.opts) {
        return { action: 'unchanged', pid };
      }
      await writeFileAtomic(this.paths.hosts, files.hosts);
      await writeFileAtomic(this.paths.opts, files.opts);
      const offset = logOffset(this.cfg);
      try {
        process.kill(pid, 'SIGHUP');
      } catch (err) {
        // Gone since we looked: start a new one.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        return { action: 'start', pid: await this.startFresh(files, nets), previousPid: pid };
      }
      await waitLoaded(this.cfg, pid, offset, this.readyTimeoutMs, 'reloading after SIGHUP');
      this.loaded = { pid, files };
      return { action: 'reload', pid };
    });
  }

  /** Stops the running dnsmasq (ours or attached): SIGTERM, then a bounded wait. */
  stop(): Promise<StopResult> {
    return this.serial(async () => {
      const pid = await this.runningPid();
      if (pid === undefined) return { stopped: false };
      const s = await this.stopOne(pid);
      return { stopped: true, pid: s.pid, signal: s.signal };
    });
  }

  /** Why SIGHUP cannot bring the running dnsmasq to `files`, or undefined if it can. */
  private async restartReason(files: DnsmasqFiles, nets: NormalizedNetwork[]): Promise<string | undefined> {
    // The config file on disk is the one the running dnsmasq read: it is only
    // written while no dnsmasq runs (startFresh).
    if ((await readIfExists(this.paths.config)) !== files.config) {
      return 'the main configuration changed (interfaces, ranges or lease times), and dnsmasq reads it only at start';
    }
    const conflicts = leaseConflicts(parseLeases((await readIfExists(this.paths.leases)) ?? ''), nets);
    if (conflicts.length) {
      const c = conflicts[0]!;
      return `${c.ip} is given to a new MAC but ${c.mac} still holds a lease on it, and dnsmasq does not take a lease back on SIGHUP`;
    }
    return undefined;
  }

  /** Writes every file, with only the leases that still match a host, and starts dnsmasq. No dnsmasq may be running. */
  private async startFresh(files: DnsmasqFiles, nets: NormalizedNetwork[]): Promise<number> {
    await this.writeAll(files, nets);
    const { child, pid } = await startDnsmasq(this.cfg, this.readyTimeoutMs);
    this.child = child;
    this.loaded = { pid, files };
    child.once('exit', (code, signal) => {
      if (this.stopping.delete(pid)) return;
      this.lastExit = { pid, code, signal, logTail: this.logTail(10) };
      this.emit('exit', this.lastExit);
    });
    return pid;
  }

  private async writeAll(files: DnsmasqFiles, nets: NormalizedNetwork[]): Promise<void> {
    await writeFileAtomic(this.paths.hosts, files.hosts);
    await writeFileAtomic(this.paths.opts, files.opts);
    await writeFileAtomic(this.paths.config, files.config);
    const leases = await readIfExists(this.paths.leases);
    if (leases !== undefined) {
      const kept = pruneLeases(leases, nets);
      if (kept !== leases) await writeFileAtomic(this.paths.leases, kept);
    }
  }

  private async stopOne(pid: number): Promise<Stopped> {
    this.stopping.add(pid);
    try {
      return await stopPid(this.cfg, pid, this.stopTimeoutMs);
    } finally {
      // The pid stays in `stopping` until the child's 'exit' (which may come
      // after stopPid saw a zombie as gone) takes it out.
      if (this.child?.pid === pid) this.child = undefined;
      if (this.loaded?.pid === pid) this.loaded = undefined;
    }
  }
}
