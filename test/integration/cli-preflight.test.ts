// Preflight through the command line: a host missing its interfaces (and,
// on a kernel without 802.1Q, VLAN support) gets one error naming every
// missing piece, exit 2, from the apply and from its dry run, with nothing
// changed; `segmentation: auto` picks vxlan here and says so.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vlanSupport } from '../../src/sys/vlan-support.js';
import { eucanet, repoRoot } from '../helpers/cli.js';
import { isRoot, withNetns } from '../helpers/netns.js';
import { kernelDump } from '../helpers/state.js';

if (!isRoot) console.warn('test/integration/cli-preflight.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-preflight-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
function stateWith(name: string, change: (d: any) => void): string {
  const d = structuredClone(seed);
  change(d);
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(d));
  return file;
}
const vlan = stateWith('vlan.json', () => undefined);
const auto = stateWith('auto.json', (d) => (d.segmentation = 'auto'));
const autoNoUnderlay = stateWith('auto-bare.json', (d) => {
  d.segmentation = 'auto';
  delete d.cc.underlay;
  for (const n of Object.values<any>(d.nodes)) delete n.underlay;
});
const has8021q = vlanSupport().supported;

describe.skipIf(!isRoot)('preflight (root)', () => {
  it('the read-only 802.1Q check agrees with the kernel (a VLAN device in a throw-away namespace)', async () => {
    await withNetns((ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
      const r = spawnSync('ip', ['-n', ns, 'link', 'add', 'link', 'p0', 'name', 'p0.10', 'type', 'vlan', 'id', '10'], { encoding: 'utf8' });
      expect(r.status === 0).toBe(has8021q);
      if (!has8021q) expect(r.stderr).toMatch(/Unknown device type|not supported/i);
    }, 'eut-pf');
  });

  it('names every missing piece at once, exit 2, from apply and its dry run, and changes nothing', async () => {
    await withNetns((ns) => {
      const before = kernelDump(ns);
      for (const extra of [[], ['--dry-run']]) {
        const cc = eucanet(['apply', '--state', vlan, '--role', 'cc', '--netns', ns, ...extra]);
        expect(cc.status, cc.stderr).toBe(2);
        const lines = cc.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(`preflight: namespace ${ns} is not ready`);
        expect(lines[0]).toContain(`cc.publicInterface "eth0": no such interface in namespace ${ns}`);
        expect(lines[0]).toContain(`cc.privateInterface "eth1": no such interface in namespace ${ns}`);
        if (!has8021q) expect(lines[0]).toContain('segmentation vlan: this kernel has no 802.1Q (no /proc/net/vlan');
        if (!has8021q) expect(lines[0]).toContain('use segmentation "vxlan" (with underlay addresses on cc and every node) or "auto"');
        expect(lines[0]).toContain(has8021q ? '(2 problems)' : '(3 problems)');
        const nc = eucanet(['apply', '--state', vlan, '--role', 'nc', '--node', 'nc1', '--netns', ns, ...extra]);
        expect(nc.status).toBe(2);
        expect(nc.stderr).toContain('nodes.nc1.privateInterface "eth0": no such interface');
      }
      expect(kernelDump(ns)).toBe(before);
    }, 'eut-pf');
  });

  it('segmentation auto: vxlan on a kernel without 802.1Q, said in the output; without underlays, the error names them', async () => {
    await withNetns((ns) => {
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
      const dry = eucanet(['apply', '--state', auto, '--role', 'cc', '--netns', ns, '--dry-run']);
      expect(dry.status, dry.stderr).toBe(0);
      const [first] = dry.stdout.split('\n');
      if (has8021q) {
        expect(first).toMatch(/^# segmentation auto: vlan \(this kernel has 802\.1Q/);
      } else {
        expect(first).toMatch(/^# segmentation auto: vxlan \(this kernel has no 802\.1Q: no \/proc\/net\/vlan/);
        expect(dry.stdout).toContain('type vxlan id 10');
        const json = JSON.parse(eucanet(['apply', '--state', auto, '--role', 'cc', '--netns', ns, '--dry-run', '--json']).stdout);
        expect(json.segmentation).toBe('vxlan');
        const bare = eucanet(['apply', '--state', autoNoUnderlay, '--role', 'cc', '--netns', ns, '--dry-run']);
        expect(bare.status).toBe(2);
        expect(bare.stderr).toMatch(/segmentation auto: this kernel has no 802\.1Q .*, and vxlan cannot be used: invalid cc\.underlay/);
      }
    }, 'eut-pf');
  });
});
