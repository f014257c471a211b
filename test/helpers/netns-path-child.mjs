// Child process for test/integration/native-netns-path.test.ts: tries every
// way the library enters a namespace given by path (or fd) and prints one JSON
// line per attempt. Run as a child so that a call that hangs (a FIFO opened
// blocking) is killed by the parent's timeout instead of hanging the runner.
//   node netns-path-child.mjs <path of dist/index.js> <netns path | fd:path>...
import { openSync, constants as fsc } from 'node:fs';

const [lib, ...paths] = process.argv.slice(2);
const { open, readSysctl, nft, checkNetns } = await import(lib);
const { addon } = await import(new URL('native.js', new URL(lib, 'file:///')).href);

/** @type {Record<string, (ns: string | number) => Promise<unknown>>} */
const ways = {
  'rtnetlink socket': async (ns) => open({ netns: ns }).close(),
  'nftables socket': async (ns) => nft.openNft({ netns: ns }).close(),
  sysctl: async (ns) => readSysctl(ns, 'net.ipv4.ip_forward'),
  // The check alone, for callers that hand the namespace to another program.
  check: async (ns) => checkNetns(ns),
  // The tap jobs enter the namespace by themselves (no socket first).
  'tap create': async (ns) => addon.tapCreate(ns, ['eutpath0'], {}, false),
  'tap delete': async (ns) => addon.tapDelete(ns, ['eutpath0'], {}, false),
};

for (const given of paths) {
  // "fd:PATH" passes an fd of PATH (opened read-write and non-blocking, so a
  // FIFO does not wait) instead of the path.
  const ns = given.startsWith('fd:') ? openSync(given.slice(3), fsc.O_RDWR | fsc.O_NONBLOCK) : given;
  for (const [way, fn] of Object.entries(ways)) {
    const t0 = Date.now();
    try {
      await fn(ns);
      console.log(JSON.stringify({ given, way, ok: true, ms: Date.now() - t0 }));
    } catch (e) {
      const err = /** @type {NodeJS.ErrnoException} */ (e);
      console.log(JSON.stringify({ given, way, ok: false, ms: Date.now() - t0, name: err.name, code: err.code, message: err.message }));
    }
  }
}
