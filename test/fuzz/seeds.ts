// Real kernel replies captured into test/fixtures, as seeds for the decoder
// fuzz test and the malformed-input tests: rtnetlink dumps (links, addresses,
// IPv4 and IPv6 routes), nftables ruleset dumps, and NLMSG_ERROR replies.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  for (const n of ['dump-link', 'dump-addr', 'dump-route4', 'dump-route6']) {
    out.push({ name: `rtnl/${n}`, family: 'rtnl', bytes: hexOf(read(`rtnl/${n}.hex`)) });
  }
  for (const n of ['seed', 'sets', 'misc', 'anon']) {
    out.push({ name: `nft/${n}.dump`, family: 'nft', bytes: hexOf(read(`nft/${n}.dump.hex`)) });
  }
  for (const [n, b] of errorReplies()) out.push({ name: `netlink/errors#${n}`, family: n.startsWith('nft') ? 'nft' : 'rtnl', bytes: b });
  return out;
}
