// Named network namespaces under /run/netns, made and removed without `ip`.
import { existsSync, readdirSync } from 'node:fs';
import { addon, nativeError } from '../native.js';
import { ValidationError } from '../errors.js';
import { namedNetnsPath, NETNS_DIR, netnsTarget, type Netns } from './netns-path.js';

const NAME_RE = /^[A-Za-z0-9_.-]{1,200}$/;

function check(name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name === '.' || name === '..') {
    throw new ValidationError('netns', name, 'a namespace name is letters, digits, _ . - (1-200 characters)');
  }
}

/** Creates /run/netns/NAME with a new, empty network namespace (as `ip netns add`). */
export function createNetns(name: string): void {
  check(name);
  try {
    addon.netnsCreate(name);
  } catch (err) {
    throw nativeError(err, `netns create ${name}`, new Error());
  }
}

/** Removes /run/netns/NAME (as `ip netns delete`). */
export function deleteNetns(name: string): void {
  check(name);
  try {
    addon.netnsDelete(name);
  } catch (err) {
    throw nativeError(err, `netns delete ${name}`, new Error());
  }
}

/**
 * Throws a SystemCallError (EINVAL naming the path and what it is instead,
 * ENOENT...) unless `netns` (a name, a path or an fd) is a network namespace
 * the library could enter. Never blocks and never enters it: for callers that
 * hand the namespace to something else (nsenter) and want the same check.
 */
export function checkNetns(netns: Netns): void {
  try {
    addon.netnsCheck(netnsTarget(netns));
  } catch (err) {
    throw nativeError(err, 'netns check', new Error());
  }
}

export function netnsExists(name: string): boolean {
  check(name);
  return existsSync(namedNetnsPath(name));
}

export function listNetns(): string[] {
  try {
    return readdirSync(NETNS_DIR).sort();
  } catch {
    return [];
  }
}
