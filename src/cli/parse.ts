// Reading a command line against the command tables (commands.ts), and the
// help texts made from those tables.
import { parseArgs } from 'node:util';
import { COMMANDS, commandNamed, type CliValues, type CommandSpec, type OptionSpec } from './commands.js';
import { UsageError } from './output.js';

export type Parsed =
  { kind: 'version' } | { kind: 'help'; command?: CommandSpec } | { kind: 'run'; command: CommandSpec; values: CliValues; positionals: string[] };

const flag = (o: OptionSpec) => `--${o.name}${o.arg ? ` ${o.arg}` : ''}`;
/** Options shown in the usage line (the rest, a secured etcd's among them, are listed under "options"). */
const inUsage = (o: OptionSpec) => o.name !== 'help' && o.name !== 'verbose' && !o.name.startsWith('etcd-');

export function usageLine(c: CommandSpec): string {
  const parts = [`eucanet ${c.name}`];
  if (c.positionals) parts.push(c.positionals);
  for (const o of c.options.filter(inUsage)) parts.push(o.required ? flag(o) : `[${flag(o)}]`);
  return `usage: ${parts.join(' ')}`;
}

/** `eucanet CMD --help`: the usage line, what it does, one line per option, an example. */
export function commandHelp(c: CommandSpec): string {
  const width = Math.max(...c.options.map((o) => flag(o).length + (o.short ? 4 : 0))) + 2;
  const lines = [usageLine(c), '', c.summary, '', 'options:'];
  for (const o of c.options) {
    const name = `${o.short ? `-${o.short}, ` : ''}${flag(o)}`;
    lines.push(`  ${name.padEnd(width)}${o.help}${o.required ? ' (required)' : ''}`);
  }
  lines.push('', 'example:', `  ${c.example}`);
  return `${lines.join('\n')}\n`;
}

/** `eucanet help`: every command in one line. */
export function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = ['usage: eucanet COMMAND [OPTIONS]', '', 'commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(width)}${c.summary}`);
  lines.push(
    '',
    "`eucanet help COMMAND` or `eucanet COMMAND --help` lists a command's options; `eucanet --version` prints the version.",
    'exit codes: 0 ok, 1 failure, 2 bad input',
  );
  return `${lines.join('\n')}\n`;
}

function usageError(message: string, c?: CommandSpec): UsageError {
  return new UsageError(message, c ? `${usageLine(c)}\n(eucanet ${c.name} --help for more)` : mainHelp().trimEnd());
}

/** Reads argv (without node and the script). Throws UsageError for anything it does not know. */
export function parseCommandLine(argv: string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined) throw usageError('no command given');
  if (first === '--version' && rest.length === 0) return { kind: 'version' };
  if ((first === '--help' || first === '-h') && rest.length === 0) return { kind: 'help' };
  if (first.startsWith('-')) throw usageError(`unknown option ${first} (a command comes first)`);
  const command = commandNamed(first);
  if (!command) throw usageError(`unknown command "${first}"`);
  const { values, positionals } = readOptions(command, rest);
  if (values.help) return { kind: 'help', command };
  if (command.name === 'help') {
    if (positionals[0] === undefined) return { kind: 'help' };
    const target = commandNamed(positionals[0]);
    if (!target) throw usageError(`unknown command "${positionals[0]}"`);
    return { kind: 'help', command: target };
  }
  checkRequired(command, values);
  return { kind: 'run', command, values, positionals };
}

function readOptions(c: CommandSpec, args: string[]): { values: CliValues; positionals: string[] } {
  const options = Object.fromEntries(c.options.map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}) }]));
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const unknown: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const spec = c.options.find((o) => o.name === t.name);
    if (!spec) {
      unknown.push(t.rawName);
      continue;
    }
    if (spec.type === 'boolean') {
      if (t.inlineValue) throw usageError(`option ${t.rawName} takes no value (got "${t.value}")`, c);
      values[spec.name] = true;
    } else {
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) throw usageError(`option ${t.rawName} needs a value (${spec.arg})`, c);
      values[spec.name] = t.value;
    }
  }
  if (unknown.length) {
    throw usageError(`unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} for eucanet ${c.name}`, c);
  }
  if (positionals.length > (c.maxPositionals ?? 0)) {
    throw usageError(
      `unexpected argument${positionals.length > 1 ? 's' : ''} ${positionals
        .slice(c.maxPositionals ?? 0)
        .map((p) => `"${p}"`)
        .join(' ')}`,
      c,
    );
  }
  return { values: values, positionals };
}

function checkRequired(c: CommandSpec, v: CliValues): void {
  const missing = c.options.filter((o) => o.required && (v as Record<string, unknown>)[o.name] === undefined).map(flag);
  // The one conditional requirement: a node controller must say which node it is.
  if ((c.name === 'apply' || c.name === 'agent') && v.role === 'nc' && v.node === undefined) missing.push('--node NAME (with --role nc)');
  // Where the state is: exactly one of --state FILE and --etcd URL (show: at most one; cloud: its own rules).
  const store = c.options.some((o) => o.name === 'etcd') && c.name !== 'cloud';
  if (store && v.state !== undefined && v.etcd !== undefined) throw usageError('--state and --etcd exclude each other: give one', c);
  if (store && c.name !== 'show' && v.state === undefined && v.etcd === undefined) missing.unshift('--state FILE or --etcd URL');
  if (missing.length) throw usageError(`missing ${missing.join(', ')}`, c);
  if (v.role !== undefined && v.role !== 'cc' && v.role !== 'nc') {
    throw usageError(`--role must be cc or nc (got "${v.role}")`, c);
  }
}
