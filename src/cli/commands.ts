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
  cluster?: string;
  netns?: string;
  'dry-run'?: boolean;
  force?: boolean;
  json?: boolean;
  segmentation?: string;
  instances?: string;
  clusters?: string;
  keep?: boolean;
  direct?: boolean;
  resync?: string;
  metrics?: string;
  verbose?: boolean;
  help?: boolean;
  // The cloud's operations (run-instance, authorize, ...).
  id?: string;
  group?: string;
  port?: string;
  'public-ip'?: string;
  protocol?: string;
  'icmp-type'?: string;
  'icmp-code'?: string;
  cidr?: string;
  'source-group'?: string;
  ip?: string;
  instance?: string;
  // Where the state is, other than --state (store-options.ts).
  etcd?: string;
  cloud?: string;
  'etcd-ca'?: string;
  'etcd-cert'?: string;
  'etcd-key'?: string;
  'etcd-user'?: string;
  'etcd-password-file'?: string;
  'etcd-timeout'?: string;
  'if-revision'?: string;
  // eucanet status, and the agent's name in it.
  wait?: boolean;
  timeout?: string;
  host?: string;
  store?: string;
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

/**
 * The state in etcd instead of a file (src/cli/store-options.ts reads them;
 * exactly one of --state and --etcd). The password never on the command line:
 * a file, or $EUCANET_ETCD_PASSWORD.
 */
const etcdOptions: OptionSpec[] = [
  { name: 'etcd', type: 'string', arg: 'URL[,URL...]', help: 'the state in etcd v3 at these client URLs, instead of --state' },
  { name: 'cloud', type: 'string', arg: 'NAME', help: "with --etcd: the cloud's name, its keys under /eucanet/NAME/ (default: default)" },
  { name: 'etcd-ca', type: 'string', arg: 'FILE', help: "with --etcd: the CA certificate (PEM) that signed etcd's" },
  { name: 'etcd-cert', type: 'string', arg: 'FILE', help: 'with --etcd: a client certificate (PEM), with --etcd-key' },
  { name: 'etcd-key', type: 'string', arg: 'FILE', help: "with --etcd: the client certificate's key (PEM)" },
  { name: 'etcd-user', type: 'string', arg: 'NAME', help: "with --etcd: etcd's user (password: --etcd-password-file or $EUCANET_ETCD_PASSWORD)" },
  { name: 'etcd-password-file', type: 'string', arg: 'FILE', help: "with --etcd-user: a file holding the user's password" },
  { name: 'etcd-timeout', type: 'string', arg: 'SECONDS', help: 'with --etcd: the longest one etcd request may take (default 5)' },
];

// The cloud's operations: each changes the state through the store (compare-and-swap).
const opState: OptionSpec = { name: 'state', type: 'string', arg: 'FILE', help: 'the cloud state file to change (written atomically); or --etcd' };
const opTail: OptionSpec[] = [...etcdOptions, dryRun, { name: 'json', type: 'boolean', help: 'print the changes and the new version as JSON' }, verbose, help];
const ruleOptions: OptionSpec[] = [
  { name: 'protocol', type: 'string', arg: 'tcp|udp|icmp|N', required: true, help: 'the protocol: tcp, udp, icmp or an IP protocol number' },
  { name: 'port', type: 'string', arg: 'P[-Q]', help: 'destination port or range (tcp, udp; default every port)' },
  { name: 'icmp-type', type: 'string', arg: 'T', help: 'ICMP type (icmp; default -1, any)' },
  { name: 'icmp-code', type: 'string', arg: 'C', help: 'ICMP code (icmp, with --icmp-type; default -1, any)' },
  { name: 'cidr', type: 'string', arg: 'CIDR', help: 'the source network (this or --source-group)' },
  { name: 'source-group', type: 'string', arg: 'OWNER/NAME', help: "the source group: its instances' block (this or --cidr)" },
];
const group1 = { positionals: 'OWNER/NAME', maxPositionals: 1 };

const OPERATIONS: CommandSpec[] = [
  {
    name: 'run-instance',
    summary: 'add an instance to a group on a node, its addresses and MAC allocated',
    options: [
      opState,
      { name: 'id', type: 'string', arg: 'ID', required: true, help: "the instance's id" },
      { name: 'group', type: 'string', arg: 'OWNER/NAME', required: true, help: 'its security group' },
      { name: 'node', type: 'string', arg: 'NODE', required: true, help: "the node it runs on (a key of the state's nodes)" },
      { name: 'port', type: 'string', arg: 'DEV', help: 'its port (tap) on the node (default: the lowest free vnetN)' },
      { name: 'public-ip', type: 'string', arg: 'auto|ADDR', help: 'a public address: the lowest free one of the pool, or this one' },
      ...opTail,
    ],
    example: 'eucanet run-instance --state cloud.json --id i-9 --group admin/web --node nc1 --public-ip auto',
  },
  {
    name: 'terminate-instance',
    summary: 'remove an instance; its addresses go back to their pools',
    options: [opState, { name: 'id', type: 'string', arg: 'ID', required: true, help: "the instance's id" }, ...opTail],
    example: 'eucanet terminate-instance --state cloud.json --id i-9',
  },
  {
    name: 'create-group',
    summary: 'add a security group (no rules), its VLAN and subnet block allocated',
    ...group1,
    options: [opState, ...opTail],
    example: 'eucanet create-group --state cloud.json bob/db',
  },
  {
    name: 'delete-group',
    summary: "remove a security group that no instance and no other group's rule uses",
    ...group1,
    options: [opState, ...opTail],
    example: 'eucanet delete-group --state cloud.json bob/db',
  },
  {
    name: 'authorize',
    summary: 'add an ingress rule to a group',
    ...group1,
    options: [opState, ...ruleOptions, ...opTail],
    example: 'eucanet authorize --state cloud.json admin/web --protocol tcp --port 443 --cidr 0.0.0.0/0',
  },
  {
    name: 'revoke',
    summary: 'remove an ingress rule from a group (the same arguments as authorize)',
    ...group1,
    options: [opState, ...ruleOptions, ...opTail],
    example: 'eucanet revoke --state cloud.json admin/default --protocol tcp --port 22 --cidr 0.0.0.0/0',
  },
  {
    name: 'allocate-address',
    summary: 'take the lowest free public address out of the pool',
    options: [opState, ...opTail],
    example: 'eucanet allocate-address --state cloud.json --json',
  },
  {
    name: 'associate-address',
    summary: 'give an allocated public address to an instance',
    options: [
      opState,
      { name: 'ip', type: 'string', arg: 'ADDR', required: true, help: 'the address (allocated with allocate-address)' },
      { name: 'instance', type: 'string', arg: 'ID', required: true, help: 'the instance, which has no public address' },
      ...opTail,
    ],
    example: 'eucanet associate-address --state cloud.json --ip 192.168.32.202 --instance i-3',
  },
  {
    name: 'disassociate-address',
    summary: 'take a public address from its instance (it stays allocated)',
    options: [opState, { name: 'ip', type: 'string', arg: 'ADDR', required: true, help: 'the address' }, ...opTail],
    example: 'eucanet disassociate-address --state cloud.json --ip 192.168.32.202',
  },
  {
    name: 'release-address',
    summary: 'give an allocated, unassociated public address back to the pool',
    options: [opState, { name: 'ip', type: 'string', arg: 'ADDR', required: true, help: 'the address' }, ...opTail],
    example: 'eucanet release-address --state cloud.json --ip 192.168.32.202',
  },
];

// eucanet status: the agents' status in etcd.
const STATUS: CommandSpec = {
  name: 'status',
  summary: "every host's agent in etcd: role, node, revision applied, converged or not, last sync, seen how long ago",
  options: [
    { ...etcdOptions[0], required: true, help: 'the etcd v3 client URLs where the agents publish their status' },
    ...etcdOptions.slice(1),
    { name: 'wait', type: 'boolean', help: 'wait (watching etcd) until every host has converged; exit 1 at the timeout, naming the hosts that have not' },
    { name: 'timeout', type: 'string', arg: 'S', help: 'with --wait: give up after S seconds (default 60)' },
    json,
    verbose,
    help,
  ],
  example: 'eucanet status --etcd http://127.0.0.1:2379 --wait --timeout 10',
};

export const COMMANDS: CommandSpec[] = [
  {
    name: 'apply',
    summary: "make this host's network match the state for its role",
    options: [
      { name: 'state', type: 'string', arg: 'FILE', help: 'the cloud state (JSON, see schema/state.schema.json); or --etcd' },
      role,
      { name: 'node', type: 'string', arg: 'NAME', help: "the node this host is (a key of the state's nodes); required with --role nc" },
      {
        name: 'cluster',
        type: 'string',
        arg: 'NAME',
        help: 'the cluster whose CC this host is (a key of clusters); required with --role cc when the state has several',
      },
      conf,
      netns,
      ...etcdOptions,
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
      { name: 'state', type: 'string', arg: 'FILE', help: 'the cloud state file, watched for new versions (writers replace it atomically); or --etcd' },
      role,
      { name: 'node', type: 'string', arg: 'NAME', help: "the node this host is (a key of the state's nodes); required with --role nc" },
      {
        name: 'cluster',
        type: 'string',
        arg: 'NAME',
        help: 'the cluster whose CC this host is (a key of clusters); required with --role cc when the state has several',
      },
      netns,
      ...etcdOptions,
      { name: 'host', type: 'string', arg: 'NAME', help: "with --etcd: the name this host's status is published under (default the hostname)" },
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
      { name: 'state', type: 'string', arg: 'FILE', help: "the cloud state: names each port's instance and group from it (or --etcd)" },
      netns,
      ...etcdOptions,
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
    summary: "run the seed's whole cloud in namespaces, one eucanet agent per host, and prove it with packets; `demo down` removes it",
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
      {
        name: 'clusters',
        type: 'string',
        arg: '1|2',
        help: "how many clusters (default 1, the seed's): 2 adds a second CC and NC on their own private switch, joined by tunnels, with checks 12-15",
      },
      { name: 'keep', type: 'boolean', help: 'leave the demo running afterwards (the network stays; the agents stop with the demo)' },
      { name: 'direct', type: 'boolean', help: 'no agents: the library applies every host itself (for comparison)' },
      {
        name: 'store',
        type: 'string',
        arg: 'file|etcd',
        help: "where the agents' state is: a state file (default), or an etcd the demo starts on loopback and removes",
      },
      json,
      verbose,
      help,
    ],
    example: 'eucanet demo --keep',
  },
  ...OPERATIONS,
  STATUS,
  {
    name: 'cloud',
    summary: "the cloud's state in etcd: `cloud put` imports a state file (validated, allocated), `cloud get` prints it and its revision",
    positionals: 'put|get',
    maxPositionals: 1,
    options: [
      { name: 'state', type: 'string', arg: 'FILE', help: 'cloud put: the state file to import' },
      ...etcdOptions,
      { name: 'if-revision', type: 'string', arg: 'N', help: 'cloud put: only if the cloud is still at revision N (0: only if it has no state)' },
      { name: 'json', type: 'boolean', help: 'print the result as JSON' },
      verbose,
      help,
    ],
    example: 'eucanet cloud put --etcd http://127.0.0.1:2379 --state cloud.json',
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

/** The names of the cloud's operations (they change the state through the store). */
export const OPERATION_NAMES: readonly string[] = OPERATIONS.map((c) => c.name);

export function commandNamed(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
