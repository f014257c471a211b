// Where a DhcpServer runs dnsmasq: the network namespace (a name under
// /run/netns, a path to a namespace file, or a file descriptor of this
// process) and the state directory that goes with it.
import { statfsSync } from 'node:fs';
import { ValidationError } from '../errors.js';
import { namedNetnsPath, netnsNameOf } from '../sys/netns-path.js';
import { RUN_BASE } from './files.js';
import { netnsInode } from './proc.js';

const NETNS_NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/;
/** statfs(2) f_type of a namespace file (/usr/include/linux/magic.h). */
const NSFS_MAGIC = 0x6e736673;

export interface DhcpTarget {
  /** The namespace file, readable by this process ("/proc/self/fd/N" for a descriptor); none: the caller's namespace. */
  netnsPath?: string;
  /** The namespace as a descriptor of this process. */
  netnsFd?: number;
  /** The state directory. */
  dir: string;
}

const isName = (s: string): boolean => NETNS_NAME_RE.test(s) && s !== '.' && s !== '..';

/** The state directory of a namespace known only by its file: named after the namespace's inode, the same for every path or descriptor to it. */
function byInode(field: unknown, path: string): string {
  const ino = netnsInode(path);
  if (ino === undefined) throw new ValidationError('netns', field, `no such namespace file (${path})`);
  return `${RUN_BASE}/netns-${ino}/dnsmasq`;
}

/**
 * Resolves `netns` and the state directory. Default state directories:
 * /run/eucanet/NAME/dnsmasq for a name (or /run/netns/NAME), /run/eucanet/host/dnsmasq
 * for the caller's namespace, /run/eucanet/netns-INODE/dnsmasq for any other
 * path or a descriptor.
 */
export function resolveTarget(netns: unknown, stateDir: string | undefined): DhcpTarget {
  const dir = (d: string) => stateDir ?? d;
  if (netns === undefined) return { dir: dir(`${RUN_BASE}/host/dnsmasq`) };
  if (typeof netns === 'number') {
    if (!Number.isInteger(netns) || netns < 0 || netns > 0x7fffffff) {
      throw new ValidationError('netns', netns, 'a namespace descriptor is a non-negative integer');
    }
    const netnsPath = `/proc/self/fd/${netns}`;
    return { netnsPath, netnsFd: netns, dir: stateDir ?? byInode(netns, netnsPath) };
  }
  if (typeof netns !== 'string') throw new ValidationError('netns', netns, 'expected a namespace name, a path to a namespace file or a descriptor');
  const named = netnsNameOf(netns);
  if (named !== undefined && isName(named)) return { netnsPath: netns, dir: dir(`${RUN_BASE}/${named}/dnsmasq`) };
  if (netns.startsWith('/')) return { netnsPath: netns, dir: stateDir ?? byInode(netns, netns) };
  if (!isName(netns)) {
    throw new ValidationError('netns', netns, 'a namespace name is letters, digits, _ . - (1-200 characters), or give a path');
  }
  return { netnsPath: namedNetnsPath(netns), dir: dir(`${RUN_BASE}/${netns}/dnsmasq`) };
}

/** Why dnsmasq cannot be started in this namespace (missing, or not a namespace file), or undefined. Never opens the file: a FIFO cannot hang it. */
export function netnsProblem(t: DhcpTarget): string | undefined {
  if (t.netnsPath === undefined) return undefined;
  let type: number;
  try {
    type = statfsSync(t.netnsPath).type;
  } catch (err) {
    return `${t.netnsPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}: no such network namespace`;
  }
  return type === NSFS_MAGIC ? undefined : `${t.netnsPath} is not a namespace file (nsfs)`;
}
