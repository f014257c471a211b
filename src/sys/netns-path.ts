// Namespace names and the files they stand for: the one place that knows that
// a named network namespace is the file /run/netns/NAME (as `ip netns` makes
// it), and how a name, a path and an fd are told apart.
import type { NativeNetns } from '../native.js';

/** A namespace name (/run/netns/NAME), a path to a namespace file, an open fd, or undefined for the caller's own. */
export type Netns = string | number | undefined;

/** Where named network namespaces are bind-mounted (iproute2's NETNS_RUN_DIR). */
export const NETNS_DIR = '/run/netns';

/** The file of the namespace named `name`. */
export const namedNetnsPath = (name: string): string => `${NETNS_DIR}/${name}`;

/** A name or a path, as a path: a string with a slash is already one. */
export const netnsPath = (ns: string): string => (ns.includes('/') ? ns : namedNetnsPath(ns));

/** The name in a /run/netns/NAME path, or undefined for any other path. */
export function netnsNameOf(path: string): string | undefined {
  const prefix = `${NETNS_DIR}/`;
  if (!path.startsWith(prefix)) return undefined;
  const name = path.slice(prefix.length);
  return name && !name.includes('/') ? name : undefined;
}

/** The namespace as the addon takes it: names become their path; paths and fds pass through; undefined is null. */
export function netnsTarget(netns: Netns): NativeNetns {
  if (netns === undefined) return null;
  if (typeof netns === 'number') return netns;
  return netnsPath(netns);
}
