#!/usr/bin/env node
// eucanet: the command line, a thin shell over the library.
//
//   eucanet apply    --state FILE --role cc|nc [--node NAME] [--netns NAME] [--dry-run] [--json]
//   eucanet show     [--netns NAME] [--json]
//   eucanet down     --role cc|nc [--state FILE] [--netns NAME]
//   eucanet allocate --state FILE [--conf eucalyptus.conf]
//   eucanet demo     [--segmentation auto|vlan|vxlan|none] [--instances N] [--keep] [--json]
//   eucanet demo down
import { parseArgs } from 'node:util';
import { EXIT_FAIL, UsageError, errorLine, exitCodeOf } from './output.js';

const USAGE = `usage:
  eucanet apply    --state FILE --role cc|nc [--node NAME] [--netns NAME] [--dry-run] [--json]
  eucanet show     [--netns NAME] [--json]
  eucanet down     --role cc|nc [--netns NAME]
  eucanet allocate --state FILE [--conf FILE]
  eucanet demo     [--segmentation auto|vlan|vxlan|none] [--instances N] [--keep] [--json]
  eucanet demo down
exit codes: 0 ok, 1 failure, 2 bad input`;

const OPTIONS = {
  state: { type: 'string' },
  conf: { type: 'string' },
  role: { type: 'string' },
  node: { type: 'string' },
  netns: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  segmentation: { type: 'string' },
  instances: { type: 'string' },
  keep: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type CliValues = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  switch (command) {
    case 'apply':
      return (await import('./apply.js')).apply(values);
    case 'show':
      return (await import('./show.js')).show(values);
    case 'down':
      return (await import('./apply.js')).down(values);
    case 'allocate':
      return (await import('./apply.js')).allocateCmd(values);
    case 'demo':
      return (await import('../demo/main.js')).demo(values, positionals.slice(1));
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${errorLine(err)}\n`);
    if (process.argv.includes('--verbose') && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = exitCodeOf(err) ?? EXIT_FAIL;
  },
);
