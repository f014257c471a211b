// The addon's exchange (native/netlink_socket.cc), issue 12 section 5:
// - the request's bytes are copied when the call is made, so a caller that
//   detaches or reuses its buffer while the worker thread runs cannot change
//   (or free) what is sent;
// - chunkEnds and expects must be Uint32Arrays: another typed array read as
//   32-bit elements would send the wrong bytes, so it is a TypeError;
// - a big reply's buffer is kept for a later reply once JavaScript has let go
//   of it (native/gather_buffer.h), and never while it is held.
import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native.js';
import { NLMSG_ERROR } from '../../src/netlink/constants.js';
import { splitMessages } from '../../src/netlink/reader.js';
import { NlWriter } from '../../src/netlink/writer.js';
import { RTM_NEWLINK } from '../../src/rtnl/constants.js';
import { decodeLink, LinkDumpRequest, LinkGetRequest } from '../../src/rtnl/link.js';
import { gcFunction } from '../helpers/gc.js';
import { ipLinks, isRoot, withHandle } from '../helpers/netns.js';

const NETLINK_ROUTE = 0;

/** RTM_GETLINK for lo (ifindex 1), in a buffer of its own. */
function getLo(): ArrayBuffer {
  const w = new NlWriter(256);
  new LinkGetRequest(1).encode(w, 4242);
  const bytes = w.bytes();
  const ab = new ArrayBuffer(bytes.length);
  new Uint8Array(ab).set(bytes);
  return ab;
}

/** The link names in a dump's reply, sorted. */
const dumpedNames = (reply: Buffer): string[] =>
  [...splitMessages(reply)]
    .filter((m) => m.type === RTM_NEWLINK)
    .map((m) => decodeLink(m).name)
    .sort();

/** Collects garbage and lets the finalizers it queued run; returns the reply pool then. */
async function collected(): Promise<{ buffers: number; bytes: number }> {
  const gc = gcFunction();
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  return addon.replyPool();
}

/** Keeps every libuv worker thread busy for a while, so that a queued job starts late. */
function busyThreadpool(): Promise<unknown> {
  const size = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const run = promisify(pbkdf2);
  return Promise.all(Array.from({ length: size * 2 }, () => run('x', 'y', 150_000, 32, 'sha256')));
}

describe.skipIf(!isRoot)('the addon exchange (root)', () => {
  it('sends the bytes as they were at the call, even if the buffer is detached and overwritten meanwhile', async () => {
    const sock = new addon.NetlinkSocket(NETLINK_ROUTE, null);
    try {
      const ab = getLo();
      const len = ab.byteLength;
      const busy = busyThreadpool();
      const p = sock.exchange(Buffer.from(ab), Uint32Array.of(len), Uint32Array.of(1), false);
      // Detach: the memory moves to a new owner, who zeroes it before the worker runs.
      const moved = structuredClone(ab, { transfer: [ab] });
      new Uint8Array(moved).fill(0);
      expect(ab.byteLength).toBe(0);
      const reply = await p;
      await busy;
      const msgs = [...splitMessages(reply)];
      const link = msgs.find((m) => m.type !== NLMSG_ERROR && m.seq === 4242);
      expect(link, 'the kernel answered the request as it was encoded').toBeDefined();
      expect(decodeLink(link!).name).toBe('lo');
    } finally {
      sock.close();
    }
  });

  it('refuses chunkEnds and expects that are not Uint32Arrays, before anything is sent', () => {
    const sock = new addon.NetlinkSocket(NETLINK_ROUTE, null);
    try {
      const buf = Buffer.from(getLo());
      const u32 = Uint32Array.of(buf.length);
      const one = Uint32Array.of(1);
      const call = (ends: unknown, expects: unknown) => () => (sock.exchangeSync as (...a: unknown[]) => Buffer)(buf, ends, expects, false);
      expect(call(Float64Array.of(buf.length), one)).toThrow(/chunkEnds must be a Uint32Array/);
      expect(call(Int32Array.of(buf.length), one)).toThrow(/chunkEnds must be a Uint32Array/);
      expect(call([buf.length], one)).toThrow(/chunkEnds must be a Uint32Array/);
      expect(call(u32, Float64Array.of(1))).toThrow(/expects must be a Uint32Array/);
      expect(call(u32, new Uint8Array(4))).toThrow(/expects must be a Uint32Array/);
      expect(() => (sock.exchangeSync as (...a: unknown[]) => Buffer)('not bytes', u32, one, false)).toThrow(/buf must be a Buffer or Uint8Array/);
      // The same call with the right types works: the socket is fine.
      const reply = sock.exchangeSync(buf, u32, one, false);
      expect([...splitMessages(reply)].some((m) => m.type !== NLMSG_ERROR)).toBe(true);
    } finally {
      sock.close();
    }
  });

  it("keeps a big reply's buffer for a later reply once it is let go, and never reuses it while held", async () => {
    await withHandle(async (h, ns) => {
      // 80 bridges: a link dump of more than 64 KiB (the pool's smallest).
      const tx = h.transaction();
      for (let i = 0; i < 80; i++) tx.addLink({ kind: 'bridge', name: `br${i}` });
      await tx.commit();
      const want = ipLinks(ns)
        .map((l) => String(l.ifname))
        .sort();
      const dump = (): Promise<Buffer> => {
        const w = new NlWriter(256);
        new LinkDumpRequest().encode(w, h.rtnl.nextSeq());
        const buf = Buffer.from(w.bytes());
        return h.rtnl.exchange(buf, [buf.length], [0], true);
      };
      const before = await collected();
      const held = async () => {
        const a = await dump();
        expect(a.length).toBeGreaterThan(64 * 1024);
        const copy = Buffer.from(a);
        const b = await dump();
        // b was made while a was held: a is intact, and both are whole dumps.
        expect(a.equals(copy)).toBe(true);
        expect(dumpedNames(a)).toEqual(want);
        expect(dumpedNames(b)).toEqual(want);
      };
      await held();
      // Let go of: both replies' buffers are kept.
      const kept = await collected();
      expect(kept.buffers).toBe(before.buffers + 2);
      expect(kept.bytes).toBeGreaterThan(before.bytes + 2 * 64 * 1024);
      // The next reply is made in one of them, and is the kernel's answer.
      const c = await dump();
      expect(addon.replyPool().buffers).toBe(kept.buffers - 1);
      expect(dumpedNames(c)).toEqual(want);
    });
  });
});
