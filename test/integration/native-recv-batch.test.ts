// The addon reads a pipelined exchange's replies with recvmmsg(), every
// datagram queued in one system call, not one recv() per ack. Checked with
// strace (an independent count of the system calls) on a child process that
// sends 256 NLMSG_NOOP requests asking for acks: the kernel acks each without
// touching any state, so it runs in the caller's own namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../helpers/netns.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const hasStrace = spawnSync('strace', ['-V']).status === 0;
if (!isRoot || !hasStrace) console.warn('test/integration/native-recv-batch.test.ts: skipped, needs root and strace');

const N = 256;
const CHILD = `
const { createRequire } = require('node:module');
const req = createRequire(${JSON.stringify(join(root, 'package.json'))});
const addon = req(req('node-gyp-build').path(${JSON.stringify(root)}));
const NLMSG_NOOP = 1, NLM_F_REQUEST = 1, NLM_F_ACK = 4, NETLINK_ROUTE = 0;
const sock = new addon.NetlinkSocket(NETLINK_ROUTE, null);
const buf = Buffer.alloc(16 * ${N});
for (let i = 0; i < ${N}; i++) {
  buf.writeUInt32LE(16, i * 16);
  buf.writeUInt16LE(NLMSG_NOOP, i * 16 + 4);
  buf.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, i * 16 + 6);
  buf.writeUInt32LE(1000 + i, i * 16 + 8);
}
sock.exchange(buf, Uint32Array.of(buf.length), Uint32Array.of(${N}), false).then((out) => {
  const seqs = [];
  for (let o = 0; o + 16 <= out.length; o += out.readUInt32LE(o)) {
    if (out.readUInt16LE(o + 4) === 2 /* NLMSG_ERROR */ && out.readInt32LE(o + 16) === 0) seqs.push(out.readUInt32LE(o + 8));
  }
  sock.close();
  process.stdout.write(JSON.stringify(seqs));
});
`;

describe.skipIf(!isRoot || !hasStrace)('the addon reads replies in batches (root, strace)', () => {
  it('receives the 256 acks of one pipelined chunk in far fewer than 256 system calls', () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanet-recv-'));
    try {
      const script = join(dir, 'child.cjs');
      const trace = join(dir, 'trace');
      writeFileSync(script, CHILD);
      const out = execFileSync('strace', ['-f', '-qq', '-e', 'trace=sendto,recvfrom,recvmsg,recvmmsg', '-o', trace, process.execPath, script], {
        encoding: 'utf8',
      });
      // Every ack came back, in order.
      expect(JSON.parse(out)).toEqual(Array.from({ length: N }, (_, i) => 1000 + i));
      // The netlink socket's receive calls: those on the fd the NOOPs were sent on.
      const lines = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => !l.includes('resumed>'));
      const nlFd = lines.map((l) => /sendto\((\d+), \[\{nlmsg_len=16, nlmsg_type=NLMSG_NOOP/.exec(l)?.[1]).find((x) => x !== undefined);
      expect(nlFd).toBeDefined();
      const calls = lines.filter((l) => new RegExp(`(recvfrom|recvmsg|recvmmsg)\\(${nlFd},`).test(l));
      // Before: one recv() per ack (256), and one more to find the queue empty.
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.length).toBeLessThanOrEqual(N / 16);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
