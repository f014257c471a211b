// Golden-byte fixtures of test/fixtures/rtnl (see its README): the request `ip`
// or `bridge` sent, its command, and the namespace's ifindexes, which a fake
// Resolver hands to our encoders.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Request } from '../../src/netlink/socket.js';
import { NlWriter } from '../../src/netlink/writer.js';
import type { Resolver } from '../../src/rtnl/kinds/index.js';

export const RTNL_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/rtnl');

export interface Golden {
  command: string;
  ifindex: Map<string, number>;
  bytes: Buffer;
}

export function golden(name: string): Golden {
  const lines = readFileSync(join(RTNL_FIXTURES, `${name}.hex`), 'utf8').split('\n');
  const command = lines.find((l) => /^# (ip|bridge) /.test(l))!.slice(2);
  const ifindex = new Map<string, number>();
  for (const pair of lines
    .find((l) => l.startsWith('# ifindex:'))
    ?.slice('# ifindex:'.length)
    .trim()
    .split(/\s+/) ?? []) {
    const [n, i] = pair.split('=');
    ifindex.set(n, Number(i));
  }
  return { command, ifindex, bytes: Buffer.from(lines.filter((l) => l && !l.startsWith('#')).join(''), 'hex') };
}

export function goldenResolver(f: Golden): Resolver {
  return {
    index(ref) {
      if (typeof ref === 'number') return ref;
      const i = f.ifindex.get(ref);
      if (i === undefined) throw new Error(`fixture has no ifindex for ${ref}`);
      return i;
    },
    netnsFd: () => {
      throw new Error('no namespace fds in these fixtures');
    },
  };
}

/** 16 bytes a line, sequence number and port zeroed, so a mismatch shows as a readable diff. */
function rows(b: Buffer): string {
  const c = Buffer.from(b);
  c.fill(0, 8, 16);
  return c
    .toString('hex')
    .replace(/(.{32})/g, '$1\n')
    .trim();
}

export function expectGolden(req: Request, f: Golden): void {
  const w = new NlWriter(64);
  req.encode(w, 0);
  expect(rows(Buffer.from(w.bytes()))).toBe(rows(f.bytes));
}
