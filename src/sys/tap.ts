// Checks on the options of a persistent tun/tap device, before the addon is
// asked to make it (the addon checks the ids again, as a last line of defence).
import type { TapOptions } from '../native.js';
import { ValidationError } from '../errors.js';

/**
 * The largest uid/gid TUNSETOWNER / TUNSETGROUP take: ids are 32 bits and
 * (uid_t)-1 means "no id" (include/linux/uidgid.h, uid_valid). The ioctl's
 * argument is an unsigned long that the kernel cuts to 32 bits, so a larger
 * number would silently become another id (2^32+1000 would be uid 1000).
 */
export const MAX_TAP_ID = 0xfffffffe;

/** Throws ValidationError naming the field and the value if a tap option is malformed. */
export function validateTapOptions(o: TapOptions): void {
  for (const field of ['owner', 'ownerGroup'] as const) {
    const v = o[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_TAP_ID)) {
      throw new ValidationError(field, v, `must be an integer in 0-${MAX_TAP_ID} (a ${field === 'owner' ? 'uid' : 'gid'})`);
    }
  }
  for (const field of ['tun', 'vnetHdr', 'multiQueue'] as const) {
    const v = o[field];
    if (v !== undefined && typeof v !== 'boolean') throw new ValidationError(field, v, 'must be true or false');
  }
}
