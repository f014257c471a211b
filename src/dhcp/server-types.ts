// The DHCP server's options and results (server.ts).
import type { Stopped } from './daemon.js';
import type { DnsmasqPaths } from './types.js';

export interface DhcpServerOptions {
  /**
   * The namespace: a name (/run/netns/NAME), a path to a namespace file, or a
   * descriptor of this process (kept open by the caller while this object is
   * used). Default: the caller's namespace.
   */
  netns?: string | number;
  /** Default /run/eucanet/<netns name, "host", or "netns-<inode>">/dnsmasq (see target.ts). */
  stateDir?: string;
  /** dnsmasq log-dhcp: every transaction and its options in the log. */
  logDhcp?: boolean;
  /** Default /usr/sbin/dnsmasq (Debian package dnsmasq-base), else dnsmasq on PATH. */
  dnsmasqPath?: string;
  /**
   * No longer used, and accepted as before: dnsmasq is started inside the
   * namespace by the addon (src/sys/spawn.ts), not through nsenter.
   * @deprecated
   */
  nsenterPath?: string;
  /** How long dnsmasq may take to start, or to reload after SIGHUP. Default 5000 ms. */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. Default 5000 ms. */
  stopTimeoutMs?: number;
}

export interface UpdateOptions {
  /**
   * Called once a fresh dnsmasq has been spawned with its files written, before
   * update() waits for it to report them loaded (a caller can overlap that wait).
   */
  onSpawn?: (pid: number) => void;
}

/** 'hosts': hosts only added, written to the hosts directory dnsmasq reads without SIGHUP (updateHosts). */
export type UpdateAction = 'start' | 'reload' | 'restart' | 'unchanged' | 'stopped' | 'hosts';

export interface UpdateResult {
  action: UpdateAction;
  /** The serving dnsmasq's pid (absent after 'stopped'). */
  pid?: number;
  /** The pid before a restart or stop. */
  previousPid?: number;
  /** Why a restart was needed instead of SIGHUP. */
  reason?: string;
  /** 'hosts': the hosts added and removed. */
  added?: number;
  removed?: number;
  /**
   * 'hosts': what runs after (the hosts file and marker rewritten; a reload
   * when hosts were removed). Never rejects: resolves with its error, if any.
   */
  background?: Promise<Error | undefined>;
}

/** What update() would do, decided from the files on disk and the running dnsmasq. */
export type PlannedAction = 'start' | 'reload' | 'restart' | 'unchanged' | 'stop' | 'hosts';

export interface DhcpFileChange {
  path: string;
  change: 'create' | 'update' | 'unchanged';
}

export interface DhcpPlan {
  action: PlannedAction;
  /** The running dnsmasq, if any. */
  pid?: number;
  /** Why a restart instead of SIGHUP. */
  reason?: string;
  stateDir: string;
  /** The files eucanet would write and how each changes. */
  files: DhcpFileChange[];
  networks: number;
  hosts: number;
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
  netns?: string | number;
  paths: DnsmasqPaths;
  /** The last unexpected exit of a dnsmasq this object started. */
  lastExit?: ExitInfo;
}

export interface StopResult {
  stopped: boolean;
  pid?: number;
  signal?: Stopped['signal'];
}
