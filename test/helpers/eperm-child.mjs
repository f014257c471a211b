// Child process for test/integration/native-eperm.test.ts, run with a
// capability dropped: tries each kind of kernel request and prints one JSON
// line per attempt with the error it got.
//   node eperm-child.mjs <path of dist/index.js> [netns]
const [lib, netns] = process.argv.slice(2);
const { open, nft } = await import(lib);

// (The library is loaded from a path given at run time: its Handle is untyped here.)
/** @type {Record<string, (h: any) => Promise<unknown>>} */
const attempts = {
  'link add': (h) => h.links.add({ kind: 'bridge', name: 'eucabr10' }),
  'tap create': (h) => h.taps.create('vnet9'),
  'sysctl write': (h) => h.sysctl.set('net.ipv4.ip_forward', 1),
  'nft batch': async () => {
    const n = nft.openNft(netns ? { netns } : {});
    try {
      await n.batch().addTable({ family: 'inet', name: 'eucanet' }).commit();
    } finally {
      n.close();
    }
  },
  transaction: (h) => h.transaction().addLink({ kind: 'bridge', name: 'eucabr11' }).commit(),
};

let h;
try {
  h = open(netns ? { netns } : {});
} catch (e) {
  const err = /** @type {NodeJS.ErrnoException} */ (e);
  console.log(JSON.stringify({ what: 'open', name: err.name, code: err.code, message: err.message }));
  process.exit(0);
}
for (const [what, fn] of Object.entries(attempts)) {
  try {
    await fn(h);
    console.log(JSON.stringify({ what, ok: true }));
  } catch (e) {
    const err = /** @type {NodeJS.ErrnoException} */ (e);
    console.log(JSON.stringify({ what, name: err.name, code: err.code, message: err.message }));
  }
}
h.close();
