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
// - instances only added (the agent's incremental sync, updateHosts): one file
//   each in the hosts directory, which dnsmasq reads at once without SIGHUP
//   (hosts-dir.ts); removals are reloaded after, off the caller's path, with
//   only the changed hosts checked again (after-hosts.ts).
// Never kill -9 and restart as Eucalyptus did.
import { EventEmitter } from 'node:events';
import { mkdir, unlink } from '../util/fs-async.js';
import { findRunning, isOurDnsmasq, logOffset, PRIVATE_FILE_MODE, startDnsmasq, stopPid, waitLoaded, type DaemonConfig, type Stopped } from './daemon.js';
import { DhcpError, DhcpValidationError } from './errors.js';
import { afterHosts, dropIndex } from './after-hosts.js';
import { nextChange, serialOn } from './dir-queue.js';
import { lastLines, ownedRoot, plantedLinks, prepareDir, readFrom, readIfExists, writeStateFile as writeFile } from './files.js';
import { pruneLeases } from './leases.js';
import { clearHostFiles, hostsDirReady, leaseTaken, needsReload, readSmall, writeHostFiles, type HostChange } from './hosts-dir.js';
import { decide, markLoaded } from './loaded.js';
import { dnsmasqPaths, renderNormalized } from './render.js';
import { fileChanges, planChecks, stateFiles } from './plan.js';
import { resolveTarget } from './target.js';
import type { DhcpPlan, DhcpServerOptions, DhcpStatus, ExitInfo, StopResult, UpdateOptions, UpdateResult } from './server-types.js';
import type { DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import type { SpawnedProcess } from '../sys/spawn.js';
export type { HostChange } from './hosts-dir.js';
import { normalizeNetworks } from './validate.js';

export type {
  DhcpFileChange,
  DhcpPlan,
  DhcpServerOptions,
  DhcpStatus,
  ExitInfo,
  PlannedAction,
  StopResult,
  UpdateAction,
  UpdateOptions,
  UpdateResult,
} from './server-types.js';

/** How long after updateHosts what follows it starts. */
const AFTER_MS = 50;

/**
 * Supervises one dnsmasq serving DHCP networks in one namespace.
 *
 * Emits 'exit' (ExitInfo) when a dnsmasq it started exits without being asked.
 */
export class DhcpServer extends EventEmitter {
  readonly netns?: string | number;
  readonly paths: DnsmasqPaths;
  private readonly cfg: DaemonConfig;
  private readonly logDhcp: boolean;
  private readonly readyTimeoutMs: number;
  private readonly stopTimeoutMs: number;
  private child?: SpawnedProcess;
  /** Pids we are stopping: their exit is expected. */
  private readonly stopping = new Set<number>();
  private lastExit?: ExitInfo;
  /** The networks plan() last normalised and what it made of them: update() of the same array does not normalise again. */
  private planned?: { input: readonly DhcpNetwork[]; nets: NormalizedNetwork[]; files?: DnsmasqFiles };

  constructor(opts: DhcpServerOptions = {}) {
    super();
    const t = resolveTarget(opts.netns, opts.stateDir);
    this.paths = dnsmasqPaths(t.dir);
    if (opts.netns !== undefined) this.netns = opts.netns;
    this.cfg = { paths: this.paths };
    if (t.netnsPath !== undefined) this.cfg.netnsPath = t.netnsPath;
    if (t.netnsFd !== undefined) this.cfg.netnsFd = t.netnsFd;
    if (opts.dnsmasqPath !== undefined) this.cfg.dnsmasqPath = opts.dnsmasqPath;
    this.logDhcp = opts.logDhcp ?? false;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 5000;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  }

  /** Runs one operation on this state directory at a time, in call order (across DhcpServer objects). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return serialOn(this.paths.dir, fn);
  }

  /** The pid of the running dnsmasq: our child, or the one in the pid file if it is verifiably ours. */
  private async runningPid(): Promise<number | undefined> {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null && c.pid !== undefined && isOurDnsmasq(c.pid, this.cfg)) return c.pid;
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
   * What update(networks) would do, changing nothing. Checks everything update
   * needs first (the networks, the namespace, the state directory, dnsmasq
   * itself) and throws one DhcpValidationError naming every problem.
   */
  async plan(networks: DhcpNetwork[]): Promise<DhcpPlan> {
    const { nets, problems } = await planChecks(networks, this.cfg, this.netns);
    if (problems.length) throw new DhcpValidationError(problems);
    const files = renderNormalized(nets, this.paths, { logDhcp: this.logDhcp });
    // update() of the same networks (this array) is not normalised nor rendered again.
    this.planned = { input: networks, nets, files };
    const pid = await this.runningPid();
    const d = await decide(this.paths, files, nets, pid);
    const out: DhcpPlan = {
      action: d.action,
      stateDir: this.paths.dir,
      files: await fileChanges(this.paths, files),
      networks: nets.length,
      hosts: nets.reduce((n, x) => n + x.hosts.length, 0),
    };
    if (pid !== undefined) out.pid = pid;
    if (d.action === 'restart') out.reason = d.reason;
    return out;
  }

  /**
   * Serves exactly these networks: starts dnsmasq if none is running (attaching
   * to one from an earlier process if there is), reloads it with SIGHUP, or
   * restarts it when SIGHUP cannot do (see the top of this file). No networks:
   * stops it. Bad input is refused (a rejected ValidationError) before any
   * file is written. Whether anything changed is judged from the files on disk
   * and the running dnsmasq, not from this object's memory: a later process
   * with the same networks finds nothing to do.
   */
  async update(networks: DhcpNetwork[], opts: UpdateOptions = {}): Promise<UpdateResult> {
    // The array plan() was given (not changed since: callers hand it on as it is) is normalised already.
    const planned = this.planned?.input === networks ? this.planned : undefined;
    this.planned = undefined;
    const nets = planned ? planned.nets : normalizeNetworks(networks);
    const files = planned?.files ?? renderNormalized(nets, this.paths, { logDhcp: this.logDhcp });
    return this.serial(() => this.bring(nets, files, opts));
  }

  /** update()'s work, in the directory's queue. */
  private async bring(nets: NormalizedNetwork[], files: DnsmasqFiles, opts: UpdateOptions): Promise<UpdateResult> {
    dropIndex(this.paths.dir);
    const bad = await prepareDir(this.paths.dir, ownedRoot(this.paths.dir), true);
    if (bad !== undefined) throw new DhcpError('ESTATEDIR', `state directory ${this.paths.dir}: ${bad}`);
    const links = await plantedLinks(stateFiles(this.paths));
    if (links.length)
      throw new DhcpError('ESTATEDIR', `state directory ${this.paths.dir}: ${links.join(', ')} is a symbolic link: eucanet does not follow links there`);
    const pid = await this.runningPid();
    const d = await decide(this.paths, files, nets, pid);
    switch (d.action) {
      case 'stop':
        await this.stopOne(d.pid);
        await this.writeAll(files, nets);
        return { action: 'stopped', previousPid: d.pid };
      case 'start':
        return { action: 'start', pid: await this.startFresh(files, nets, opts.onSpawn) };
      case 'restart':
        await this.stopOne(d.pid);
        return { action: 'restart', pid: await this.startFresh(files, nets), previousPid: d.pid, reason: d.reason };
      case 'reload':
        return this.reload(files, nets, d.pid);
      case 'unchanged':
        break;
    }
    if (nets.length === 0) await this.writeAll(files, nets);
    return pid !== undefined ? { action: 'unchanged', pid } : { action: 'unchanged' };
  }

  /**
   * Brings a running dnsmasq from the hosts of the last update to `networks`
   * when only hosts changed (`change`: the caller's difference of the two;
   * the networks themselves, their interfaces, subnets, routers and DNS, must
   * be the same). Added hosts are written to the hosts directory, which
   * dnsmasq reads at once without SIGHUP: when this resolves, every added host
   * is in a file dnsmasq reads. What follows runs in the background
   * (`background`, which never rejects: it resolves with its error): the
   * hosts file and the loaded marker rewritten to `networks`, and when hosts
   * were removed, a reload (update()) so that dnsmasq forgets them.
   * Whatever the directory cannot do is an update() awaited here: no dnsmasq
   * running or none confirmed loading our files, an added host taking a
   * removed one's address, MAC or name, or a live lease on an added address.
   */
  async updateHosts(networks: DhcpNetwork[], change: HostChange): Promise<UpdateResult> {
    const pid = await this.serial(async () => {
      // Blocking reads and writes of a few small files (hosts-dir.ts).
      const text = readSmall(this.paths.pid);
      const fromFile = text !== undefined && /^\s*[1-9][0-9]{0,9}\s*$/.test(text) ? Number(text) : NaN;
      const pid = isOurDnsmasq(fromFile, this.cfg) ? fromFile : await this.runningPid();
      if (pid === undefined || needsReload(change) || leaseTaken(this.paths.leases, change.add)) return undefined;
      if (readSmall(this.paths.loaded)?.split(' ')[0] !== String(pid)) return undefined;
      hostsDirReady(this.paths.hostsDir);
      writeHostFiles(this.paths.hostsDir, change);
      return pid;
    });
    if (pid === undefined) return this.update(networks);
    const background: Promise<Error | undefined> = this.later(networks, pid, change).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    );
    return { action: 'hosts', pid, added: change.add.length, removed: change.del.length, background };
  }

  /**
   * What follows updateHosts (after-hosts.ts), queued at once (so that it runs
   * before any later change of the directory) but started a little later (its
   * rendering of every host is not on the caller's path).
   */
  private later(networks: DhcpNetwork[], pid: number, change: HostChange): Promise<unknown> {
    const last = nextChange(this.paths.dir);
    return this.serial(async () => {
      await new Promise((r) => setTimeout(r, AFTER_MS));
      const site = {
        paths: this.paths,
        logDhcp: this.logDhcp,
        runningPid: () => this.runningPid(),
        bring: (nets: NormalizedNetwork[], files: DnsmasqFiles) => this.bring(nets, files, {}),
        reload: (files: DnsmasqFiles, nets: NormalizedNetwork[], p: number, opts: boolean) => this.reload(files, nets, p, opts),
      };
      return afterHosts(site, networks, pid, change, last());
    });
  }

  private async hostsDirReady(): Promise<void> {
    await mkdir(this.paths.hostsDir, { mode: 0o755 }).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
    const links = await plantedLinks([this.paths.hostsDir]);
    if (links.length)
      throw new DhcpError('ESTATEDIR', `state directory ${this.paths.dir}: ${links[0]} is a symbolic link: eucanet does not follow links there`);
  }

  /** Stops the running dnsmasq (ours or attached): SIGTERM, then a bounded wait. */
  stop(): Promise<StopResult> {
    return this.serial(async () => {
      dropIndex(this.paths.dir);
      const pid = await this.runningPid();
      if (pid === undefined) return { stopped: false };
      const s = await this.stopOne(pid);
      return { stopped: true, pid: s.pid, signal: s.signal };
    });
  }

  /** The files written (the options file unless `opts` is false: the caller knows it unchanged), then SIGHUP and its confirmation awaited. */
  private async reload(files: DnsmasqFiles, nets: NormalizedNetwork[], pid: number, opts = true): Promise<UpdateResult> {
    await writeFile(this.paths.hosts, files.hosts);
    if (opts) await writeFile(this.paths.opts, files.opts);
    // The hosts file holds every host now; a file left in the directory would bring a removed one back.
    await this.hostsDirReady();
    await clearHostFiles(this.paths.hostsDir);
    const offset = logOffset(this.cfg);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (err) {
      // Gone since we looked: start a new one.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      return { action: 'start', pid: await this.startFresh(files, nets), previousPid: pid };
    }
    await waitLoaded(this.cfg, pid, offset, this.readyTimeoutMs, 'reloading after SIGHUP');
    await markLoaded(this.paths, files, pid);
    return { action: 'reload', pid };
  }

  /** Writes every file, with only the leases that still match a host, and starts dnsmasq. No dnsmasq may be running. */
  private async startFresh(files: DnsmasqFiles, nets: NormalizedNetwork[], onSpawn?: (pid: number) => void): Promise<number> {
    await this.writeAll(files, nets);
    const { child, pid } = await startDnsmasq(this.cfg, this.readyTimeoutMs, onSpawn);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping.delete(pid)) return;
      this.lastExit = { pid, code, signal, logTail: this.logTail(10) };
      this.emit('exit', this.lastExit);
    });
    await markLoaded(this.paths, files, pid);
    return pid;
  }

  private async writeAll(files: DnsmasqFiles, nets: NormalizedNetwork[]): Promise<void> {
    await writeFile(this.paths.hosts, files.hosts);
    await writeFile(this.paths.opts, files.opts);
    await writeFile(this.paths.config, files.config);
    await this.hostsDirReady();
    await clearHostFiles(this.paths.hostsDir);
    const leases = await readIfExists(this.paths.leases);
    if (leases !== undefined) {
      const kept = pruneLeases(leases, nets);
      if (kept !== leases) await writeFile(this.paths.leases, kept, PRIVATE_FILE_MODE);
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
      await unlink(this.paths.loaded).catch(() => undefined);
    }
  }
}
