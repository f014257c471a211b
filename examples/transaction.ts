// A bridge with 1000 taps, its address and forwarding, as one transaction (as root).
import { open, createNetns, deleteNetns, TransactionError } from 'eucanet';

const ns = process.argv[2] ?? 'demo';
createNetns(ns);
const h = open({ netns: ns });
try {
  const tx = h.transaction();
  tx.addLink({ kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true });
  for (let i = 0; i < 1000; i++) tx.addTap(`vnet${i}`, { master: 'eucabr10', up: true, group: 4200 });
  tx.addAddress({ dev: 'eucabr10', address: '10.1.2.1/27' });
  tx.setSysctl('net.ipv4.ip_forward', 1);
  console.log(tx.toString());   // the same, as ip / sysctl / nft commands: a dry run
  await tx.commit();            // or a TransactionError, with the system as it was
  console.log(`${(await h.links.list({ kind: 'tun' })).length} taps`);
} catch (err) {
  if (err instanceof TransactionError) console.error(`nothing changed: ${err.message}`);
  throw err;
} finally {
  h.close();
  deleteNetns(ns);
}
