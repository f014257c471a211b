// eucanet allocate: fill in what the state leaves open, written back atomically.
import { allocate } from '../managed/allocate.js';
import { formatState, loadState, withAllocations, writeFileAtomic } from '../managed/statefile.js';
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

export async function allocateCmd(v: CliValues): Promise<number> {
  const path = await inputFile('--state', must(v.state, 'the required --state'));
  const loaded = await loadState(path, v.conf ? { conf: await inputFile('--conf', v.conf) } : {});
  for (const w of loaded.warnings) process.stderr.write(`eucanet: warning: ${w}\n`);
  const doc = withAllocations(loaded.document, allocate(loaded.state));
  const text = formatState(doc);
  const changed = text !== loaded.text;
  const lines = allocationLines(loaded.document, doc);
  const dryRun = !!v['dry-run'];
  if (changed && !dryRun) {
    try {
      await writeFileAtomic(path, text);
    } catch (err) {
      throw new WriteError(path, err);
    }
  }
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
