// The floor of the control-plane benchmark's fleet (bench/control-plane.mjs
// --echo): a process that does only what any agent must do for every state
// version, and nothing of eucanet's. It reads the state prefix once, as an
// agent's first read does, keeps a 10 s lease alive, watches the prefix, and
// for each watch response puts its status (host, role, node, the newest
// revision heard of) under the lease. No state is assembled or checked, no
// plan is made, no kernel is asked anything. It goes over the same transport
// as `eucanet agent --etcd` (the lean HTTP/2 channel, the hand-written watch
// and lease codecs), so the fleet of these on the same machine is the least
// the benchmark's shape can cost: what is above it is eucanet's.
//
// Usage: node bench/lib/echo-agent.mjs URL CLOUD HOST
// Prints one JSON line per status put ({"event":"sync","version":"N","mode":"echo"}).
import { statePrefix } from '../../dist/store/etcd-layout.js';
import { statusKey } from '../../dist/store/etcd-status.js';
import { EtcdRangeClient, rangeAll } from '../../dist/store/etcd-range.js';
import { LeanLease } from '../../dist/store/etcd-lease-lean.js';
import { LeanWatch } from '../../dist/store/etcd-watch-lean.js';

const [url, cloud, host] = process.argv.slice(2);
if (!url || !cloud || !host) throw new Error('usage: echo-agent.mjs URL CLOUD HOST');
const client = new EtcdRangeClient({ urls: [url], timeoutMs: 30_000 });
const prefix = statePrefix(cloud);
const first = await rangeAll(client.range, prefix);
let version = first.kvs.reduce((n, kv) => Math.max(n, kv.modRevision), 0);
const lease = new LeanLease(client, 10);
await lease.grant();
const role = host === 'cc' ? 'cc' : 'nc';
const key = statusKey(cloud, host);
let putting = false;
let dirty = false;
/** Puts the status at the newest version heard of; one put at a time, the last version always put. */
async function publish() {
  if (putting) return void (dirty = true);
  putting = true;
  try {
    do {
      dirty = false;
      const v = version;
      await lease.put(key, JSON.stringify({ host, role, ...(role === 'nc' ? { node: host } : {}), revision: v, syncAt: Date.now() }));
      process.stdout.write(`${JSON.stringify({ event: 'sync', version: String(v), mode: 'echo', result: 'ok' })}\n`);
    } while (dirty);
  } catch (err) {
    // A status that cannot be put would leave the benchmark waiting for this host: say why and stop.
    console.error(`${host}: status put: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  } finally {
    putting = false;
  }
}
await publish();
const watch = new LeanWatch(client, prefix, first.revision + 1);
watch.on('data', (events) => {
  for (const e of events) version = Math.max(version, Number(e.kv.mod_revision));
  void publish();
});
watch.on('error', (err) => {
  console.error(`${host}: ${err.message}`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  void watch.cancel();
  lease.release();
  process.exit(0);
});
