// What DhcpServer.plan() checks before anything is written (the networks, the
// namespace, the state directory, dnsmasq itself), every problem collected,
// and which of dnsmasq's files an update would create, change or leave.
import { ValidationError } from '../errors.js';
import { resolveDnsmasq, type DaemonConfig } from './daemon.js';
import { ownedRoot, plantedLinks, prepareDir, readIfExists } from './files.js';
import type { DhcpFileChange } from './server-types.js';
import { netnsProblem } from './target.js';
import type { DhcpNetwork, DnsmasqFiles, DnsmasqPaths, NormalizedNetwork } from './types.js';
import { normalizeNetworks } from './validate.js';

/** The state directory's files, as checked for planted links. */
export function stateFiles(p: DnsmasqPaths): string[] {
  return [p.config, p.hosts, p.hostsDir, p.opts, p.leases, p.pid, p.log, `${p.log}.1`, p.loaded];
}

/** The networks normalised (none when they are refused), and every problem found; `netns` names the namespace in one. */
export async function planChecks(
  networks: DhcpNetwork[],
  cfg: DaemonConfig,
  netns: string | number | undefined,
): Promise<{ nets: NormalizedNetwork[]; problems: ValidationError[] }> {
  const { paths } = cfg;
  const problems: ValidationError[] = [];
  let nets: NormalizedNetwork[] = [];
  try {
    nets = normalizeNetworks(networks);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(err);
  }
  const t = { dir: paths.dir, ...(cfg.netnsPath !== undefined ? { netnsPath: cfg.netnsPath } : {}) };
  const ns = nets.length ? netnsProblem(t) : undefined;
  if (ns !== undefined) problems.push(new ValidationError('netns', netns, ns));
  const dir = await prepareDir(paths.dir, ownedRoot(paths.dir), false);
  if (dir !== undefined) problems.push(new ValidationError('stateDir', paths.dir, dir));
  for (const link of await plantedLinks(stateFiles(paths))) {
    problems.push(new ValidationError('stateDir', paths.dir, `${link} is a symbolic link: eucanet does not follow links in its state directory`));
  }
  if (nets.length) {
    try {
      resolveDnsmasq(cfg.dnsmasqPath);
    } catch (err) {
      problems.push(new ValidationError('dnsmasq', cfg.dnsmasqPath ?? 'dnsmasq', (err as Error).message));
    }
  }
  return { nets, problems };
}

/** What writing `files` would do to each of the three files on disk. */
export async function fileChanges(paths: DnsmasqPaths, files: DnsmasqFiles): Promise<DhcpFileChange[]> {
  const changes: DhcpFileChange[] = [];
  for (const [path, text] of [
    [paths.config, files.config],
    [paths.hosts, files.hosts],
    [paths.opts, files.opts],
  ] as const) {
    const now = await readIfExists(path);
    changes.push({ path, change: now === undefined ? 'create' : now === text ? 'unchanged' : 'update' });
  }
  return changes;
}
