// The CC's DHCP between two applies of its role: which hosts were added and
// removed, when nothing else about its networks changed (their interfaces,
// subnets, routers, DNS, lease times, and which networks there are), and the
// added hosts checked as a full plan would check them (dhcp/validate.ts),
// without normalising every other host again. Pure.
import { DhcpValidationError, normalizeNetworks, type DhcpHost, type DhcpNetwork, type HostChange } from '../dhcp/index.js';
import { ValidationError } from '../errors.js';

const headerOf = (n: DhcpNetwork): string => JSON.stringify([n.interface, n.subnet, n.gateway, n.dns ?? [], n.leaseTime ?? null]);
const textOf = (h: DhcpHost): string => `${h.mac.toLowerCase()},${h.ip},${h.hostname ?? ''}`;
const sameHost = (x: DhcpHost, y: DhcpHost): boolean => x.ip === y.ip && x.mac === y.mac && x.hostname === y.hostname;

/**
 * The hosts added and removed from `prev` to `next` (a host is its MAC,
 * address and hostname: a changed one is removed and added), or undefined
 * when anything but hosts differs (a full DHCP plan is then needed).
 */
export function hostChangeOf(prev: readonly DhcpNetwork[], next: readonly DhcpNetwork[]): HostChange | undefined {
  if (prev.length !== next.length) return undefined;
  const add: DhcpHost[] = [];
  const del: DhcpHost[] = [];
  for (let i = 0; i < next.length; i++) {
    const a = prev[i];
    const b = next[i];
    if (headerOf(a) !== headerOf(b)) return undefined;
    // Hosts keep their order (the state's instances): skip the common head without making keys.
    let k = 0;
    while (k < a.hosts.length && k < b.hosts.length && sameHost(a.hosts[k], b.hosts[k])) k++;
    if (k === a.hosts.length && k === b.hosts.length) continue;
    const was = new Map(a.hosts.slice(k).map((h) => [textOf(h), h]));
    for (const h of b.hosts.slice(k)) if (!was.delete(textOf(h))) add.push(h);
    del.push(...was.values());
  }
  return { add, del };
}

/**
 * The added hosts checked as normalizeNetworks checks every host (MAC, an
 * address of the subnet that is not its gateway, a hostname dnsmasq reads as
 * one), and each MAC, address and hostname once in all of `next`. Every
 * problem in one DhcpValidationError, fields named as in `next`.
 */
export function checkAdded(next: readonly DhcpNetwork[], add: readonly DhcpHost[]): void {
  if (!add.length) return;
  const added = new Set(add);
  const problems: ValidationError[] = [];
  // Only the added hosts' MACs, addresses and hostnames are looked for in the others.
  const keysOf = (h: DhcpHost): Array<[string, 'mac' | 'ip' | 'hostname', unknown]> => {
    const out: Array<[string, 'mac' | 'ip' | 'hostname', unknown]> = [
      [`mac ${String(h.mac).toLowerCase()}`, 'mac', h.mac],
      [`ip ${h.ip}`, 'ip', h.ip],
    ];
    if (h.hostname !== undefined) out.push([`name ${String(h.hostname).toLowerCase()}`, 'hostname', h.hostname]);
    return out;
  };
  const wanted = new Set(add.flatMap((h) => keysOf(h).map(([k]) => k)));
  const macs = new Set(add.map((h) => String(h.mac).toLowerCase()));
  const names = new Set(add.flatMap((h) => (h.hostname !== undefined ? [String(h.hostname).toLowerCase()] : [])));
  const ips = new Set(add.map((h) => h.ip));
  const seen = new Map<string, string>();
  next.forEach((n, i) =>
    n.hosts.forEach((h, j) => {
      // Most hosts share nothing with the added ones: three set lookups, no keys made.
      const mine = added.has(h);
      if (!mine && !ips.has(h.ip) && !macs.has(String(h.mac).toLowerCase()) && !(h.hostname !== undefined && names.has(String(h.hostname).toLowerCase())))
        return;
      const f = `networks[${i}].hosts[${j}]`;
      for (const [k, field, v] of keysOf(h)) {
        if (!wanted.has(k)) continue;
        const at = seen.get(k);
        if (at === undefined) seen.set(k, `${f}.${field}`);
        else problems.push(new ValidationError(`${f}.${field}`, v, `duplicate ${field === 'ip' ? 'address' : field}: also at ${at}`));
      }
      if (!mine) return;
      try {
        normalizeNetworks([{ ...n, hosts: [h] }]);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        problems.push(
          new ValidationError(err.field.replace(/^networks\[0\]\.hosts\[0\]/, f).replace(/^networks\[0\]/, `networks[${i}]`), err.value, err.reason),
        );
      }
    }),
  );
  if (problems.length) throw new DhcpValidationError(problems);
}
