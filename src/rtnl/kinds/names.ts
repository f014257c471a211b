// Link name rules, as the kernel's dev_valid_name() applies them.
import { ValidationError } from '../../errors.js';
import { IFNAMSIZ } from '../constants.js';

export function validateLinkName(field: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError(field, name, 'a link name must be a non-empty string');
  }
  const bytes = Buffer.byteLength(name);
  if (bytes >= IFNAMSIZ) {
    throw new ValidationError(field, name, `a link name is at most ${IFNAMSIZ - 1} bytes (this one is ${bytes})`);
  }
  if (name === '.' || name === '..' || /[\s/:]/.test(name)) {
    throw new ValidationError(field, name, "a link name cannot be '.' or '..' or contain '/', ':' or whitespace");
  }
}
