// eucanet allocate: fill in what the state leaves open, written back atomically
// under the store's lock (so never over an operation's concurrent update).
import { allocate } from '../managed/allocate.js';
import { formatState, loadState, withAllocations, type LoadedState } from '../managed/statefile.js';
import { ConflictError } from '../store/errors.js';
import { contentVersion, writeTextIf } from '../store/file.js';
import type { CliValues } from './commands.js';
import { inputFile } from './files.js';
import { EXIT_OK, WriteError } from './output.js';
import { must } from '../util/must.js';

type Doc = Record<string, unknown>;
const FIELDS = { groups: ['vlan', 'subnet'], instances: ['port', 'privateIp', 'mac', 'publicIp'] } as const;

/** One line per group or instance that allocation fills in or changes: "instances[2] i-3: privateIp 10.1.2.4, mac ...". */
export function allocationLines(before: Doc, after: Doc): string[] {
  const out: string[] = [];
  for (const [list, fields] of Object.entries(FIELDS) as Array<[keyof typeof FIELDS, readonly string[]]>) {
    const a = (before[list] as Doc[] | undefined) ?? [];
    const b = (after[list] as Doc[] | undefined) ?? [];
    b.forEach((item, i) => {
      const set = fields.filter((f) => JSON.stringify(a[i]?.[f]) !== JSON.stringify(item[f]) && item[f] !== undefined);
      if (!set.length) return;
      const name = list === 'groups' ? `${String(item.owner)}/${String(item.name)}` : String(item.id);
      out.push(`${list}[${i}] ${name}: ${set.map((f) => `${f} ${String(item[f])}`).join(', ')}`);
    });
  }
  return out;
}

/** Loads, allocates and (unless a dry run) writes back under the store's lock, again if another writer got in between. */
async function allocateOnce(path: string, v: CliValues): Promise<{ loaded: LoadedState; doc: Record<string, unknown>; text: string }> {
  for (let attempt = 0; ; attempt++) {
    const loaded = await loadState(path, v.conf ? { conf: await inputFile('--conf', v.conf) } : {});
    const doc = withAllocations(loaded.document, allocate(loaded.state));
    const text = formatState(doc);
    if (text === loaded.text || v['dry-run']) return { loaded, doc, text };
    try {
      await writeTextIf(path, text, contentVersion(loaded.text));
      return { loaded, doc, text };
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 10) throw err instanceof ConflictError ? err : new WriteError(path, err);
    }
  }
}

export async function allocateCmd(v: CliValues): Promise<number> {
  const path = await inputFile('--state', must(v.state, 'the required --state'));
  const { loaded, doc, text } = await allocateOnce(path, v);
  for (const w of loaded.warnings) process.stderr.write(`eucanet: warning: ${w}\n`);
  const changed = text !== loaded.text;
  const lines = allocationLines(loaded.document, doc);
  const dryRun = !!v['dry-run'];
  if (v.json) {
    process.stdout.write(`${JSON.stringify({ state: path, dryRun, changed, allocations: lines }, null, 2)}\n`);
    return EXIT_OK;
  }
  if (!changed) {
    process.stdout.write(`${path}: already fully allocated\n`);
    return EXIT_OK;
  }
  const head = dryRun ? `${path}: would be written (dry run: not written)` : `${path}: allocations written`;
  const body = lines.length ? lines : ['(nothing to allocate; the file is rewritten in canonical form)'];
  process.stdout.write(`${[head, ...body.map((l) => `  ${l}`)].join('\n')}\n`);
  return EXIT_OK;
}
