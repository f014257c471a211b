// The commands and the options each one takes: one table per command, read by
// the parser (parse.ts), by `--help`, and by the demo (src/cli/demo.ts). This
// module runs nothing when loaded.

export type OptionType = 'string' | 'boolean';

export interface OptionSpec {
  name: string;
  type: OptionType;
  /** The value's placeholder in the usage line ("FILE"); string options only. */
  arg?: string;
  required?: boolean;
  short?: string;
  /** One line. */
  help: string;
}

export interface CommandSpec {
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** Positional words after the command, as shown in the usage line ("[down]"). */
  positionals?: string;
  /** How many positional words it takes at most. */
  maxPositionals?: number;
  options: OptionSpec[];
  example: string;
}

/** Every option any command takes, parsed: the type commands and the demo read. */
export interface CliValues {
  state?: string;
  conf?: string;
  role?: string;
  node?: string;
  netns?: string;
  'dry-run'?: boolean;
  force?: boolean;
  json?: boolean;
  segmentation?: string;
  instances?: string;
  keep?: boolean;
  resync?: string;
  metrics?: string;
  verbose?: boolean;
  help?: boolean;
}

const netns: OptionSpec = {
  name: 'netns',
  type: 'string',
  arg: 'NAME',
  help: 'act inside the network namespace /run/netns/NAME (or a path to a namespace file)',
};
const json: OptionSpec = { name: 'json', type: 'boolean', help: 'print the result as JSON' };
const dryRun: OptionSpec = { name: 'dry-run', type: 'boolean', help: 'print what would change, and change nothing' };
const verbose: OptionSpec = { name: 'verbose', type: 'boolean', help: 'on failure, print the whole error and its stack' };
const help: OptionSpec = { name: 'help', type: 'boolean', short: 'h', help: 'print this help' };
const role: OptionSpec = {
  name: 'role',
  type: 'string',
  arg: 'cc|nc',
  required: true,
  help: 'the role of this host: cc (cluster controller) or nc (node controller)',
};
const conf: OptionSpec = { name: 'conf', type: 'string', arg: 'FILE', help: 'a eucalyptus.conf whose VNET_* keys give the network settings' };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'apply',
    summary: "make this host's network match the state for its role",
    options: [
      { name: 'state', type: 'string', arg: 'FILE', required: true, help: 'the cloud state (JSON, see schema/state.schema.json)' },
      role,
      { name: 'node', type: 'string', arg: 'NAME', help: "the node this host is (a key of the state's nodes); required with --role nc" },
      conf,
      netns,
      dryRun,
      { name: 'force', type: 'boolean', help: "take over and remove the other role's objects in the namespace instead of refusing" },
      json,
      verbose,
      help,
    ],
    example: 'eucanet apply --state cloud.json --role nc --node nc1 --dry-run',
  },
  {
    name: 'agent',
    summary: "keep this host's role equal to the state: watch it, repair drift, never tear down",
    options: [
      { name: 'state', type: 'string', arg: 'FILE', required: true, help: 'the cloud state, watched for new versions (writers replace it atomically)' },
      role,
      { name: 'node', type: 'string', arg: 'NAME', help: "the node this host is (a key of the state's nodes); required with --role nc" },
      netns,
      { name: 'resync', type: 'string', arg: 'SECONDS', help: 'a full resync every SECONDS (default 300; 0: none)' },
      { name: 'metrics', type: 'string', arg: 'HOST:PORT', help: 'serve Prometheus metrics on http://HOST:PORT/metrics' },
      { name: 'json', type: 'boolean', help: 'log one JSON object per line' },
      verbose,
      help,
    ],
    example: 'eucanet agent --role nc --node nc1 --state /var/lib/eucanet/cloud.json --metrics 127.0.0.1:9464',
  },
  {
    name: 'show',
    summary: "show what eucanet owns on this host, in the cloud's terms",
    options: [
      { name: 'state', type: 'string', arg: 'FILE', help: "the cloud state: names each port's instance and group from it" },
      netns,
      json,
      verbose,
      help,
    ],
    example: 'eucanet show --netns cc --json',
  },
  {
    name: 'down',
    summary: 'remove what the role made on this host (and stop its DHCP server), nothing else',
    options: [
      role,
      netns,
      dryRun,
      { name: 'force', type: 'boolean', help: 'remove everything eucanet made here, of any role or of an older eucanet' },
      json,
      verbose,
      help,
    ],
    example: 'eucanet down --role cc --netns cc --dry-run',
  },
  {
    name: 'allocate',
    summary: 'fill in VLANs, subnets, addresses and MACs in a state file (atomic write)',
    options: [{ name: 'state', type: 'string', arg: 'FILE', required: true, help: 'the cloud state to complete in place' }, conf, dryRun, json, verbose, help],
    example: 'eucanet allocate --state cloud.json --dry-run',
  },
  {
    name: 'demo',
    summary: "run the seed's whole cloud in namespaces and prove it with packets; `demo down` removes it",
    positionals: '[down]',
    maxPositionals: 1,
    options: [
      {
        name: 'segmentation',
        type: 'string',
        arg: 'auto|vlan|vxlan|none',
        help: 'how groups are kept apart (default auto: vlan if the kernel has 802.1Q, else vxlan)',
      },
      { name: 'instances', type: 'string', arg: 'N', help: "how many instances (default 8, the seed's)" },
      { name: 'keep', type: 'boolean', help: 'leave the demo running afterwards' },
      json,
      verbose,
      help,
    ],
    example: 'eucanet demo --keep',
  },
  {
    name: 'help',
    summary: "print the commands, or one command's options",
    positionals: '[COMMAND]',
    maxPositionals: 1,
    options: [help],
    example: 'eucanet help apply',
  },
];

export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
