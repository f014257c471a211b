// Throw-away network namespaces for integration tests. Each test gets its own
// and removes it even when it fails.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { open, type Handle } from '../../src/handle.js';
import { dropSysctlRecordsOf } from '../../src/managed/sysctl-record.js';
import { addon } from '../../src/native.js';
import { openNft, type Nft } from '../../src/nft/nft.js';

export const isRoot = process.getuid?.() === 0;

/** A fresh namespace name, unique per call: "eut-<8 hex>". */
export function freshName(prefix = 'eut'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** Runs `fn` with a new named namespace, deleting it afterwards whatever happens. */
export async function withNetns<T>(fn: (name: string) => Promise<T> | T, prefix?: string): Promise<T> {
  const name = freshName(prefix);
  addon.netnsCreate(name);
  try {
    return await fn(name);
  } finally {
    addon.netnsDelete(name);
    // An apply in it recorded ip_forward's value for a `down` that never comes.
    dropSysctlRecordsOf(name);
  }
}

/** A handle on a fresh namespace; both are removed afterwards, whatever happens. */
export async function withHandle<T>(fn: (h: Handle, ns: string) => Promise<T>, prefix?: string): Promise<T> {
  return withNetns(async (ns) => {
    const h = open({ netns: ns });
    try {
      return await fn(h, ns);
    } finally {
      h.close();
    }
  }, prefix);
}

/** An nftables connection in a fresh namespace; both removed afterwards, whatever happens. */
export async function withNft<T>(fn: (nft: Nft, ns: string) => Promise<T>, prefix = 'eut-nft'): Promise<T> {
  return withNetns(async (ns) => {
    const nft = openNft({ netns: ns });
    try {
      return await fn(nft, ns);
    } finally {
      nft.close();
    }
  }, prefix);
}

/** Runs a command inside the namespace (tests only: an independent oracle). */
export function nsExec(netns: string, cmd: string, args: string[], input?: string): string {
  return execFileSync('ip', ['netns', 'exec', netns, cmd, ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** `ip -j -d link show` inside the namespace, parsed. */
export function ipLinks(netns: string): Array<Record<string, any>> {
  return JSON.parse(nsExec(netns, 'ip', ['-j', '-d', 'link', 'show']));
}

/** `nft -j list ruleset` inside the namespace, parsed to its array of objects. */
export function nftRuleset(netns: string): Array<Record<string, any>> {
  return JSON.parse(nsExec(netns, 'nft', ['-j', 'list', 'ruleset'])).nftables;
}
