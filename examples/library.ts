// A bridge, a veth in it and an address, in a new network namespace (as root).
import { open, createNetns, deleteNetns } from 'eucanet';

const ns = process.argv[2] ?? 'demo';
createNetns(ns);                           // like `ip netns add demo`, without forking
const h = open({ netns: ns });             // a handle bound to that namespace
try {
  await h.links.add({ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true });
  await h.links.add({ kind: 'veth', name: 'vnet1', peer: 'vnet1p', master: 'eucabr10', up: true });
  await h.addresses.add({ dev: 'eucabr10', address: '10.1.2.1/27' });
  const bridge = await h.links.get('eucabr10');   // undefined when there is no such link
  if (!bridge) throw new Error('eucabr10 is missing');
  console.log(await h.links.list({ master: bridge.index }));
} finally {
  h.close();
  deleteNetns(ns);
}
