// Bad input through the whole command line: `eucanet apply` with a malformed
// state exits 2 with one line naming the field, and the kernel of the target
// namespace is left exactly as it was (full dump before and after).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/managed-badinput.test.ts: skipped, needs root');

const root = new URL('../..', import.meta.url).pathname;
const seed = JSON.parse(readFileSync(join(root, 'examples/seed.json'), 'utf8'));
type Doc = Record<string, any>;

/** [mutation, text the error line must contain] */
const cases: Array<[(s: Doc) => void, string]> = [
  [(s) => (s.subnet = '10.1.0.0/33'), 'subnet'],
  [(s) => (s.subnet = '10.1.0.1/16'), 'subnet'],
  [(s) => (s.subnet = 'ten.one/16'), 'subnet'],
  [(s) => (s.addrsPerNet = 48), 'addrsPerNet'],
  [(s) => (s.mode = 'SYSTEM'), 'mode'],
  [(s) => (s.vlanRange = [0, 4094]), 'vlanRange'],
  [(s) => (s.groups[0].vlan = 4095), 'groups[0].vlan'],
  [(s) => (s.groups[0].vlan = 0), 'groups[0].vlan'],
  [(s) => (s.groups[1].vlan = 10), 'groups[1].vlan'],
  [(s) => (s.groups[1].name = 'default'), 'groups[1]'],
  [(s) => (s.groups[0].subnet = '10.1.2.0/26'), 'groups[0].subnet'],
  [(s) => (s.groups[1].subnet = '10.1.2.0/27'), 'groups[1].subnet'],
  [(s) => (s.groups[0].rules[0].from = 70000), 'groups[0].rules[0].from'],
  [(s) => (s.groups[0].rules[0].to = 21), 'groups[0].rules[0]'],
  [(s) => (s.groups[0].rules[0].protocol = 'sctpx'), 'groups[0].rules[0].protocol'],
  [(s) => (s.groups[0].rules[0].cidr = '0.0.0.0/40'), 'groups[0].rules[0].cidr'],
  [(s) => (s.groups[0].rules[0] = { protocol: 'icmp', icmpType: 300, cidr: '0.0.0.0/0' }), 'groups[0].rules[0].icmpType'],
  [(s) => (s.groups[0].rules[0] = { protocol: 'tcp', from: 22, sourceGroup: 'admin/nosuch' }), 'groups[0].rules[0].sourceGroup'],
  [(s) => (s.instances[0].group = 'admin/nosuch'), 'instances[0].group'],
  [(s) => (s.instances[0].node = 'nc9'), 'instances[0].node'],
  [(s) => (s.instances[1].id = 'i-1'), 'instances[1].id'],
  [(s) => (s.instances[0].privateIp = '10.1.9.9'), 'instances[0].privateIp'],
  [(s) => (s.instances[0].privateIp = '10.1.2.1'), 'instances[0].privateIp'],
  [(s) => (s.instances[0].mac = 'd0:0d:zz:01:02:02'), 'instances[0].mac'],
  [(s) => (s.instances[0].publicIp = '192.168.33.1'), 'instances[0].publicIp'],
  [(s) => (s.instances[1].publicIp = '192.168.32.200'), 'instances[1].publicIp'],
  [(s) => (s.instances[0].port = 'vnet-with-a-long-name'), 'instances[0].port'],
  [(s) => (s.cc.publicInterface = 'averyverylongeth0'), 'cc.publicInterface'],
  [(s) => (s.publicIps = ['10.1.5.0/24']), 'publicIps[0]'],
  [(s) => (s.metadata = '192.168.32.10'), 'metadata'],
  [(s) => (s.macPrefix = 'd0:0d:00'), 'macPrefix'],
  [(s) => (s.segmentation = 'ethernet'), 'segmentation'],
  [(s) => ((s.publicIps = ['192.168.32.200-192.168.32.200']), (s.instances[2].publicIp = true)), 'publicIp'],
];

describe.skipIf(!isRoot)('eucanet apply with bad input (root)', () => {
  it(`refuses ${cases.length} malformed states with exit 2, the field named, and the kernel untouched`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    await withNetns(async (ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const before = kernelDump(ns);
      const dir = mkdtempSync(join(tmpdir(), 'eucanet-bad-'));
      try {
        cases.forEach(([mutate, field], i) => {
          const doc = structuredClone(seed);
          mutate(doc);
          const file = join(dir, `bad${i}.json`);
          writeFileSync(file, JSON.stringify(doc));
          const r = spawnSync(process.execPath, [join(root, 'dist/cli/main.js'), 'apply', '--state', file, '--role', 'cc', '--netns', ns], {
            encoding: 'utf8',
          });
          expect(r.status, `case ${i} (${field}): ${r.stderr}`).toBe(2);
          const lines = r.stderr.trim().split('\n');
          expect(lines, `case ${i}: one line`).toHaveLength(1);
          expect(lines[0], `case ${i}`).toContain(field);
          expect(r.stdout).toBe('');
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(kernelDump(ns)).toBe(before);
    });
  }, 120_000);
});
