// --netns checked before a command does anything: a name under /run/netns or
// a path that is not a network namespace (missing, a FIFO, a device, another
// kind of namespace) is bad input, named as such; the addon's check opens it
// non-blocking, so nothing can hang on it.
import { ValidationError } from '../errors.js';
import { checkNetns } from '../sys/netns.js';

/** Throws a ValidationError naming --netns and its value when it is not a network namespace. */
export function checkNetnsOption(netns: string | undefined): void {
  if (netns === undefined) return;
  try {
    checkNetns(netns);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR' && e.code !== 'EINVAL') throw err;
    const reason = e.code === 'EINVAL' ? (e.message ?? '').replace(/^netns check: /, '') : `no such network namespace (${e.code})`;
    throw new ValidationError('--netns', netns, reason);
  }
}
