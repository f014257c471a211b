// Reconcile of FDB entries (vxlan flood lists and static MACs): the desired
// entries against those the kernel has on the links eucanet owns (owner.ts:
// fdbLinks, isOwnedFdbEntry). Pure.
import type { FdbSpec } from '../rtnl/fdb.js';
import type { Link } from '../rtnl/link.js';
import type { Neighbor } from '../rtnl/neigh.js';
import { bytesToIp, formatMac, parseIp, parseMac } from '../util/ip.js';
import { fdbSpecOf } from './neigh-ops.js';
import type { Op } from './ops.js';
import { isOwnedFdbEntry } from './owner.js';

/** One destination of one MAC on one device: port and VNI only where they are not the device's own. */
function key(dev: string, lladdr: string, dst?: string, port?: number, vni?: number): string {
  return `${dev}|${lladdr}|${dst ?? ''}|${port ?? ''}|${vni ?? ''}`;
}

/**
 * The FDB ops that take `cur` (entries read from the links in `managed`) to
 * `want`. Entries on links this plan creates or recreates (`fresh`) count as
 * absent: the new device starts empty. Entries on links it deletes are left
 * to go with them. New flood list entries are appended (the all-zeros MAC has
 * a destination per remote), new unicast MACs replaced (created, or a learned
 * entry's remote overwritten); unwanted owned ones deleted by their whole remote. `nameOf`
 * names links by ifindex.
 */
export function diffFdb(
  cur: readonly Neighbor[],
  want: readonly FdbSpec[],
  managed: readonly Link[],
  fresh: ReadonlySet<string>,
  doomed: ReadonlySet<string>,
  nameOf: (index: number) => string | undefined = () => undefined,
): Op[] {
  const links = new Map(managed.map((l) => [l.index, l]));
  const present = new Map<string, { e: Neighbor; dev: string }>();
  for (const e of cur) {
    const link = links.get(e.index);
    if (link === undefined || fresh.has(link.name) || !isOwnedFdbEntry(e, link)) continue;
    present.set(key(link.name, e.lladdr ?? '', e.dst, e.port, e.vni), { e, dev: link.name });
  }
  const out: Op[] = [];
  const wanted = new Set<string>();
  for (const spec of want) {
    const dev = String(spec.dev);
    const k = key(
      dev,
      formatMac(parseMac('lladdr', spec.lladdr)),
      spec.dst !== undefined ? bytesToIp(parseIp('dst', spec.dst).bytes) : undefined,
      spec.port,
      spec.vni,
    );
    if (wanted.has(k)) continue;
    wanted.add(k);
    if (present.has(k)) continue;
    // A flood list (all-zeros or multicast MAC) takes one more destination by
    // append. The kernel appends to no other MAC: it would keep a learned
    // entry's remote and only make it permanent, so a unicast MAC is replaced.
    const mac = parseMac('lladdr', spec.lladdr);
    const list = mac.every((b) => b === 0) || (mac[0] & 1) === 1;
    out.push({ op: list ? 'fdb.append' : 'fdb.replace', spec: { self: true, state: 'permanent', ...spec } });
  }
  for (const [k, { e, dev }] of present) {
    if (wanted.has(k) || doomed.has(dev)) continue;
    const spec: FdbSpec = { ...fdbSpecOf(e), dev };
    // The underlay device by name, as a person (and `bridge`) reads it in a dry run.
    if (typeof spec.via === 'number') spec.via = nameOf(spec.via) ?? spec.via;
    out.push({ op: 'fdb.delete', spec });
  }
  return out;
}
