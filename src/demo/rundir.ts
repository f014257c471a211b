// What a demo leaves to find it again: /run/eucanet/demo/demo.json names the
// demo's namespaces and processes, so that `eucanet demo down` (or the next
// demo, after a crash) removes exactly those, and nothing else.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dhcpServerFor } from '../managed/apply.js';
import { deleteNetns, netnsExists } from '../sys/netns.js';
import { RESPONDER_MARK } from './responders.js';
import { NS_CC } from './topology.js';

export const RUN_DIR = '/run/eucanet/demo';
/** The state file the demo's agents watch and its controller writes. */
export const DEMO_STATE_FILE = `${RUN_DIR}/cloud.json`;
const RECORD = `${RUN_DIR}/demo.json`;
/** The data of the demo's etcd (--store etcd), and the cloud name its agents use. */
export const DEMO_ETCD_DIR = `${RUN_DIR}/etcd`;
export const DEMO_ETCD_CLOUD = 'euca-demo';
/** Where applyRole's DhcpServer keeps dnsmasq's files for the CC namespace. */
export const CC_DHCP_DIR = `/run/eucanet/${NS_CC}`;
/** The same for any CC namespace of the demo (euca-cc2 with --clusters 2). */
export const ccDhcpDir = (ns: string): string => `/run/eucanet/${ns}`;

export interface RunRecord {
  /** The demo process that made it. */
  pid: number;
  /** Left up on purpose (--keep): only `demo down` removes it. */
  kept: boolean;
  startedAt: string;
  segmentation: string;
  namespaces: string[];
  /** The responders' pids (checked against their command line before any signal). */
  responders: number[];
  /** The eucanet agents' pids (likewise: `eucanet agent ... --state DEMO_STATE_FILE`). */
  agents: number[];
  /** The demo's etcd (--store etcd). */
  etcd?: number;
}

export function readRecord(): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(RECORD, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

export function writeRecord(r: RunRecord): void {
  mkdirSync(RUN_DIR, { recursive: true, mode: 0o755 });
  const tmp = `${RECORD}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(r, null, 2)}\n`);
  renameSync(tmp, RECORD);
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** True when `pid` is one of the demo's responders (its command line carries the mark). */
export function isResponder(pid: number): boolean {
  return cmdline(pid).includes(RESPONDER_MARK);
}

/** True when `pid` is one of the demo's eucanet agents (`agent`, on the demo's state file or its etcd cloud). */
export function isDemoAgent(pid: number): boolean {
  const c = cmdline(pid);
  return c.includes('agent') && (c.includes(DEMO_STATE_FILE) || (c.includes('--etcd') && c.includes(DEMO_ETCD_CLOUD)));
}

/** True when `pid` is the demo's etcd (its command line names the demo's data directory). */
export function isDemoEtcd(pid: number): boolean {
  return cmdline(pid).includes(DEMO_ETCD_DIR);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM to each of `pids` that `ours` recognises, SIGKILL after `graceMs`. */
export async function killOurs(pids: number[], isOurs: (pid: number) => boolean, graceMs = 2000): Promise<void> {
  const ours = pids.filter(isOurs);
  for (const p of ours) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // gone
    }
  }
  const end = Date.now() + graceMs;
  while (ours.some(isOurs) && Date.now() < end) await sleep(20);
  for (const p of ours.filter(isOurs)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
  while (ours.some(isOurs) && Date.now() < end + graceMs) await sleep(20);
}

/**
 * Removes a demo from its record: its eucanet agents (SIGTERM: they exit
 * leaving the network, which goes with the namespaces), responders, each CC's dnsmasq (found through its
 * pid file, as DhcpServer attaches to it), then the namespaces, which takes
 * every link, address, route and nftables rule in them along. Returns what
 * was removed.
 */
export async function removeDemo(r: RunRecord): Promise<{ namespaces: string[]; responders: number; agents: number; dnsmasq: number[] }> {
  // A record written before the rename called the responders "agents": both lists are checked for them.
  const pids = [...(r.responders ?? []), ...(r.agents ?? [])];
  const responders = pids.filter(isResponder).length;
  const agents = (r.agents ?? []).filter(isDemoAgent).length;
  await Promise.all([killOurs(r.agents ?? [], isDemoAgent, 5000), killOurs(pids, isResponder)]);
  // The etcd after its agents (they would only log it gone); its data goes with RUN_DIR.
  if (r.etcd !== undefined) await killOurs([r.etcd], isDemoEtcd);
  // Each CC's dnsmasq: euca-cc's, and with --clusters 2 euca-cc2's.
  const ccs = [NS_CC, ...r.namespaces.filter((ns) => ns !== NS_CC && ns.startsWith(NS_CC) && /^\d+$/.test(ns.slice(NS_CC.length)))];
  const dnsmasq: number[] = [];
  for (const cc of ccs) {
    if (!existsSync(ccDhcpDir(cc))) continue;
    const stopped = await dhcpServerFor(netnsExists(cc) ? cc : cc === NS_CC ? undefined : cc)
      .stop()
      .catch(() => undefined);
    if (stopped?.stopped && stopped.pid !== undefined) dnsmasq.push(stopped.pid);
  }
  const namespaces: string[] = [];
  for (const ns of r.namespaces) {
    if (!netnsExists(ns)) continue;
    deleteNetns(ns);
    namespaces.push(ns);
  }
  for (const cc of ccs) rmSync(ccDhcpDir(cc), { recursive: true, force: true });
  rmSync(RUN_DIR, { recursive: true, force: true });
  return { namespaces, responders, agents, dnsmasq };
}
