// One writer process of the concurrency test (from dist/: build first):
// `node etcd-writer-child.mjs URL WORKER OPS`. Runs OPS operations through the
// etcd store, alternating authorize (a rule of its own) and run-instance (an
// automatic private and public address), and prints one JSON line:
// { worker, ops, retries, maxRetries }.
import { openEtcdStore } from '../../dist/store/etcd.js';
import { update } from '../../dist/store/update.js';
import { authorize, runInstance } from '../../dist/managed/ops/index.js';

const [url, worker, ops] = process.argv.slice(2);
const w = Number(worker);
const store = openEtcdStore({ urls: [url] });
let retries = 0;
let maxRetries = 0;
try {
  for (let i = 0; i < Number(ops); i++) {
    const port = 10000 + w * 100 + i;
    const op =
      i % 2 === 0
        ? (/** @type {any} */ s) => authorize(s, `u/g${w % 2}`, { protocol: 'tcp', from: port, to: port, cidr: '0.0.0.0/0' })
        : (/** @type {any} */ s) => runInstance(s, { id: `w${w}-${i}`, group: `u/g${i % 2}`, node: `nc${(w % 2) + 1}`, publicIp: true });
    const r = await update(store, op);
    retries += r.retries;
    maxRetries = Math.max(maxRetries, r.retries);
  }
  process.stdout.write(`${JSON.stringify({ worker: w, ops: Number(ops), retries, maxRetries })}\n`);
} finally {
  await store.close();
}
