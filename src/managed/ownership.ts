// Roles own what they make: a role's apply or down acts on its own objects
// only (tx/owner.ts does the scoping). An apply in a namespace that holds the
// other role's objects is refused, rather than planned around or over them,
// unless forced; objects an older eucanet made (no role in their mark) are
// adopted by the role that wants them and otherwise left, and reported.
import { ValidationError } from '../errors.js';
import type { Foreign } from '../tx/owner.js';
import type { ReconcilePlan } from '../tx/reconcile.js';
import { roleOfProto, roleOfTable } from './roles/index.js';

export const ownerNames = { ownerOfProto: roleOfProto, ownerOfTable: roleOfTable };

/** The other role's objects, where a role is about to apply. */
export class RoleConflictError extends ValidationError {
  constructor(
    readonly role: 'cc' | 'nc',
    readonly foreign: Foreign[],
  ) {
    const owners = [...new Set(foreign.map((f) => f.owner))].sort();
    const shown = foreign
      .slice(0, 4)
      .map((f) => f.what)
      .join(', ');
    const more = foreign.length > 4 ? ` and ${foreign.length - 4} more` : '';
    super('role', role, '');
    this.name = 'RoleConflictError';
    this.message =
      `refusing to apply role ${role}: the namespace holds eucanet's ${owners.join(' and ')} role objects (${shown}${more}); ` +
      `remove them with \`eucanet down --role ${owners[0]}\`, or apply with --force to take them over (they are then removed or changed)`;
  }
}

/** Objects of another role (not an older eucanet's) in a plan's `foreign`. */
export function otherRoles(p: ReconcilePlan): Foreign[] {
  return p.foreign.filter((f) => f.owner !== '');
}

/** Throws RoleConflictError when the plan would meet another role's objects and force is not set. */
export function checkRoleConflict(role: 'cc' | 'nc', p: ReconcilePlan, force: boolean): void {
  const others = otherRoles(p);
  if (others.length && !force) throw new RoleConflictError(role, others);
}

/** "link eth1.10 (older eucanet)", for reports of what was left. */
export function describeForeign(f: Foreign): string {
  return `${f.what} (${f.owner === '' ? 'older eucanet, no role mark' : `role ${f.owner}`})`;
}
