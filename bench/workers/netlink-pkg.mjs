// The npm `netlink` package (mildsunrise/node_netlink) doing the rtnetlink part
// of the instances workload. It has no nftables and no tun/tap support, so the
// taps are made with the same TUNSETIFF/TUNSETPERSIST ioctls eucanet uses (its
// addon; Node has no ioctl), and NAT is not done at all: the row covers links
// and addresses only. Its sockets open in the process's namespace, so
// bench/run.mjs starts one worker per run inside the run's namespace
// (nsenter), warms it up there, then drives the timed phases over IPC.
//   up         taps; then setLink (master, group, up) and newAddress for each,
//              256 requests in flight at a time
//   reconcile  getLinks + getAddresses dumps, compared with the wanted state
//   down       delLink by device group 4200, then delAddress for each
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { must } from '../lib/stats.mjs';
import { PORT_GROUP, bridge, bridges, pub, tap } from '../lib/workload.mjs';

const require = createRequire(import.meta.url);
const { createRtNetlink, FlagsNew } = require('netlink');
const dist = join(fileURLToPath(new URL('.', import.meta.url)), '../../dist');
const { addon } = await import(join(dist, 'native.js'));

const AF_INET = 2;
const ipBuf = (/** @type {string} */ ip) => Buffer.from(ip.split('.').map(Number));

const rt = createRtNetlink();

// Requests in flight at once. With all of N=1000's 2000 at once the package
// aborts the process ("Error in native callback": its receive overflows), so
// they go in windows, each awaited.
const WINDOW = 256;
/**
 * @param {number} n
 * @param {(i: number) => Promise<unknown>} fn
 */
async function windowed(n, fn) {
  for (let i = 0; i < n; i += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, n - i) }, (_, k) => fn(i + k)));
  }
}

async function indexes() {
  const links = await rt.getLinks();
  const byName = new Map();
  for (const l of links) byName.set(l.attrs.ifname, l.data.index);
  return byName;
}

/** @param {number} n */
async function up(n) {
  const t0 = performance.now();
  addon.tapCreate(
    null,
    Array.from({ length: n }, (_, i) => tap(i)),
    {},
    true,
  );
  const idx = await indexes();
  const eth0 = idx.get('eth0');
  await windowed(n, (i) =>
    rt.setLink({ index: idx.get(tap(i)), flags: { up: true }, change: { up: true } }, { master: idx.get(bridge(i, n)), group: PORT_GROUP }),
  );
  await windowed(n, (i) =>
    rt.newAddress(
      { family: AF_INET, prefixlen: 32, index: eth0 },
      { local: ipBuf(pub(i)), address: ipBuf(pub(i)) },
      { flags: FlagsNew.CREATE | FlagsNew.EXCL },
    ),
  );
  return { ms: performance.now() - t0 };
}

/** @param {number} n */
async function check(n) {
  const t0 = performance.now();
  // One dump at a time: a netlink socket runs one dump at once.
  const links = await rt.getLinks();
  const addrs = await rt.getAddresses({ family: AF_INET });
  const byName = new Map(links.map((l) => [l.attrs.ifname, l]));
  const brIdx = new Map(bridges(n).map((b) => [b, byName.get(b)?.data.index]));
  const eth0 = must(byName.get('eth0')).data.index;
  const have = new Set(addrs.filter((a) => a.data.index === eth0 && a.data.prefixlen === 32).map((a) => [...must(a.attrs.local)].join('.')));
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const l = byName.get(tap(i));
    if (!l || !l.data.flags?.up || l.attrs.master !== brIdx.get(bridge(i, n)) || l.attrs.group !== PORT_GROUP) bad++;
    if (!have.has(pub(i))) bad++;
  }
  const ms = performance.now() - t0;
  if (bad) throw new Error(`netlink package: ${bad} objects differ from the wanted state`);
  return { ms, ops: 0 };
}

/** @param {number} n */
async function down(n) {
  const t0 = performance.now();
  const idx = await indexes();
  const eth0 = idx.get('eth0');
  await rt.delLink({}, { group: PORT_GROUP });
  await windowed(n, (i) => rt.delAddress({ family: AF_INET, prefixlen: 32, index: eth0 }, { local: ipBuf(pub(i)), address: ipBuf(pub(i)) }));
  return { ms: performance.now() - t0 };
}

const phases = { up, reconcile: check, down };

/**
 * Sends to the parent over the IPC channel (bench/lib/worker.mjs forks this file with one).
 * @param {object} msg
 */
function send(msg) {
  if (!process.send) throw new Error('bench worker: no IPC channel (start it through bench/lib/worker.mjs)');
  process.send(msg);
}

/** Answers one request from the parent; every failure is sent back, never thrown.
 * @param {any} m  the parent's request (JSON over IPC)
 */
async function onMessage(m) {
  try {
    if (m.cmd === 'warmup') {
      // Same work at a small size in this namespace, then undone: JIT warm, as a daemon is.
      const w = Math.min(m.n, 100);
      await up(w);
      await check(w);
      await down(w);
      return send({ id: m.id, ms: 0 });
    }
    send({ id: m.id, ...(await phases[/** @type {keyof typeof phases} */ (m.cmd)](m.n)) });
  } catch (err) {
    send({ id: m.id, error: String(/** @type {{ stack?: string } | undefined} */ (err)?.stack ?? err) });
  }
}
process.on('message', (m) => void onMessage(m));
process.on('disconnect', () => {
  rt.socket.close?.();
  process.exit(0);
});
