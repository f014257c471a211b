// The MANAGED model on its own: validation, allocation, the roles' plans and
// their rendering. No root, no kernel, no native addon.
import { readFileSync } from 'node:fs';
import { dhcp, managed, nft, planCc, planNc, ValidationError } from 'eucanet';

const doc = JSON.parse(readFileSync(process.argv[2] ?? 'examples/seed.json', 'utf8')) as managed.State;
try {
  managed.validateState({ ...doc, groups: [{ ...doc.groups?.[0], vlan: 5000 }] });
} catch (err) {
  if (!(err instanceof ValidationError)) throw err;
  console.log(err.message);   // invalid groups[0].vlan 5000: is not a VLAN number 1-4094
}

const state = managed.allocate(doc);   // VLANs, blocks, addresses and MACs filled in
for (const i of state.instances) console.log(i.id, i.group, i.node, i.port, i.privateIp, i.mac, i.publicIp ?? '');

const cc = planCc(state);              // the cluster controller's desired kernel state
const batch = new nft.Batch();         // no connection: it can be rendered, not committed
for (const t of cc.nft?.tables ?? []) batch.addTable(t);
for (const c of cc.nft?.chains ?? []) batch.addChain(c);
for (const s of cc.nft?.sets ?? []) batch.addSet(s).addElements(s, s.elements ?? []);
for (const r of cc.nft?.rules ?? []) batch.addRule(r);
console.log(nft.renderBatch(batch.ops));

const nc1 = planNc(state, 'nc1');       // a node controller's: bridges and ports
console.log(nc1.links?.map((l) => l.name), nc1.ports?.map((p) => `${p.name} in ${p.master}`));

const files = dhcp.renderDnsmasq(managed.dhcpNetworksOf(state), { stateDir: '/var/lib/eucanet/dhcp' });
console.log(files.hosts);              // dnsmasq's static leases, one per instance
