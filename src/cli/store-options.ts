// Where a command's state is: --state FILE (the file store) or --etcd
// URL[,URL...] (the etcd store, with --cloud and what a secured etcd needs).
// Exactly one of the two. The options are checked before anything is read or
// connected: a bad one is exit 2 naming it.
//
// The password of --etcd-user comes from --etcd-password-file FILE or the
// environment variable EUCANET_ETCD_PASSWORD, never from the command line
// (where every user of the machine sees it in ps).
import { readFile } from '../util/fs-async.js';
import { ValidationError } from '../errors.js';
import type { State } from '../managed/types.js';
import type { EtcdStore, EtcdStoreOptions } from '../store/etcd.js';
import type { PrefetchedRange } from '../store/etcd-range.js';
import { FileStore } from '../store/file.js';
import type { Store } from '../store/types.js';
import type { CliValues } from './commands.js';
import { inputFile } from './files.js';
import { UsageError } from './output.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Checks each URL: http(s)://HOST:PORT, nothing after the port. */
export function parseEtcdUrls(text: string): string[] {
  const urls = text.split(',').map((u) => u.trim());
  for (const u of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(u);
    } catch {
      parsed = undefined;
    }
    const ok =
      parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.port !== '' && (parsed.pathname === '/' || parsed.pathname === '');
    if (!ok) throw new ValidationError('--etcd', u, 'expected http://HOST:PORT or https://HOST:PORT (comma-separated for several)');
  }
  return urls;
}

async function readOptionFile(flag: string, path: string): Promise<Buffer> {
  return readFile(await inputFile(flag, path));
}

/** The password of --etcd-user: from --etcd-password-file, else $EUCANET_ETCD_PASSWORD. */
async function password(v: CliValues): Promise<string> {
  if (v['etcd-password-file'] !== undefined) {
    return (await readOptionFile('--etcd-password-file', v['etcd-password-file'])).toString('utf8').replace(/\r?\n$/, '');
  }
  const env = process.env.EUCANET_ETCD_PASSWORD;
  if (env === undefined) throw new UsageError('--etcd-user needs a password: --etcd-password-file FILE or the environment variable EUCANET_ETCD_PASSWORD');
  return env;
}

/** Refuses --etcd-* options without --etcd, and the half of a pair. */
function checkEtcdOptions(v: CliValues): void {
  const etcdOnly = ['cloud', 'etcd-ca', 'etcd-cert', 'etcd-key', 'etcd-user', 'etcd-password-file', 'etcd-timeout'] as const;
  if (v.etcd === undefined) {
    const given = etcdOnly.filter((k) => v[k] !== undefined);
    if (given.length) throw new UsageError(`--${given[0]} works only with --etcd`);
  }
  if ((v['etcd-cert'] === undefined) !== (v['etcd-key'] === undefined)) throw new UsageError('--etcd-cert and --etcd-key go together');
  if (v['etcd-password-file'] !== undefined && v['etcd-user'] === undefined) throw new UsageError('--etcd-password-file needs --etcd-user');
  if (v.cloud !== undefined && !NAME.test(v.cloud)) throw new ValidationError('--cloud', v.cloud, 'expected a name of letters, digits, "_", "." and "-"');
}

/** The etcd store's options from the command line (files read, nothing connected). */
export async function etcdOptionsOf(v: CliValues): Promise<EtcdStoreOptions> {
  checkEtcdOptions(v);
  const o: EtcdStoreOptions = { urls: parseEtcdUrls(v.etcd ?? ''), cloud: v.cloud ?? 'default' };
  if (v['etcd-timeout'] !== undefined) {
    const s = Number(v['etcd-timeout']);
    if (!/^\d+(\.\d+)?$/.test(v['etcd-timeout']) || !(s > 0) || s > 3600)
      throw new ValidationError('--etcd-timeout', v['etcd-timeout'], 'expected seconds (more than 0, at most 3600)');
    o.timeoutMs = Math.round(s * 1000);
  }
  if (v['etcd-ca'] !== undefined || v['etcd-cert'] !== undefined) {
    o.tls = {};
    if (v['etcd-ca'] !== undefined) o.tls.ca = await readOptionFile('--etcd-ca', v['etcd-ca']);
    if (v['etcd-cert'] !== undefined) o.tls.cert = await readOptionFile('--etcd-cert', v['etcd-cert']);
    if (v['etcd-key'] !== undefined) o.tls.key = await readOptionFile('--etcd-key', v['etcd-key']);
  }
  if (v['etcd-user'] !== undefined) o.auth = { username: v['etcd-user'], password: await password(v) };
  return o;
}

/** Exactly one of --state and --etcd (the `required` one for commands that need a store). */
export function checkStoreChoice(v: CliValues, required = true): 'file' | 'etcd' | undefined {
  if (v.state !== undefined && v.etcd !== undefined) throw new UsageError('--state and --etcd exclude each other: give one');
  if (v.state === undefined && v.etcd === undefined) {
    checkEtcdOptions(v);
    if (required) throw new UsageError('missing --state FILE or --etcd URL (where the state is)');
    return undefined;
  }
  return v.etcd !== undefined ? 'etcd' : 'file';
}

/** What opening a store may start at once. */
export interface OpenOptions {
  /** With --etcd: send the full read of the state before loading etcd's client (a command that reads the state first: the agent). */
  prefetch?: boolean;
}

/** The store the command line names: a FileStore for --state, an EtcdStore for --etcd. */
export async function openStore(v: CliValues, o: OpenOptions = {}): Promise<Store> {
  if (checkStoreChoice(v) === 'file') {
    checkEtcdOptions(v);
    return new FileStore(await inputFile('--state', v.state as string));
  }
  return openEtcd(v, o);
}

/**
 * The etcd store of --etcd and its options (etcd's client is loaded only when
 * used: it is big). With `prefetch` (and no etcd user, whose token is etcd3's
 * business) the state's full read is sent first, over gRPC alone, and etcd
 * answers it while etcd3 loads (a few hundred ms of CPU here).
 */
export async function openEtcd(v: CliValues, o: OpenOptions = {}): Promise<EtcdStore> {
  const opts = await etcdOptionsOf(v);
  let prefetched: PrefetchedRange | undefined;
  if (o.prefetch && !opts.auth) {
    const { prefetchRange } = await import('../store/etcd-range.js');
    const { statePrefix } = await import('../store/etcd-layout.js');
    prefetched = await prefetchRange({ ...opts, timeoutMs: opts.timeoutMs ?? 5000 }, statePrefix(opts.cloud ?? 'default'));
  }
  const { EtcdStore } = await import('../store/etcd.js');
  return new EtcdStore({ ...opts, ...(prefetched ? { prefetched } : {}) });
}

/** The state in etcd (--etcd) for commands that only read it (apply, show); --conf works only with a file. */
export async function readEtcdState(v: CliValues): Promise<State> {
  if (v.conf !== undefined) throw new UsageError('--conf works only with --state (with --etcd, the settings are in the cloud: eucanet cloud put)');
  const store = await openEtcd(v);
  try {
    return (await store.read()).state;
  } finally {
    await store.close();
  }
}
