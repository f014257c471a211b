// JSON Schema (draft 2020-12) of the desired-state document. This module is the
// source of truth; schema/state.schema.json is a generated copy for editors
// (test/unit/managed-schema.test.ts keeps the two equal).
//
// The schema checks shape: types, required and unknown keys, enums. Values
// (addresses, ranges, references, uniqueness) are checked by validate.ts, whose
// messages name the field and say what a good value looks like.

const name = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' };
const ifname = {
  type: 'string',
  description: 'A Linux interface name: 1-15 bytes, no "/", ":" or whitespace.',
};
const underlay = {
  type: 'string',
  description:
    'Address/prefix of this host on its private NIC, e.g. "10.0.0.1/24": the VXLAN underlay. ' +
    'Required on the CC and on every node when segmentation is vxlan (each group is then a VXLAN ' +
    'segment with VNI = its VLAN number, carried between these addresses); ignored otherwise.',
};

const rule = {
  type: 'object',
  description: 'An ingress ("authorize") rule. Give exactly one of cidr and sourceGroup.',
  required: ['protocol'],
  additionalProperties: false,
  properties: {
    protocol: {
      type: ['string', 'integer'],
      description: '"tcp", "udp", "icmp", or an IP protocol number 0-255.',
    },
    from: { type: 'integer', description: 'First destination port, 0-65535 (tcp and udp only).' },
    to: { type: 'integer', description: 'Last destination port, 0-65535; defaults to from.' },
    icmpType: { type: 'integer', description: 'ICMP type 0-255, or -1 (default) for any.' },
    icmpCode: { type: 'integer', description: 'ICMP code 0-255, or -1 (default) for any.' },
    cidr: { type: 'string', description: 'Source network, e.g. "0.0.0.0/0".' },
    sourceGroup: { type: 'string', description: 'Source group "owner/name": its subnet block.' },
  },
};

const group = {
  type: 'object',
  required: ['owner', 'name'],
  additionalProperties: false,
  properties: {
    owner: { ...name, description: 'The user owning the group (e.g. "admin").' },
    name: { ...name, maxLength: 128, description: 'The group name (e.g. "default").' },
    vlan: {
      type: 'integer',
      description:
        'Network index 1-4094 inside vlanRange: the 802.1Q tag (vlan), the VNI (vxlan), or only ' + 'an index (none). Allocated (lowest free) when absent.',
    },
    subnet: {
      type: 'string',
      description:
        'The group block, a CIDR of addrsPerNet addresses inside subnet, e.g. "10.1.2.0/27". ' +
        'Gateway = block + 1. When absent: the Eucalyptus block of the VLAN, ' +
        'subnet + (vlan - 2) * addrsPerNet, if free, else the lowest free block.',
    },
    rules: { type: 'array', items: rule },
  },
};

const instance = {
  type: 'object',
  required: ['id', 'group', 'node'],
  additionalProperties: false,
  properties: {
    id: { ...name, description: 'Instance id, e.g. "i-1".' },
    group: { type: 'string', description: 'Its security group, "owner/name".' },
    node: { type: 'string', description: 'The node (a key of nodes) that runs it.' },
    port: { ...ifname, description: 'Its tap or veth on the node, e.g. "vnet1". Allocated (vnetN) when absent.' },
    privateIp: {
      type: 'string',
      description: "Address inside its group's block. Allocated (lowest free from block + 2) when absent.",
    },
    mac: { type: 'string', description: 'Unicast MAC. When absent: macPrefix + the 4 bytes of privateIp.' },
    publicIp: {
      type: ['string', 'boolean'],
      description: 'An address of the public pool, or true to have one allocated; false or absent for none.',
    },
  },
};

const host = (extra: Record<string, unknown>) => ({
  type: 'object',
  required: ['privateInterface', ...Object.keys(extra)],
  additionalProperties: false,
  properties: { ...extra, privateInterface: ifname, underlay },
});

export const stateSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'urn:eucanet:managed-state',
  title: 'eucanet desired state (Eucalyptus MANAGED network)',
  type: 'object',
  required: ['mode', 'subnet', 'addrsPerNet'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    mode: { enum: ['MANAGED', 'MANAGED-NOVLAN'], description: 'VNET_MODE.' },
    segmentation: {
      enum: ['vlan', 'vxlan', 'none', 'auto'],
      description:
        'Group isolation on the private network: vlan (802.1Q, MANAGED default), vxlan (needs ' +
        'underlay addresses on cc and every node), none (MANAGED-NOVLAN, its only choice), auto ' +
        '(MANAGED: vlan where the kernel has 802.1Q, else vxlan, decided by each host as it applies).',
    },
    vxlanFlood: {
      enum: ['unicast', 'multicast'],
      description:
        'How VXLAN segments flood broadcast and unknown traffic to the other hosts (segmentation vxlan; ' +
        'ignored otherwise): unicast (the default: one copy to each host carrying the group, through ' +
        'all-zeros FDB entries; needs no multicast in the underlay) or multicast (group 239.1.1.1 on the private NIC).',
    },
    vxlanMacs: {
      enum: ['learn', 'static'],
      description:
        'With VXLAN unicast flooding, how a host reaches an instance MAC on another node: learn (the default: ' +
        'the VXLAN device learns it from received frames; only the flood lists are written, so a run-instance ' +
        'or terminate changes its node and the CC alone) or static (one permanent FDB entry per instance MAC ' +
        'on every host carrying its group: unicast never floods, but every such host changes with each instance).',
    },
    subnet: { type: 'string', description: 'VNET_SUBNET/VNET_NETMASK as a CIDR, e.g. "10.1.0.0/16".' },
    addrsPerNet: { type: 'integer', description: 'VNET_ADDRSPERNET: a power of two, 16..2048.' },
    vlanRange: {
      type: 'array',
      prefixItems: [{ type: 'integer' }, { type: 'integer' }],
      items: false,
      minItems: 2,
      description: 'Inclusive [first, last] VLAN numbers for groups, within 1-4094. Default [10, 4094].',
    },
    publicIps: {
      type: 'array',
      items: { type: 'string' },
      description: 'VNET_PUBLICIPS: addresses, CIDRs or "a-b" ranges.',
    },
    dns: { type: 'string', description: 'VNET_DNS: the name server given to instances by DHCP.' },
    metadata: {
      type: 'string',
      description: 'The CLC metadata endpoint "ip:port" (VNET_CLOUDIP:8773), target of 169.254.169.254:80.',
    },
    macPrefix: { type: 'string', description: 'VNET_MACPREFIX: two bytes, default "d0:0d".' },
    cc: host({ publicInterface: ifname }),
    nodes: {
      type: 'object',
      description: 'Node controllers by name.',
      propertyNames: name,
      additionalProperties: host({}),
    },
    clusters: {
      type: 'object',
      description: 'Multi-cluster form, instead of cc and nodes: clusters by name, each { cc, nodes }.',
      propertyNames: name,
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        required: ['cc'],
        additionalProperties: false,
        properties: {
          cc: host({ publicInterface: ifname, tunnelAddress: { type: 'string', description: 'Address other CCs tunnel to.' } }),
          nodes: { type: 'object', propertyNames: name, additionalProperties: host({}) },
        },
      },
    },
    groups: { type: 'array', items: group },
    instances: { type: 'array', items: instance },
    reservedIps: {
      type: 'array',
      items: { type: 'string' },
      description: 'Public addresses allocated (allocate-address) but not associated with an instance: kept out of the pool.',
    },
  },
} as const;
