// An etcd client from the command line's --etcd URL[,URL...] and --cloud NAME,
// checked before anything connects. Calls other than streams get a deadline,
// so that a command against an unreachable etcd fails instead of hanging.
import { Etcd3 } from 'etcd3';
import { ValidationError } from '../errors.js';
import type { CliValues } from './commands.js';

/** The URLs of --etcd, each http(s)://HOST:PORT. */
export function etcdUrls(text: string): string[] {
  const urls = text.split(',').map((u) => u.trim());
  for (const u of urls) {
    let ok = false;
    try {
      const p = new URL(u);
      ok = (p.protocol === 'http:' || p.protocol === 'https:') && p.hostname !== '' && (p.pathname === '/' || p.pathname === '');
    } catch {
      ok = false;
    }
    if (!ok) throw new ValidationError('--etcd', text, `expected URL[,URL...], each http(s)://HOST:PORT (got "${u}")`);
  }
  return urls;
}

/** --cloud: the key prefix's name (default "default"). */
export function cloudName(text: string | undefined): string {
  const name = text ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) throw new ValidationError('--cloud', name, 'expected a name of letters, digits, ".", "_", "-"');
  return name;
}

/** A client for --etcd (calls time out after `deadlineMs`, default 5 s) and the cloud's name. */
export function etcdOfCli(v: Pick<CliValues, 'etcd' | 'cloud'>, deadlineMs = 5000): { client: Etcd3; cloud: string } {
  if (v.etcd === undefined) throw new ValidationError('--etcd', v.etcd, 'required: the etcd URL');
  const hosts = etcdUrls(v.etcd);
  const cloud = cloudName(v.cloud);
  const client = new Etcd3({ hosts, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + deadlineMs }) });
  return { client, cloud };
}
