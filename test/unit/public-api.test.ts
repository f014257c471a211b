// The package root's API is deliberate (src/index.ts): what the README
// documents, and none of the internals or test hooks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as testing from '../../src/internal/testing.js';
import type { EventOptions, EventStream, NetEvent } from '../../src/index.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the public API', () => {
  it('exports exactly these values from the root', () => {
    expect(Object.keys(root).sort()).toEqual([
      'AddonMissingError',
      'Agent',
      'AgentMetrics',
      'ConntrackApplyError',
      'DecodeError',
      'EUCANET_PROTO',
      'ExchangeError',
      'Handle',
      'ManagedCloud',
      'NetlinkError',
      'OWNER_ALIAS',
      'PORT_GROUP',
      'StoreSource',
      'SystemCallError',
      'Transaction',
      'TransactionError',
      'ValidationError',
      'applyRole',
      'checkNetns',
      'createNetns',
      'deleteNetns',
      'dhcp',
      'downRole',
      'isBusy',
      'isDecodeError',
      'isExists',
      'isGenerationMismatch',
      'isInvalid',
      'isNotFound',
      'isNotSupported',
      'isPermission',
      'listNetns',
      'managed',
      'netnsExists',
      'nft',
      'open',
      'plan',
      'planCc',
      'planNc',
      'planRole',
      'readSysctl',
      'reconcile',
      'serveMetrics',
      'store',
      'writeSysctl',
    ]);
  });

  it('every name the README imports from eucanet is exported', () => {
    const imported = [...README.matchAll(/import \{([^}]+)\} from 'eucanet'/g)].flatMap((m) =>
      m[1]
        .split(',')
        .map((s) => s.trim().replace(/^type\s+/, ''))
        .filter(Boolean),
    );
    expect(imported.length).toBeGreaterThan(5);
    const types = new Set(['DesiredState', 'NetEvent']);
    for (const name of imported) if (!types.has(name)) expect(root, name).toHaveProperty(name);
  });

  it('the nft namespace is the builder, batches, listing and rendering: no codecs, no batch checker', () => {
    const names = Object.keys(root.nft);
    for (const internal of [
      'decodeRule',
      'decodeExpr',
      'encodeExpr',
      'encodeExprs',
      'attrPathName',
      'describeAttribute',
      'verifyOps',
      'listTables',
      'getGeneration',
      'FIELDS',
      'validateChain',
    ]) {
      expect(names, internal).not.toContain(internal);
    }
    for (const name of ['Batch', 'Nft', 'openNft', 'rule', 'RuleBuilder', 'renderBatch', 'renderRuleset', 'parseElements']) expect(names, name).toContain(name);
  });

  it('events: h.events() is a Handle verb; the stream and event types are exported as types only', () => {
    expect(typeof root.Handle.prototype.events).toBe('function');
    expect(Object.keys(root)).not.toContain('EventStream');
    // Type-level: these compile only if the types are exported from the root (npm run typecheck).
    const opts: EventOptions = { links: true, addresses: true, routes: true, neighbors: true, nft: true, dump: true, rcvbuf: 1 << 20, highWater: 100 };
    const kinds: Array<NetEvent['type']> = [
      'link',
      'address',
      'route',
      'neighbor',
      'table',
      'chain',
      'rule',
      'set',
      'element',
      'generation',
      'synced',
      'resync',
      'undecoded',
    ];
    const close: (s: EventStream) => void = (s) => s.close();
    expect([opts.dump, kinds.length, typeof close]).toEqual([true, 13, 'function']);
  });

  it('conntrack: verbs on the Handle, its types exported, none of its codecs at the root', async () => {
    const h = root.open();
    try {
      expect(Object.keys(h.conntrack).sort()).toEqual(['delete', 'flush', 'list']);
    } finally {
      h.close();
    }
    const filter: root.CtFilter = { family: 'ipv4', mark: { value: 1, mask: 1 }, orig: { dst: '10.0.0.0/8' } };
    expect(filter.family).toBe('ipv4');
    for (const internal of ['decodeEntry', 'dumpRequest', 'deleteRequest', 'flushRequest', 'compileFilter', 'listConntrack']) {
      expect(Object.keys(root), internal).not.toContain(internal);
    }
  });

  it('test hooks are reachable from src/internal/testing.ts only', () => {
    expect(Object.keys(testing)).toEqual(['commitWithHooks']);
    expect(Object.keys(root)).not.toContain('commitWithHooks');
    expect(Object.keys(root)).not.toContain('failOp');
  });
});
