// What an agent's read of a new state version costs in CPU at N instances
// (issue 17): the etcd store's cache moved forward by one watch event (one
// group or one instance changed, in turn), the state assembled from the kept
// objects, validated, and allocated, as EtcdStore.read and StoreSource.read
// do, without etcd (the cache is fed by hand). Side by side in one run: the
// validation as it is (IncrementalCheck: what changed) and the full one
// (validateState, what every version cost before). CPU time
// (process.cpuUsage), not wall time: a loaded machine inflates it less.
//
// Usage: node bench/store-read.mjs [--instances 5000] [--versions 200]
import { allocate } from '../dist/managed/allocate.js';
import { IncrementalCheck } from '../dist/managed/check-incremental.js';
import { validateState } from '../dist/managed/validate.js';
import { KeyCache } from '../dist/store/etcd-cache.js';
import { assemble, toKeys } from '../dist/store/etcd-layout.js';

/** @typedef {import('../dist/managed/types.js').State} State */

const arg = (/** @type {string} */ k, /** @type {string} */ d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i > 0 ? (process.argv[i + 1] ?? d) : d;
};
const N = Number(arg('instances', '5000'));
const V = Number(arg('versions', '200'));
const NODES = 200;
const P = '/eucanet/bench/state/';

/** @returns {State} */
function cloudOf() {
  /** @type {Record<string, import('../dist/managed/types.js').NodeHost>} */
  const nodes = {};
  for (let k = 0; k < NODES; k++) nodes[`nc${k}`] = { privateInterface: 'eth0', underlay: `172.31.${1 + (k >> 8)}.${k % 256}/16` };
  return allocate({
    mode: 'MANAGED',
    segmentation: 'vxlan',
    subnet: '10.0.0.0/8',
    addrsPerNet: 1024,
    publicIps: ['172.16.0.1-172.16.3.250'],
    cc: { publicInterface: 'eth0', privateInterface: 'eth1', underlay: '172.31.0.1/16' },
    nodes,
    groups: Array.from({ length: Math.ceil(N / 100) }, (_, g) => ({
      owner: 'admin',
      name: `g${g}`,
      rules: [{ protocol: 'tcp', from: 22, to: 22, cidr: '0.0.0.0/0' }],
    })),
    instances: Array.from({ length: N }, (_, k) => ({ id: `i-${k}`, group: `admin/g${Math.floor(k / 100)}`, node: `nc${k % NODES}`, publicIp: k % 40 === 0 })),
  });
}

/** CPU ms per version of one way of validating. @param {(doc: unknown) => void} validate */
function run(validate) {
  const keys = toKeys(cloudOf());
  const cache = new KeyCache(
    [...keys].map(([key, value]) => ({ key, value, mod: 1 })),
    1,
  );
  const g0 = JSON.parse(/** @type {string} */ (keys.get('groups/admin/g0')));
  const inst = JSON.parse(/** @type {string} */ (keys.get('instances/i-7')));
  let rev = 1;
  /** @type {NodeJS.CpuUsage | undefined} */
  let cpu0;
  const warm = 20;
  for (let v = 0; v < V + warm; v++) {
    if (v === warm) cpu0 = process.cpuUsage();
    rev++;
    if (v % 2) g0.rules = [g0.rules[0], { protocol: 'tcp', from: 1000 + v, to: 1000 + v, cidr: '0.0.0.0/0' }];
    else inst.port = `vq${v}`;
    const [key, value] = v % 2 ? ['groups/admin/g0', g0] : ['instances/i-7', inst];
    cache.apply(P, [{ type: 'Put', kv: { key: Buffer.from(P + key), value: Buffer.from(JSON.stringify(value)), mod_revision: String(rev) } }]);
    const doc = assemble(cache.parsed(P));
    validate(doc);
    allocate(doc, { validated: true });
  }
  const u = process.cpuUsage(cpu0);
  return Math.round(((u.user + u.system) / 1000 / V) * 100) / 100;
}

const check = new IncrementalCheck();
const incremental = run((doc) => {
  if (!check.check(doc)) throw new Error('the incremental check refused a valid version');
});
const full = run((doc) => validateState(doc));
console.log(JSON.stringify({ instances: N, versions: V, cpuMsPerVersion: { incremental, full } }));
