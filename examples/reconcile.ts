// A desired state applied twice: the second time there is nothing to send (as root).
import { open, createNetns, deleteNetns, reconcile, type DesiredState } from 'eucanet';

const ns = process.argv[2] ?? 'demo';
createNetns(ns);
const h = open({ netns: ns });
try {
  const desired: DesiredState = {
    links: [{ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true }],
    ports: [{ name: 'vnet1', master: 'eucabr10', up: true, tap: true }],   // a tap, made if missing
    addresses: [{ dev: 'eucabr10', address: '10.1.2.1/27' }],
    sysctls: { 'net.ipv4.ip_forward': 1 },
  };
  const first = await reconcile(h, desired);
  console.log(first.plan.changes.toString());   // what the first one sent
  const again = await reconcile(h, desired);
  console.log(`first: ${first.ops} ops, again: ${again.ops} ops`);
} finally {
  h.close();
  deleteNetns(ns);
}
