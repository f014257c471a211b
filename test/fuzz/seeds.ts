// Real kernel replies captured into test/fixtures, as seeds for the decoder
// fuzz test and the malformed-input tests: rtnetlink dumps (links, addresses,
// IPv4 and IPv6 routes), nftables ruleset dumps, and NLMSG_ERROR replies.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { NlWriter } from '../../src/netlink/writer.js';
import { IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MTU, IFLA_VLAN_ID, IFLA_VLAN_PROTOCOL } from '../../src/rtnl/attrs.js';
import { RTM_NEWLINK } from '../../src/rtnl/constants.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');

export type Family = 'rtnl' | 'nft';

export interface Seed {
  /** Where it came from: "rtnl/dump-link", "netlink/errors#link-kind". */
  name: string;
  family: Family;
  /** A whole reply: back-to-back netlink messages. */
  bytes: Buffer;
}

const hexOf = (lines: string[]) => Buffer.from(lines.filter((l) => l && !l.startsWith('#')).join(''), 'hex');
const read = (path: string) => readFileSync(join(fixtures, path), 'utf8').split('\n');

/** The NLMSG_ERROR replies of test/fixtures/netlink/errors.hex, by case name. */
export function errorReplies(): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let name = '';
  let lines: string[] = [];
  const flush = () => name && out.set(name, hexOf(lines));
  for (const l of read('netlink/errors.hex')) {
    const m = /^# ([\w-]+): /.exec(l);
    if (m) {
      flush();
      name = m[1]!;
      lines = [];
    } else lines.push(l);
  }
  flush();
  return out;
}

export function seeds(): Seed[] {
  const out: Seed[] = [];
  for (const n of ['dump-link', 'dump-addr', 'dump-route4', 'dump-route6', 'dump-neigh4', 'dump-neigh6', 'dump-fdb']) {
    out.push({ name: `rtnl/${n}`, family: 'rtnl', bytes: hexOf(read(`rtnl/${n}.hex`)) });
  }
  for (const n of ['seed', 'sets', 'misc', 'anon']) {
    out.push({ name: `nft/${n}.dump`, family: 'nft', bytes: hexOf(read(`nft/${n}.dump.hex`)) });
  }
  out.push({ name: 'synthetic/link-vlan', family: 'rtnl', bytes: vlanLink() });
  for (const [n, b] of errorReplies()) out.push({ name: `netlink/errors#${n}`, family: n.startsWith('nft') ? 'nft' : 'rtnl', bytes: b });
  return out;
}

/**
 * The one kind this kernel cannot report (no 8021q): an RTM_NEWLINK of a VLAN
 * laid out as the kernel lays it out (rtnl_fill_ifinfo, vlan_fill_info), so
 * that the vlan decoder is fuzzed too. Built here, not captured.
 */
function vlanLink(): Buffer {
  const w = new NlWriter(256);
  w.beginMessage(RTM_NEWLINK, 2 /* NLM_F_MULTI */, 1);
  w.rawU8(0);
  w.rawU8(0);
  w.rawU16(1 /* ARPHRD_ETHER */);
  w.rawI32(9);
  w.rawU32(0x1003);
  w.rawU32(0);
  w.str(IFLA_IFNAME, 'br0.10');
  w.u32(IFLA_MTU, 1500);
  w.u32(IFLA_LINK, 2);
  const info = w.nestStart(IFLA_LINKINFO);
  w.str(IFLA_INFO_KIND, 'vlan');
  const data = w.nestStart(IFLA_INFO_DATA);
  w.u16be(IFLA_VLAN_PROTOCOL, 0x8100);
  w.u16(IFLA_VLAN_ID, 10);
  w.nestEnd(data);
  w.nestEnd(info);
  w.endMessage();
  return Buffer.from(w.bytes());
}
