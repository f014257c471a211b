// The route half of diffState: present routes against desired ones. A desired
// route without a dev matches whatever dev the kernel chose for it.
import type { RouteSpec } from '../rtnl/route.js';
import { bytesToIp, networkOf, parseCidr } from '../util/ip.js';
import type { DesiredState } from './desired.js';
import type { KernelState } from './diff.js';
import { EUCANET_PROTO, mayTouch, whoseProto, type OwnerScope } from './owner.js';
import type { Op } from './ops.js';

function routeKey(dst: string, table: number, gateway: string | undefined, dev: string | undefined): string {
  return `${dst}|${table}|${gateway ?? ''}|${dev ?? ''}`;
}

function normDst(dst: string): string {
  if (dst === 'default') return dst;
  const c = parseCidr('dst', dst);
  return `${bytesToIp(networkOf(c))}/${c.prefix}`;
}

/** Adds to `out` the route deletes (put first) and adds that take `cur.routes` to `want.routes`; `idx` names links by ifindex. */
export function diffRoutes(
  cur: KernelState,
  want: DesiredState,
  idx: { nameOf(index: number | undefined): string | undefined },
  out: { changes: Op[] },
  scope?: OwnerScope,
): void {
  const wanted = (want.routes ?? []).map((r) => ({
    r,
    key: routeKey(normDst(r.dst), r.table ?? 254, r.gateway, typeof r.dev === 'number' ? idx.nameOf(r.dev) : r.dev),
    anyDev: r.dev === undefined,
  }));
  const matches = (key: string, keyNoDev: string) => wanted.filter((w) => w.key === (w.anyDev ? keyNoDev : key));
  const met = new Set<RouteSpec>();
  for (const r of cur.routes) {
    const key = routeKey(r.dst, r.table, r.gateway, idx.nameOf(r.oif));
    const found = matches(key, routeKey(r.dst, r.table, r.gateway, undefined));
    found.forEach((w) => met.add(w.r));
    if (!mayTouch(whoseProto(r.protocol, scope), scope) || found.length) continue;
    const spec: RouteSpec = { dst: r.dst, table: r.table, protocol: r.protocol };
    if (r.gateway) spec.gateway = r.gateway;
    const dev = idx.nameOf(r.oif);
    if (dev) spec.dev = dev;
    out.changes.unshift({ op: 'route.delete', spec });
  }
  for (const w of wanted) if (!met.has(w.r)) out.changes.push({ op: 'route.add', spec: { ...w.r, protocol: scope?.proto ?? EUCANET_PROTO } });
}
