// Field paths as people read them ("groups[1].rules[0].from", "nodes.nc1.underlay"),
// and the small value checks shared by the state checks.
import { ValidationError } from '../errors.js';

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Appends a property or index to a field path. */
export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENT.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

export const nodeField = (node: string, key?: string): string => (key === undefined ? join('nodes', node) : join(join('nodes', node), key));

/**
 * A Linux interface name (net/core/dev.c dev_valid_name): 1-15 bytes
 * (IFNAMSIZ - 1), not "." or "..", no "/", ":" or whitespace.
 */
export function checkIfName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError(field, value, 'expected an interface name like eth0');
  }
  const bytes = Buffer.byteLength(value);
  if (bytes > 15) {
    throw new ValidationError(field, value, `is ${bytes} bytes; Linux interface names are at most 15`);
  }
  if (value === '.' || value === '..' || /[/:\s]/.test(value)) {
    throw new ValidationError(field, value, 'not a valid Linux interface name (no "/", ":" or whitespace)');
  }
  return value;
}

export function checkPort(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ValidationError(field, value, `${value} is not a port 0-65535`);
  }
}

/** An ICMP type or code: 0-255, or -1 for any. */
export function checkIcmp(field: string, value: number): void {
  if (!Number.isInteger(value) || value < -1 || value > 255) {
    throw new ValidationError(field, value, 'must be 0-255, or -1 for any');
  }
}

export function checkVlanNumber(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 4094) {
    throw new ValidationError(field, value, 'is not a VLAN number 1-4094');
  }
}

/** Remembers the first field holding each value; throws on the second. */
export class Unique<T> {
  private readonly seen = new Map<T, string>();
  constructor(private readonly what: string) {}
  add(key: T, field: string, value: unknown): void {
    const first = this.seen.get(key);
    if (first !== undefined) throw new ValidationError(field, value, `duplicate ${this.what}: already used by ${first}`);
    this.seen.set(key, field);
  }
  has(key: T): boolean {
    return this.seen.has(key);
  }
  owner(key: T): string | undefined {
    return this.seen.get(key);
  }
}
