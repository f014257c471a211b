// What every operation command shares: the state through its store (the file
// of --state, or etcd with --etcd), the operation run with compare-and-swap
// (update), and the report: one line per change for people, or JSON (--json);
// --dry-run writes nothing.
import { describeChange, type OpResult } from '../managed/ops/index.js';
import type { State } from '../managed/types.js';
import { update } from '../store/update.js';
import { commandNamed, type CliValues } from './commands.js';
import { EXIT_OK, UsageError } from './output.js';
import { usageLine } from './parse.js';
import { openStore } from './store-options.js';

/** Runs `op` on the state named by --state or --etcd and prints what changed. */
export async function runOperation(v: CliValues, op: (s: State) => OpResult): Promise<number> {
  const store = await openStore(v);
  const dryRun = !!v['dry-run'];
  const r = await update(store, op, { dryRun }).finally(() => store.close());
  const path = v.state ?? store.name;
  if (v.json) {
    const out = { state: path, dryRun, changes: r.changes, version: r.version, previousVersion: r.previousVersion, retries: r.retries };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return EXIT_OK;
  }
  const tail = dryRun ? ' (dry run: not written)' : ` (version ${r.version}${r.retries ? `, after ${r.retries} conflicting writes by others` : ''})`;
  for (const c of r.changes) process.stdout.write(`${path}: ${dryRun ? 'would be: ' : ''}${describeChange(c)}${tail}\n`);
  return EXIT_OK;
}

/** The one OWNER/NAME word of the group commands. */
export function groupWord(command: string, positionals: string[]): string {
  const g = positionals[0];
  if (g === undefined) throw operationUsage(command, 'missing the group OWNER/NAME');
  return g;
}

/** A usage error of an operation command, with its usage line. */
export function operationUsage(command: string, message: string): UsageError {
  const c = commandNamed(command);
  return new UsageError(message, c ? `${usageLine(c)}\n(eucanet ${command} --help for more)` : undefined);
}
