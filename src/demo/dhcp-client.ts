// A DHCP client run once inside a network namespace, for the demo's
// scaffolding (instances that get their address by DHCP) and for tests. Uses busybox's
// udhcpc (Debian package busybox-static or busybox) when there is one, else
// ISC dhclient (isc-dhcp-client). The address and default route are applied
// with `ip` inside the namespace, as an instance's own DHCP client would.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { netnsPath } from '../sys/netns-path.js';
import { must } from '../util/must.js';

const run = promisify(execFile);

export type DhcpClientKind = 'udhcpc' | 'dhclient';

export interface DhcpLease {
  client: DhcpClientKind;
  ip: string;
  prefix: number;
  router?: string;
  dns: string[];
  /** Seconds. */
  leaseTime: number;
  serverId?: string;
  hostname?: string;
}

export interface DhcpClientOptions {
  /** Default: udhcpc if busybox is installed, else dhclient. */
  client?: DhcpClientKind;
  /** Discover attempts, about one second each. Default 5. */
  attempts?: number;
  /** Apply the address and default route to the interface (default true). */
  configure?: boolean;
  /** Aborting kills the client at once (the demo's Ctrl-C). */
  signal?: AbortSignal;
}

const PATHS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function which(name: string): string | undefined {
  for (const d of PATHS) {
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Which client runDhcpClient would use, or undefined when neither is installed.
 * EUCANET_DHCP_CLIENT=udhcpc|dhclient chooses one (to test with both).
 */
export function availableDhcpClient(): DhcpClientKind | undefined {
  const forced = process.env.EUCANET_DHCP_CLIENT;
  if (forced === 'udhcpc') return which('busybox') ? 'udhcpc' : undefined;
  if (forced === 'dhclient') return which('dhclient') ? 'dhclient' : undefined;
  if (which('busybox')) return 'udhcpc';
  if (which('dhclient')) return 'dhclient';
  return undefined;
}

// One script for both clients. udhcpc passes the event as $1 (deconfig, bound,
// renew, leasefail, nak) and ip, mask (a prefix length), router, dns, lease,
// serverid, hostname; dhclient sets $reason (PREINIT, BOUND, ...) and new_*.
// dhclient gives its script a fresh environment, so the result file and the
// configure switch are written into the script (RESULT, CONFIGURE).
const SCRIPT = `#!/bin/sh
out='RESULT'
apply() {
  [ CONFIGURE = 1 ] || return 0
  ip addr flush dev "$interface"
  ip addr add "$1" dev "$interface"
  if [ -n "$2" ]; then ip route replace default via "$2" dev "$interface"; fi
}
record() {
  { echo "ip=$1"; echo "mask=$2"; echo "router=$3"; echo "dns=$4"; echo "lease=$5"; echo "serverid=$6"; echo "hostname=$7"; } > "$out.tmp"
  mv "$out.tmp" "$out"
}
if [ -n "$reason" ]; then
  case "$reason" in
    PREINIT) ip link set dev "$interface" up ;;
    BOUND|RENEW|REBIND|REBOOT)
      r="\${new_routers%% *}"
      apply "$new_ip_address/$new_subnet_mask" "$r"
      record "$new_ip_address" "$new_subnet_mask" "$r" "$new_domain_name_servers" "$new_dhcp_lease_time" "$new_dhcp_server_identifier" "$new_host_name" ;;
  esac
else
  case "$1" in
    deconfig) ip link set dev "$interface" up ;;
    bound|renew)
      r="\${router%% *}"
      apply "$ip/$mask" "$r"
      record "$ip" "$mask" "$r" "$dns" "$lease" "$serverid" "$hostname" ;;
  esac
fi
exit 0
`;

function maskToPrefix(mask: string): number {
  if (/^\d+$/.test(mask)) return +mask;
  return mask.split('.').reduce((n, o) => n + (+o).toString(2).replace(/0/g, '').length, 0);
}

function parseResult(text: string, client: DhcpClientKind): DhcpLease {
  const kv = new Map(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const lease: DhcpLease = {
    client,
    ip: must(kv.get('ip'), 'the ip of the lease udhcpc reported'),
    prefix: maskToPrefix(kv.get('mask') ?? ''),
    dns: (kv.get('dns') ?? '').split(/\s+/).filter(Boolean),
    leaseTime: Number(kv.get('lease') ?? 0),
  };
  const router = kv.get('router');
  if (router) lease.router = router;
  const serverId = kv.get('serverid');
  if (serverId) lease.serverId = serverId;
  const hostname = kv.get('hostname');
  if (hostname) lease.hostname = hostname;
  return lease;
}

/** udhcpc -q: exits 0 once bound (after the script ran), 1 with -n when no lease came. */
async function runUdhcpc(ns: string, iface: string, script: string, attempts: number, signal?: AbortSignal): Promise<string> {
  const args = [ns, '--', 'busybox', 'udhcpc', '-i', iface, '-n', '-q', '-f', '-t', String(attempts), '-T', '1', '-s', script];
  try {
    const out = await run('nsenter', args, { timeout: (attempts + 10) * 1000, ...(signal ? { signal } : {}) });
    return out.stdout + out.stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`no lease (${e.message.split('\n')[0]})\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * dhclient has no "exit once bound": it is run in the foreground (-d) as our
 * child, and stopped as soon as its script has recorded the lease. With -1 it
 * exits by itself (code 2) when no lease came within the config's timeout.
 */
async function runDhclient(ns: string, iface: string, script: string, result: string, dir: string, attempts: number, signal?: AbortSignal): Promise<string> {
  const conf = join(dir, 'dhclient.conf');
  await writeFile(
    conf,
    `timeout ${attempts};\nretry 1;\ninitial-interval 1;\nbackoff-cutoff 1;\n` +
      'request subnet-mask, broadcast-address, routers, domain-name-servers, host-name;\n',
  );
  const args = [ns, '--', 'dhclient', '-1', '-d', '-v', '-sf', script, '-lf', join(dir, 'leases'), '-pf', join(dir, 'pid'), '-cf', conf, iface];
  const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  child.on('error', () => undefined); // an abort: seen below as the child's exit
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const until = Date.now() + (attempts + 10) * 1000;
  try {
    for (;;) {
      if (existsSync(result)) return output;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`no lease (dhclient exited with ${child.exitCode ?? child.signalCode})\n${output}`);
      if (Date.now() > until) throw new Error(`no lease (timed out)\n${output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * Runs a DHCP client once on `iface` inside namespace `netns` (a name or a
 * path) and returns the lease it got. Fails, with the client's output, when no
 * lease came within `attempts` tries. Nothing is left running.
 */
export async function runDhcpClient(netns: string, iface = 'eth0', opts: DhcpClientOptions = {}): Promise<DhcpLease> {
  const client = opts.client ?? availableDhcpClient();
  if (!client) throw new Error('no DHCP client: install busybox-static (udhcpc) or isc-dhcp-client (dhclient)');
  const attempts = opts.attempts ?? 5;
  const dir = await mkdtemp(join(tmpdir(), 'eucanet-dhcpc-'));
  const script = join(dir, 'script.sh');
  const result = join(dir, 'result');
  await writeFile(script, SCRIPT.replace('RESULT', result).replace('CONFIGURE', opts.configure === false ? '0' : '1'), { mode: 0o755 });
  const ns = `--net=${netnsPath(netns)}`;
  try {
    let output: string;
    try {
      output =
        client === 'udhcpc'
          ? await runUdhcpc(ns, iface, script, attempts, opts.signal)
          : await runDhclient(ns, iface, script, result, dir, attempts, opts.signal);
    } catch (err) {
      throw new Error(`${client} in ${netns} on ${iface}: ${(err as Error).message}`);
    }
    const text = await readFile(result, 'utf8').catch(() => undefined);
    if (text === undefined) throw new Error(`${client} in ${netns} on ${iface}: exited without a lease\n${output}`);
    return parseResult(text, client);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
