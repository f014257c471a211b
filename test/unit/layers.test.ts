// The layers of src/ and what each may import (docs/architecture.md): the
// import graph between src/'s top-level units (a folder, or a file at the
// top), type-only imports included, read from the source text, checked
// against the allowed directions. And the MANAGED model's pure core imports
// nothing that reaches the kernel.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(new URL('../../src', import.meta.url).pathname);

/** unit -> the units it may import. A unit missing here may import nothing. */
const ALLOWED: Record<string, readonly string[]> = {
  native: [],
  errors: ['native'],
  'util/': ['errors'],
  'sys/': ['errors', 'native'],
  'netlink/': ['errors', 'native', 'sys/'],
  'rtnl/': ['errors', 'netlink/', 'util/'],
  'nft/': ['errors', 'native', 'netlink/', 'util/'],
  'conntrack/': ['errors', 'netlink/', 'util/'],
  session: ['netlink/', 'nft/', 'sys/'],
  'events/': ['errors', 'netlink/', 'nft/', 'rtnl/', 'session', 'sys/'],
  'tx/': ['errors', 'native', 'netlink/', 'nft/', 'rtnl/', 'session', 'sys/', 'util/'],
  handle: ['conntrack/', 'events/', 'native', 'rtnl/', 'session', 'sys/', 'tx/'],
  'dhcp/': ['errors', 'sys/', 'util/'],
  'managed/': ['conntrack/', 'dhcp/', 'errors', 'handle', 'netlink/', 'nft/', 'rtnl/', 'sys/', 'tx/', 'util/'],
  'store/': ['errors', 'managed/', 'util/'],
  'agent/': ['dhcp/', 'errors', 'events/', 'handle', 'managed/', 'rtnl/', 'store/', 'sys/', 'tx/', 'util/'],
  // The demo's switch filters with the library's nftables API (topology.ts dropMulticast).
  // The demo runs one eucanet agent per host over a file store (control.ts).
  'demo/': ['agent/', 'dhcp/', 'errors', 'handle', 'managed/', 'nft/', 'store/', 'sys/', 'util/'],
  // The launcher loads the addon itself, before the bundle, to map the bundle and set V8's
  // flags (cli/cold-start.ts); it names the addon by native.ts's Addon type.
  'cli/': ['agent/', 'demo/', 'dhcp/', 'errors', 'handle', 'managed/', 'native', 'store/', 'sys/', 'tx/', 'util/'],
  'internal/': ['netlink/', 'tx/'],
  index: ['agent/', 'conntrack/', 'dhcp/', 'errors', 'events/', 'handle', 'managed/', 'native', 'nft/', 'rtnl/', 'store/', 'sys/', 'tx/'],
};

/**
 * The MANAGED model's pure files: what they load, following value imports
 * (type-only ones erase), never reaches the kernel, a file or a process.
 */
const PURE = /^managed\/(roles\/.*|ops\/.*|allocate|check-\w+|ct-reconcile|document|fields|net|pool|schema|types|validate|vnetconf)\.ts$/;
// (native.ts loads the addon only when first used, so importing it is not an effect.)
const EFFECTFUL_FILE = /^(session|handle)\.ts$|^sys\/|^netlink\/(socket|subscription)\.ts$|^nft\/nft\.ts$|^events\/stream\.ts$/;
// (node:net only for isIP.)
const EFFECTFUL_NODE = /^node:(fs|fs\/promises|child_process|dgram|worker_threads)$/;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? tsFiles(p) : /\.ts$/.test(e.name) ? [p] : [];
  });
}

interface FileImports {
  /** src/ files imported, type-only imports included (relative to src/). */
  all: string[];
  /** Those loaded at run time (not `import type` / `export type`). */
  values: string[];
  /** node: modules loaded at run time. */
  node: string[];
}

const IMPORT = /(?:^|\n)\s*((?:import|export)\s[^'"]*?from\s+)['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Each file (relative to src/) with what it imports. */
function imports(): Map<string, FileImports> {
  const out = new Map<string, FileImports>();
  for (const f of tsFiles(src)) {
    const entry: FileImports = { all: [], values: [], node: [] };
    for (const m of readFileSync(f, 'utf8').matchAll(IMPORT)) {
      const spec = m[2] ?? m[3] ?? '';
      const typeOnly = /^\s*(import|export)\s+type\s/.test(m[1] ?? '');
      if (spec.startsWith('node:')) {
        if (!typeOnly) entry.node.push(spec);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const t = relative(src, resolve(dirname(f), spec))
        .replace(/\.js$/, '.ts')
        .split(sep)
        .join('/');
      entry.all.push(t);
      if (!typeOnly) entry.values.push(t);
    }
    out.set(relative(src, f).split(sep).join('/'), entry);
  }
  return out;
}

const unitOf = (file: string): string => (file.includes('/') ? `${file.split('/')[0]}/` : file.replace(/\.ts$/, ''));

describe('layers of src/', () => {
  const graph = imports();

  it('reads the whole tree', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('handle.ts')?.all).toContain('session.ts');
  });

  it('every import between units goes in an allowed direction', () => {
    const wrong: string[] = [];
    for (const [file, { all: targets }] of graph) {
      const from = unitOf(file);
      for (const t of targets) {
        const to = unitOf(t);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) wrong.push(`${file} imports ${t} (${from} -> ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the MANAGED model's pure core loads nothing that reaches the kernel, files or processes", () => {
    const pure = [...graph.keys()].filter((f) => PURE.test(f));
    expect(pure.length).toBeGreaterThan(15);
    const wrong: string[] = [];
    for (const start of pure) {
      const seen = new Set([start]);
      const todo = [start];
      while (todo.length) {
        const f = todo.pop() ?? '';
        const entry = graph.get(f);
        if (!entry) continue;
        for (const n of entry.node) if (EFFECTFUL_NODE.test(n)) wrong.push(`${start} loads ${f}, which imports ${n}`);
        for (const t of entry.values) {
          if (EFFECTFUL_FILE.test(t)) wrong.push(`${start} loads ${f}, which imports ${t}`);
          else if (!seen.has(t)) {
            seen.add(t);
            todo.push(t);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
