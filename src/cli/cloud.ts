// eucanet cloud put|get: the cloud's state in etcd as a whole.
//   cloud put --etcd URL --state FILE [--if-revision N]: imports a state file,
//     validated and allocated before etcd is touched, as one transaction that
//     writes only the keys that differ; --if-revision N: only if the cloud is
//     still at revision N (0: only if it has no state), else a conflict (exit 1).
//   cloud get --etcd URL [--json]: the state (on stdout) and its revision (on
//     stderr; both in one object with --json).
import { allocate } from '../managed/allocate.js';
import { withAllocations } from '../managed/document.js';
import { formatState, loadState } from '../managed/statefile.js';
import { ValidationError } from '../errors.js';
import type { CliValues } from './commands.js';
import { inputFile } from './files.js';
import { EXIT_OK, UsageError } from './output.js';
import { openEtcd } from './store-options.js';

function ifRevision(v: CliValues): string | undefined {
  const t = v['if-revision'];
  if (t === undefined) return undefined;
  if (!/^\d{1,15}$/.test(t)) throw new ValidationError('--if-revision', t, 'expected a revision number (0: the cloud has no state yet)');
  return t === '0' ? '' : String(Number(t));
}

async function put(v: CliValues): Promise<number> {
  if (v.state === undefined) throw new UsageError('cloud put needs --state FILE (the state to import)');
  const path = await inputFile('--state', v.state);
  const ifVersion = ifRevision(v);
  const loaded = await loadState(path);
  for (const w of loaded.warnings) process.stderr.write(`eucanet: warning: ${w}\n`);
  const state = withAllocations(loaded.state, allocate(loaded.state));
  const store = await openEtcd(v);
  try {
    const t0 = performance.now();
    const revision = Number(await store.write(state, ifVersion !== undefined ? { ifVersion } : {}));
    const ms = Math.round(performance.now() - t0);
    const counts = { groups: state.groups?.length ?? 0, instances: state.instances?.length ?? 0 };
    if (v.json) process.stdout.write(`${JSON.stringify({ cloud: store.cloud, etcd: store.urls, revision, ...counts, ms }, null, 2)}\n`);
    else process.stdout.write(`${store.name}: ${path} put at revision ${revision} (${counts.groups} groups, ${counts.instances} instances, ${ms} ms)\n`);
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

async function get(v: CliValues): Promise<number> {
  if (v.state !== undefined) throw new UsageError('cloud get takes no --state (it prints the state in etcd)');
  if (v['if-revision'] !== undefined) throw new UsageError('--if-revision works only with cloud put');
  const store = await openEtcd(v);
  try {
    const snap = await store.read();
    if (v.json) process.stdout.write(`${JSON.stringify({ cloud: store.cloud, revision: snap.revision, state: snap.state }, null, 2)}\n`);
    else {
      // The document alone on stdout (so that `cloud get > cloud.json` is a state file); the revision on stderr.
      process.stderr.write(`${store.name}: revision ${snap.revision}\n`);
      process.stdout.write(formatState(snap.state));
    }
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

export async function cloudCommand(v: CliValues, positionals: string[]): Promise<number> {
  const what = positionals[0];
  if (what !== 'put' && what !== 'get') throw new UsageError(`cloud needs put or get (got ${what === undefined ? 'nothing' : `"${what}"`})`);
  if (v.etcd === undefined) throw new UsageError(`cloud ${what} needs --etcd URL`);
  return what === 'put' ? put(v) : get(v);
}
