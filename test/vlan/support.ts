// Shared by the VLAN lane's tests: can this kernel make 802.1Q devices, a
// describe() that skips (or, in the lane, fails) when it cannot, and small
// helpers to run the standard tools inside a namespace with bounded waits.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';
import { addon } from '../../src/native.js';
import type { Handle } from '../../src/handle.js';
import { freshName, isRoot, withHandle as withHandleIn } from '../helpers/netns.js';

/** Set by test/vm/vlan-lane.sh: a kernel without 8021q is then a failure, not a skip. */
export const requireVlan = process.env.EUCANET_REQUIRE_VLAN === '1';

/**
 * Probes with `ip` (not the library, so a library bug fails the tests rather
 * than skipping them): a throw-away namespace, a veth, and an 802.1Q device on it.
 */
function probeVlan(): { ok: true } | { ok: false; reason: string } {
  if (!isRoot) return { ok: false, reason: 'needs root (network namespaces)' };
  const ns = freshName('euvp');
  try {
    addon.netnsCreate(ns);
  } catch (err) {
    return { ok: false, reason: `cannot create a namespace: ${(err as Error).message}` };
  }
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    ip('link', 'add', 'vp0', 'type', 'veth', 'peer', 'name', 'vp1');
    ip('link', 'add', 'link', 'vp0', 'name', 'vp0.10', 'type', 'vlan', 'id', '10');
    return { ok: true };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    return { ok: false, reason: `this kernel cannot create an 802.1Q device (no 8021q?): ${(stderr || (err as Error).message).replace(/\.+$/, '')}` };
  } finally {
    addon.netnsDelete(ns);
  }
}

export const vlanSupport = probeVlan();

/**
 * describe() for tests that need 802.1Q. Without it they are skipped with a
 * message, except under EUCANET_REQUIRE_VLAN=1 (the lane), where one failing
 * test says why instead, so a missing 8021q can never pass the lane.
 */
export function describeVlan(file: string, title: string, body: () => void): void {
  if (vlanSupport.ok) {
    describe(title, body);
  } else if (requireVlan) {
    const { reason } = vlanSupport;
    describe(title, () => {
      it('needs a kernel that can create 802.1Q devices (EUCANET_REQUIRE_VLAN=1)', () => {
        throw new Error(`${file}: ${reason}`);
      });
    });
  } else {
    console.warn(`${file}: skipped: ${vlanSupport.reason}. Run \`npm run test:vlan\` (boots a VM when needed).`);
    describe.skip(title, body);
  }
}

/** A handle on a fresh namespace (prefix euvl), both removed afterwards whatever happens. */
export const withHandle = <T>(fn: (h: Handle, ns: string) => Promise<T>, prefix = 'euvl'): Promise<T> => withHandleIn(fn, prefix);

/** Runs `fn` with several fresh namespaces, all removed afterwards whatever happens. */
export async function withNamespaces<T>(count: number, fn: (names: string[]) => Promise<T>): Promise<T> {
  const names: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const n = freshName('euvp');
      addon.netnsCreate(n);
      names.push(n);
    }
    return await fn(names);
  } finally {
    for (const n of names) addon.netnsDelete(n);
  }
}

/** `ip -n NS ARGS` with a bounded wait; its stdout. */
export function ipIn(ns: string, ...args: string[]): string {
  return execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip -j -d link show` in the namespace, by name: the independent oracle. */
export function ipLinks(ns: string): Map<string, any> {
  const out = JSON.parse(ipIn(ns, '-j', '-d', 'link', 'show'));
  return new Map(out.map((l: any) => [l.ifname, l]));
}

export { rejection } from '../helpers/rejection.js';

/** ping, or busybox's when iputils is not installed (the case on these machines). */
const pingCmd: string[] = (() => {
  const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  if (has('ping')) return ['ping'];
  if (has('busybox')) return ['busybox', 'ping'];
  return ['ping']; // fails, saying so in the ping's output
})();

export interface PingResult {
  ok: boolean;
  output: string;
}

/**
 * Pings from inside a namespace; `ok` if any echo reply came back. Bounded:
 * -w is ping's own deadline, and the spawn is killed a little after it.
 */
export function ping(ns: string, dst: string, opts: { count?: number; deadline?: number; dev?: string } = {}): PingResult {
  const count = opts.count ?? 2;
  const deadline = opts.deadline ?? 10;
  const args = [...pingCmd.slice(1), '-c', String(count), '-W', '1', '-w', String(deadline)];
  if (opts.dev) args.push('-I', opts.dev);
  args.push(dst);
  const r = spawnSync('ip', ['netns', 'exec', ns, pingCmd[0], ...args], {
    encoding: 'utf8',
    timeout: (deadline + 20) * 1000,
    killSignal: 'SIGKILL',
  });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}
