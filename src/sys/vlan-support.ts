// Does this kernel do 802.1Q VLAN devices? Answered read-only, without
// creating anything anywhere:
// - /proc/net/vlan exists when the 8021q code is in the running kernel (built
//   in, or a module already loaded); the kernel makes it in every namespace;
// - otherwise a module in /lib/modules/<release> (modules.builtin or
//   modules.dep listing 8021q.ko) is loaded by the kernel on the first VLAN
//   device (request_module "rtnl-link-vlan").
// Neither: creating a VLAN device fails with EOPNOTSUPP.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

export interface VlanSupport {
  supported: boolean;
  /** How we know, in a few words. */
  how: string;
}

const MODULE_DIRS = ['/lib/modules', '/usr/lib/modules'];

function listsModule(file: string): boolean {
  try {
    return /(^|\/)8021q\.ko/m.test(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
}

export function vlanSupport(opts: { procNet?: string; moduleDirs?: string[]; release?: string } = {}): VlanSupport {
  const proc = `${opts.procNet ?? '/proc/net'}/vlan`;
  if (existsSync(proc)) return { supported: true, how: `${proc} exists (8021q in the running kernel)` };
  const rel = opts.release ?? release();
  for (const dir of opts.moduleDirs ?? MODULE_DIRS) {
    const base = `${dir}/${rel}`;
    if (listsModule(`${base}/modules.builtin`) || listsModule(`${base}/modules.dep`)) {
      return { supported: true, how: `the 8021q module is in ${base} (loaded on first use)` };
    }
  }
  return { supported: false, how: `no ${proc} and no 8021q module for kernel ${rel}` };
}
