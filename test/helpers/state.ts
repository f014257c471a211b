// Full, comparable dumps of a namespace's network state, taken with the
// standard tools as an independent oracle: links, addresses, routes (all
// tables), FDB entries with a remote (vxlan flood lists and static MACs), the
// nftables ruleset, and the sysctls transactions touch.
import { execFileSync } from 'node:child_process';

const run = (ns: string, cmd: string, args: string[]) =>
  execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Values that differ between two identical builds: bridge ids (from MACs), timers, port numbers. */
const PER_DEVICE = new Set([
  'bridge_id',
  'root_id',
  'designated_root',
  'designated_bridge',
  'id',
  'no',
  'hello_timer',
  'gc_timer',
  'topology_change_timer',
  'tcn_timer',
  'tcn_timer',
  'hold_timer',
  'message_age_timer',
  'forward_delay_timer',
  'port_id',
  'port_no',
]);

/** Per-device keys, and a bridge port's STP state, which follows the port's carrier as the kernel gets to it. */
const PER_DEVICE_OR_TIMING = new Set([...PER_DEVICE, 'state']);

function dropKeys(v: unknown, keys: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => dropKeys(x, keys));
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !keys.has(k))
        .map(([k, x]) => [k, dropKeys(x, keys)]),
    );
  }
  return v;
}

const sortBy = <T>(xs: T[], key: (x: T) => string) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));

export interface DumpOptions {
  /** Drop ifindexes and random MACs, to compare two namespaces built the same way. */
  portable?: boolean;
  /**
   * Drop what the kernel's linkwatch sets by itself, late (operstate, the
   * carrier flags): to compare what a program changed, not when the kernel
   * got round to a carrier change that was already under way.
   */
  linkwatch?: boolean;
}

export function kernelDump(ns: string, opts: DumpOptions = {}): string {
  const links = JSON.parse(run(ns, 'ip', ['-j', '-d', 'link', 'show'])) as Array<Record<string, unknown>>;
  const addrs = JSON.parse(run(ns, 'ip', ['-j', 'address', 'show'])) as Array<Record<string, unknown>>;
  const routes = JSON.parse(run(ns, 'ip', ['-j', 'route', 'show', 'table', 'all'])) as Array<Record<string, unknown>>;
  const volatile = new Set(['ifindex', 'link_index', 'master_index']);
  const clean = (o: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      // The first `up` attaches a default qdisc (noop -> noqueue) that a later
      // `down` leaves in place; qdiscs are not eucanet's business (no tc here).
      if (k === 'qdisc') continue;
      // operstate is set by the kernel's linkwatch, asynchronously, up to a second later.
      if (opts.portable && (volatile.has(k) || k === 'address' || k === 'broadcast' || k === 'permaddr' || k === 'operstate')) continue;
      if (opts.linkwatch && k === 'operstate') continue;
      // A bridge port's STP state follows its carrier, as linkwatch gets to it.
      if (k === 'linkinfo' && opts.linkwatch && !opts.portable) {
        out[k] = dropKeys(v, new Set(['state']));
        continue;
      }
      if (k === 'linkinfo' && opts.portable) {
        out[k] = dropKeys(v, PER_DEVICE_OR_TIMING);
        continue;
      }
      // Carrier flags follow the kernel's lazy link-state work (linkwatch), as operstate does.
      if (k === 'flags' && (opts.portable || opts.linkwatch) && Array.isArray(v)) {
        out[k] = v.filter((f) => f !== 'NO-CARRIER' && f !== 'LOWER_UP');
        continue;
      }
      out[k] = v;
    }
    return out;
  };
  // Learned entries come and go with traffic, and the kernel's own have no remote: only those with one.
  const fdb = (JSON.parse(run(ns, 'bridge', ['-j', 'fdb', 'show'])) as Array<Record<string, unknown>>)
    .filter((e) => e.dst !== undefined && e.state !== '')
    .map((e) => JSON.stringify(e))
    .sort();
  const ruleset = run(ns, 'nft', ['list', 'ruleset']).replace(/ # handle \d+/g, '');
  const sysctls = ['net/ipv4/ip_forward'].map((k) => `${k}=${run(ns, 'cat', [`/proc/sys/${k}`]).trim()}`);
  return JSON.stringify(
    {
      links: sortBy(links, (l) => String(l.ifname)).map(clean),
      addrs: sortBy(addrs, (a) => String(a.ifname)).map((a) => {
        const c = clean(a);
        c.addr_info = sortBy((a.addr_info as Array<Record<string, unknown>>) ?? [], (x) => String(x.local))
          .filter((x) => !(opts.portable && String(x.local).startsWith('fe80')))
          // IPv6 duplicate address detection runs by itself for a second or more after a
          // link comes up; its "tentative" flag is the kernel's progress, not eucanet's state.
          .map(({ tentative: _dad, ...x }) => ({ ...x, valid_life_time: 0, preferred_life_time: 0 }));
        return c;
      }),
      // The local route of a link-local IPv6 address appears when its DAD ends (above).
      routes: sortBy(routes.filter((r) => !(r.type === 'local' && String(r.dst).startsWith('fe80:'))).map(clean), (r) => JSON.stringify(r)),
      fdb,
      ruleset,
      sysctls,
    },
    null,
    1,
  );
}
