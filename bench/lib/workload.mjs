// The "instances" workload, the same for every approach. Instance i:
//   tap      vnet<i>, device group 4200, in bridge eucabr<10 + i % G>, up
//   public   pub(i)/32 on eth0 (the public NIC)
//   private  priv(i), the address the public one is NATed to
//   NAT      a DNAT pub(i) -> priv(i) and an SNAT priv(i) -> pub(i), as map
//            elements (eucanet, ip -batch + nft -f, the C floor) or as two
//            rules (fork per op, as Eucalyptus did)
// Each run gets a fresh namespace holding eth0 (a veth end, up) and the G
// group bridges (stp off, forward delay 0), made outside the timing.
//
// G is 4, or more where 4 bridges cannot hold N ports: the kernel allows a
// bridge at most 1023 ports (BR_MAX_PORTS is 1024 and port 0 is reserved;
// the 1024th gets EXFULL), so N=5000 uses 5 groups of 1000.
/**
 * One way of doing the workload (bench/approaches/): each phase returns its time in milliseconds.
 * @typedef {object} Approach
 * @property {string} id
 * @property {string} label
 * @property {string} nat           'map', 'rules' or 'none'
 * @property {boolean} [warmup]        warm runs first (a long-lived worker)
 * @property {number} [processes]      with `renew`: the counted runs split over this many worker processes
 * @property {() => Promise<void>} [renew]  replaces the long-lived worker with a fresh process
 * @property {(n: number) => unknown} [begin]
 * @property {(ns: string, n: number) => Promise<void>} [open]
 * @property {(ns: string, n: number) => Promise<number>} up
 * @property {(ns: string, n: number) => Promise<number>} reconcile
 * @property {(ns: string, n: number) => Promise<number>} down
 * @property {() => Promise<void>} [close]
 * @property {() => unknown} [end]
 */

export const MAX_PORTS = 1023;
/** @param {number} n */
export const groupsFor = (n) => Math.max(4, Math.ceil(n / MAX_PORTS));
export const PORT_GROUP = 4200;
export const TABLE = 'eucanet';

/** @param {number} i */
export const tap = (i) => `vnet${i}`;
/** @param {number} i @param {number} n */
export const bridge = (i, n) => `eucabr${10 + (i % groupsFor(n))}`;
/** @param {number} i */
export const pub = (i) => `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
/** @param {number} i */
export const priv = (i) => `10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
/** @param {number} n */
export const bridges = (n) => Array.from({ length: groupsFor(n) }, (_, g) => `eucabr${10 + g}`);

/** @param {number} n */
const range = (n) => Array.from({ length: n }, (_, i) => i);

/** The table, its two NAT chains and the two maps, as nft commands. */
export function nftPreamble() {
  return [
    `add table ip ${TABLE}`,
    `add chain ip ${TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }`,
    `add chain ip ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }`,
    `add map ip ${TABLE} pub2priv { type ipv4_addr : ipv4_addr; }`,
    `add map ip ${TABLE} priv2pub { type ipv4_addr : ipv4_addr; }`,
    `add rule ip ${TABLE} prerouting dnat to ip daddr map @pub2priv`,
    `add rule ip ${TABLE} postrouting ip daddr != 10.0.0.0/8 snat to ip saddr map @priv2pub`,
  ];
}

/** One `nft -f` file: the preamble and every element (map form). */
/** @param {number} n */
export function nftFile(n) {
  const els = (/** @type {(i: number) => string} */ f) => range(n).map(f).join(', ');
  return [
    ...nftPreamble(),
    `add element ip ${TABLE} pub2priv { ${els((i) => `${pub(i)} : ${priv(i)}`)} }`,
    `add element ip ${TABLE} priv2pub { ${els((i) => `${priv(i)} : ${pub(i)}`)} }`,
    '',
  ].join('\n');
}

/** One `ip -batch` file bringing every instance up. @param {number} n */
export function ipBatchUp(n) {
  const l = [];
  for (let i = 0; i < n; i++) l.push(`tuntap add dev ${tap(i)} mode tap`);
  for (let i = 0; i < n; i++) l.push(`link set dev ${tap(i)} group ${PORT_GROUP} master ${bridge(i, n)} up`);
  for (let i = 0; i < n; i++) l.push(`address add ${pub(i)}/32 dev eth0`);
  return l.join('\n') + '\n';
}

/** One `ip -batch` file taking every instance down (the taps as one device group). @param {number} n */
export function ipBatchDown(n) {
  const l = [`link delete group ${PORT_GROUP}`];
  for (let i = 0; i < n; i++) l.push(`address delete ${pub(i)}/32 dev eth0`);
  return l.join('\n') + '\n';
}

/**
 * Fork per operation, as Eucalyptus' scripts did: a shell script whose every
 * line is one `ip` or `nft` process. NAT is two rules per instance (the
 * linear ruleset), since per-op tools add a rule per instance.
 * @param {number} n
 */
export function forkUp(n) {
  const l = [
    'set -e',
    `nft add table ip ${TABLE}`,
    `nft 'add chain ip ${TABLE} prerouting { type nat hook prerouting priority dstnat; policy accept; }'`,
    `nft 'add chain ip ${TABLE} postrouting { type nat hook postrouting priority srcnat; policy accept; }'`,
  ];
  for (let i = 0; i < n; i++) {
    l.push(`ip tuntap add dev ${tap(i)} mode tap`);
    l.push(`ip link set dev ${tap(i)} group ${PORT_GROUP} master ${bridge(i, n)} up`);
    l.push(`ip address add ${pub(i)}/32 dev eth0`);
    l.push(`nft add rule ip ${TABLE} prerouting ip daddr ${pub(i)} dnat to ${priv(i)}`);
    l.push(`nft add rule ip ${TABLE} postrouting ip saddr ${priv(i)} ip daddr != 10.0.0.0/8 snat to ${pub(i)}`);
  }
  return l.join('\n') + '\n';
}

/** Per-op re-apply: one process asking after each object (exists or not). @param {number} n */
export function forkCheck(n) {
  const l = ['set -e'];
  for (let i = 0; i < n; i++) {
    l.push(`ip link show dev ${tap(i)} >/dev/null`);
    l.push(`ip address show dev eth0 to ${pub(i)}/32 | grep -q inet`);
  }
  l.push(`nft list chain ip ${TABLE} prerouting >/dev/null`, `nft list chain ip ${TABLE} postrouting >/dev/null`);
  return l.join('\n') + '\n';
}

/** Per-op teardown: each tap deleted on its own (as a hypervisor does), each address, then the table. @param {number} n */
export function forkDown(n) {
  const l = ['set -e'];
  for (let i = 0; i < n; i++) {
    l.push(`ip link delete dev ${tap(i)}`);
    l.push(`ip address delete ${pub(i)}/32 dev eth0`);
  }
  l.push(`nft delete table ip ${TABLE}`);
  return l.join('\n') + '\n';
}
