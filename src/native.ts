// Loads the N-API addon and gives its errors a `code` and the JavaScript call
// site. This is the only file that touches the addon directly.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** A netlink socket bound at creation to one network namespace (native/netlink_socket.h). */
export interface NativeSocket {
  readonly fd: number;
  readonly port: number;
  exchange(buf: Buffer, chunkEnds: Uint32Array, expects: Uint32Array, dump: boolean): Promise<Buffer>;
  exchangeSync(buf: Buffer, chunkEnds: Uint32Array, expects: Uint32Array, dump: boolean): Buffer;
  /** Each name's ifindex in the socket's namespace (SIOCGIFINDEX on the socket), 0 for a name no link has. */
  ifindexes(names: readonly string[]): Int32Array;
  close(): void;
}

/**
 * A netlink socket subscribed to multicast groups (native/netlink_subscription.h).
 * `onData(buf, lost, error)` is called once per drain of the socket on the main
 * loop: `buf` holds whole messages in arrival order (or null), `lost` says the
 * kernel dropped notifications (ENOBUFS) after them, `error` (rare) that the
 * socket failed and was closed.
 */
export interface NativeSubscription {
  readonly fd: number;
  readonly port: number;
  close(): void;
  ref(): void;
  unref(): void;
  pause(): void;
  resume(): void;
  /** Reads what is queued now and delivers it through onData before returning (paused or not). */
  drain(): void;
}

export type SubscriptionCallback = (buf: Buffer | null, lost: boolean, error?: Error) => void;

export interface TapOptions {
  tun?: boolean;
  vnetHdr?: boolean;
  multiQueue?: boolean;
  /** uid allowed to attach to the device. */
  owner?: number;
  /** gid allowed to attach to the device. */
  ownerGroup?: number;
}

/** A namespace as the addon takes it: a file path, an open fd, or null for the caller's own. */
export type NativeNetns = string | number | null;

export interface Addon {
  NetlinkSocket: new (protocol: number, netns: NativeNetns) => NativeSocket;
  NetlinkSubscription: new (protocol: number, netns: NativeNetns, groups: number[], rcvbuf: number, onData: SubscriptionCallback) => NativeSubscription;
  openInNetns(netns: NativeNetns, path: string, flags: number, mode?: number): number;
  netnsCreate(name: string): string;
  netnsDelete(name: string): void;
  /** Throws unless `netns` is a network namespace file or fd (nsfs, CLONE_NEWNET); never blocks. */
  netnsCheck(netns: NativeNetns): void;
  /** Creates the taps, all or none; resolves to their ifindexes, in order. */
  tapCreate(netns: NativeNetns, names: string[], opts: TapOptions, sync: boolean): Promise<Int32Array> | Int32Array;
  tapDelete(netns: NativeNetns, names: string[], opts: TapOptions, sync: boolean): Promise<void> | undefined;
  /**
   * Starts `file` in `netns` (null: this one) by posix_spawn, not fork: in its
   * own session, signals at their defaults, fd 0-2 from `stdio` (-1:
   * /dev/null), no other descriptor. pidfd is -1 on a kernel without pidfd_open.
   */
  spawnInNetns(netns: NativeNetns, file: string, argv: string[], envp: string[], stdio: [number, number, number], cwd: string): { pid: number; pidfd: number };
  /** Calls onExit once the process of `pidfd` ends (reaped; signal 0 unless killed); never keeps the event loop alive. check() reaps it now if it has ended. */
  ExitWatch: new (pidfd: number, onExit: (code: number | null, signal: number) => void) => { close(): void; check(): void };
  /** The regular file open as `fd`, mapped privately (native/cold_start.cc): a Latin-1 string, or an ArrayBuffer; unmapped when collected. */
  mapFile(fd: number, latin1: true): string;
  mapFile(fd: number, latin1: false): ArrayBuffer;
  /** V8's flags from a string, as node:v8's setFlagsFromString (the launcher's, src/cli/cold-start.ts). */
  setV8Flags(flags: string): void;
  /** The reply buffers kept for reuse once JavaScript let go of them (native/gather_buffer.h): how many, and their room. */
  replyPool(): { buffers: number; bytes: number };
}

/** The package's root: the addon is in build/Release or prebuilds/<platform>-<arch> under it. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What to do when there is no addon, said once for every way that can happen. */
export const ADDON_REMEDY = 'install make, g++ and python3 and run `npm rebuild eucanet`, or use a package with prebuilds';

/** The addon cannot be loaded: there is no build for this platform, or the one found is unusable. */
export class AddonMissingError extends Error {
  readonly code = 'ERR_EUCANET_ADDON';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AddonMissingError';
  }
}

let loaded: Addon | undefined;

/**
 * Loads the addon on first use, so that the pure parts of the package (the
 * model, validation, allocation, planning, rendering) import without it.
 */
function loadAddon(): Addon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const finder = require('node-gyp-build') as { path(dir: string): string };
  let file: string;
  try {
    file = finder.path(root);
  } catch (err) {
    const where = `${process.platform}-${process.arch}`;
    throw new AddonMissingError(
      `the eucanet native addon is not built (no build/Release/eucanet.node, no prebuilds/${where}/ in ${root}): ${ADDON_REMEDY}`,
      err,
    );
  }
  try {
    loaded = require(file) as Addon;
  } catch (err) {
    const why = String((err as Error)?.message ?? err).split('\n')[0];
    throw new AddonMissingError(`the eucanet native addon ${file} does not load (${why}): ${ADDON_REMEDY}`, err);
  }
  return loaded;
}

/**
 * The addon's exports, loaded when one is first used: `addon.tapCreate(...)`
 * and `new addon.NetlinkSocket(...)` work as on the module itself, and throw
 * an AddonMissingError naming what to install when there is no build.
 */
export const addon: Addon = new Proxy({} as Addon, {
  get: (_target, prop) => Reflect.get(loadAddon(), prop) as unknown,
  has: (_target, prop) => Reflect.has(loadAddon(), prop),
});

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}
// Where Linux gives one number two names, use the one netlink users know.
for (const name of ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'] as const) {
  const value = osConstants.errno[name];
  if (value !== undefined) errnoNames.set(value, name);
}
/**
 * ERESTART (include/uapi/asm-generic/errno.h), which Node leaves unnamed:
 * nftables' "the ruleset generation changed" (NFNL_BATCH_GENID).
 */
export const ERESTART = 85;
if (!errnoNames.has(ERESTART)) errnoNames.set(ERESTART, 'ERESTART');

/** errno numbers by name (Node's table, with ERESTART): no hard-coded numbers elsewhere. */
export const ERRNO: Readonly<Record<string, number>> = { ...osConstants.errno, ERESTART };

/** 'EEXIST' for 17, and so on; 'E<n>' for numbers Node does not name. */
export function errnoCode(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/**
 * What a permission error (EPERM, EACCES) from the kernel means is missing,
 * from the call that failed: entering or making a namespace needs
 * CAP_SYS_ADMIN, a file needs access to it, anything else (netlink requests,
 * tun/tap ioctls) CAP_NET_ADMIN. Undefined for any other errno.
 */
export function permissionHint(errno: number, syscall = ''): string | undefined {
  const code = errnoCode(errno);
  if (code !== 'EPERM' && code !== 'EACCES') return undefined;
  if (/^(setns|unshare|mount|umount)/.test(syscall)) return 'needs root or CAP_SYS_ADMIN';
  if (/^(open|mkdir|unlink|netns )/.test(syscall)) return 'needs root or access to the file';
  return 'needs root or CAP_NET_ADMIN';
}

/** An error from a system call made by the addon. */
export class SystemCallError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(message: string, errno: number, syscall: string) {
    super(message);
    this.name = 'SystemCallError';
    this.errno = errno;
    this.code = errnoCode(errno);
    this.syscall = syscall;
  }
}

/**
 * Turns an addon error into a SystemCallError whose stack is the JavaScript
 * call site `site` (captured before an async call, since a worker thread has
 * no JavaScript stack).
 */
export function nativeError(err: unknown, what: string, site?: Error): Error {
  const e = err as { errno?: number; syscall?: string; message?: string; index?: number; device?: string };
  if (typeof e?.errno !== 'number') return err as Error;
  // Node's own fs errors (a sysctl write) carry libuv's negated errno.
  const errno = Math.abs(e.errno);
  const subject = e.device ? `${what} ${e.device}` : what;
  const hint = permissionHint(errno, e.syscall);
  const code = hint ? `${errnoCode(errno)}; ${hint}` : errnoCode(errno);
  const out = new SystemCallError(`${subject}: ${e.message} (${code})`, errno, e.syscall ?? what);
  if (typeof e.index === 'number') Object.assign(out, { index: e.index, device: e.device });
  if (site?.stack) out.stack = `${out.name}: ${out.message}\n${site.stack.split('\n').slice(1).join('\n')}`;
  return out;
}
