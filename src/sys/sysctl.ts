// Reading and writing /proc/sys settings, inside a namespace, without forking
// sysctl(8). /proc/sys/net files belong to the namespace they were opened in,
// so the file is opened there (by the addon) and read or written here.
import { closeSync, constants as fsc, readFileSync, writeSync } from 'node:fs';
import { addon, nativeError } from '../native.js';
import { ValidationError } from '../errors.js';
import { netnsTarget, type Netns } from './netns-path.js';

/** "net.ipv4.ip_forward" or "net/ipv4/conf/eth0.10/forwarding" to its /proc/sys path. */
export function sysctlPath(key: string): string {
  if (typeof key !== 'string' || !/^[A-Za-z0-9_.\-/]+$/.test(key) || key.split(/[./]/).includes('')) {
    throw new ValidationError('sysctl key', key, 'expected a key like net.ipv4.ip_forward');
  }
  const rel = key.includes('/') ? key : key.replace(/\./g, '/');
  if (rel.split('/').some((p) => p === '..' || p === '.')) throw new ValidationError('sysctl key', key, "'.' and '..' are not allowed");
  return `/proc/sys/${rel}`;
}

function openAt(netns: Netns, path: string, flags: number): number {
  try {
    return addon.openInNetns(netnsTarget(netns), path, flags);
  } catch (err) {
    throw nativeError(err, `sysctl ${path}`);
  }
}

export function readSysctl(netns: Netns, key: string): string {
  const fd = openAt(netns, sysctlPath(key), fsc.O_RDONLY);
  try {
    return readFileSync(fd, 'utf8').trim();
  } finally {
    closeSync(fd);
  }
}

export function writeSysctl(netns: Netns, key: string, value: string | number): void {
  const text = String(value);
  if (/[\n\0]/.test(text)) throw new ValidationError('sysctl value', value, 'must be one line');
  const path = sysctlPath(key);
  const fd = openAt(netns, path, fsc.O_WRONLY);
  try {
    writeSync(fd, `${text}\n`);
  } catch (err) {
    throw nativeError(err, `sysctl write ${path}`);
  } finally {
    closeSync(fd);
  }
}
