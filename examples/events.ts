// Kernel notifications as typed events: what is there now, then what changes.
import { open, createNetns, deleteNetns, type NetEvent } from 'eucanet';

const ns = process.argv[2] ?? 'demo';
createNetns(ns);
const h = open({ netns: ns });
const events = h.events({ links: true, addresses: true, nft: true, dump: true });
const mine = new Set(h.ports); // changes made through h carry one of these
const say = (ev: NetEvent) => {
  const who = 'port' in ev && ev.port !== 0 ? (mine.has(ev.port) ? ' (ours)' : ' (someone else)') : '';
  if (ev.type === 'link') console.log(`${ev.existing ? 'existing' : ev.action} link ${ev.link.name}${ev.link.up ? ' up' : ''}${who}`);
  else if (ev.type === 'address') console.log(`${ev.existing ? 'existing' : ev.action} address ${ev.address.address}/${ev.address.prefix}${who}`);
  else if (ev.type === 'table') console.log(`${ev.action} nft table ${ev.table.family} ${ev.table.name}${who}`);
  else if (ev.type === 'synced' || ev.type === 'resync') console.log(ev.type);
};
try {
  for await (const ev of events) {
    say(ev);
    if (ev.type === 'synced') {
      // The dump is done: now change things and watch them arrive.
      await h.links.add({ kind: 'bridge', name: 'eucabr10', up: true });
      await h.addresses.add({ dev: 'eucabr10', address: '10.1.2.1/27' });
      await h.nft.batch().addTable({ family: 'ip', name: 'eucanet' }).commit();
    }
    if (ev.type === 'table') break; // leaving the loop closes the stream
  }
} finally {
  events.close();
  h.close();
  deleteNetns(ns);
}
