// Roles own what they make, through the command line, in throw-away
// namespaces: `down --role cc` on a node controller's namespace removes none
// of the node's objects and says what it left; `apply --role cc` there is
// refused (exit 2, nothing changed) unless --force; `down` lists what it
// removed and puts net.ipv4.ip_forward back; `show` names each port's
// instance and group and gives the rules as objects.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eucanet, repoRoot } from '../helpers/cli.js';
import { isRoot, nftRuleset, withNetns } from '../helpers/netns.js';
import { settledDump, stableDump } from '../helpers/settle.js';

if (!isRoot) console.warn('test/integration/cli-roles.test.ts: skipped, needs root');

const dir = mkdtempSync(join(tmpdir(), 'eucanet-roles-'));
/** Namespaces used, whose DHCP state directories (/run/eucanet/NAME) go afterwards. */
const used: string[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const ns of used) rmSync(`/run/eucanet/${ns}`, { recursive: true, force: true });
});
const seed = JSON.parse(readFileSync(join(repoRoot, 'examples/seed.json'), 'utf8'));
const stateFile = join(dir, 'cloud.json');
writeFileSync(stateFile, JSON.stringify({ ...seed, segmentation: 'vxlan' }));

/**
 * The full dump without what moves by itself between two reads: the bridges'
 * running timers, and operstate, which the kernel's linkwatch settles up to a
 * second after a link comes up.
 */
const kernelDump = (ns: string) => stableDump(ns).replace(/"operstate": "\w+"/g, '"operstate"');
/** The hosts' NICs; IPv6 off, so no link-local address appears (after DAD) between two dumps. */
const veths = (ns: string) => {
  execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  execFileSync('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
};
const forwarding = (ns: string) => execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/sys/net/ipv4/ip_forward'], { encoding: 'utf8' }).trim();

describe.skipIf(!isRoot)('roles own what they make (root)', () => {
  it("down --role cc leaves a node controller's objects; apply --role cc there is refused unless --force", async () => {
    await withNetns(async (ns) => {
      used.push(ns);
      veths(ns);
      const nc = eucanet(['apply', '--state', stateFile, '--role', 'nc', '--node', 'nc1', '--netns', ns]);
      expect(nc.status, nc.stderr).toBe(0);
      await settledDump(ns);
      const applied = kernelDump(ns);

      const down = eucanet(['down', '--role', 'cc', '--netns', ns]);
      expect(down.status, down.stderr).toBe(0);
      expect(kernelDump(ns)).toBe(applied);
      expect(down.stdout).toMatch(/^role cc: nothing of this role to remove/);
      expect(down.stdout).toContain('link vnet1 (role nc)');
      expect(down.stdout).toContain('table bridge eucanet-nc (role nc)');

      for (const extra of [[], ['--dry-run']]) {
        const cc = eucanet(['apply', '--state', stateFile, '--role', 'cc', '--netns', ns, ...extra]);
        expect(cc.status, cc.stdout).toBe(2);
        expect(cc.stderr.trim().split('\n')).toHaveLength(1);
        expect(cc.stderr).toMatch(
          /refusing to apply role cc: the namespace holds eucanet's nc role objects \(link vnet1, link vnet2, .* and \d+ more\); remove them with `eucanet down --role nc`/,
        );
        expect(cc.stderr).toContain('--force');
        expect(kernelDump(ns)).toBe(applied);
      }

      const forced = eucanet(['apply', '--state', stateFile, '--role', 'cc', '--netns', ns, '--force']);
      expect(forced.status, forced.stderr).toBe(0);
      expect(forced.stdout).toContain('taken over (--force)');
      expect(nftRuleset(ns).some((o) => o.table?.name === 'eucanet-nc')).toBe(false);
      expect(nftRuleset(ns).some((o) => o.table?.name === 'eucanet')).toBe(true);
      const stillNc = eucanet(['down', '--role', 'nc', '--netns', ns]);
      expect(stillNc.stdout).toMatch(/^role nc: nothing of this role to remove/);
      expect(eucanet(['down', '--role', 'cc', '--netns', ns]).status).toBe(0);
    }, 'eut-roles');
  }, 120_000);

  it("an older eucanet's objects (no role in the mark): adopted when wanted, else left and listed; down --force removes them", async () => {
    await withNetns(async (ns) => {
      used.push(ns);
      veths(ns);
      // As an eucanet from before the role marks left them: the group's bridge, and one no state wants.
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eucabr10', 'type', 'bridge']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eucabr10', 'alias', 'eucanet:admin/default']);
      execFileSync('ip', ['-n', ns, 'link', 'add', 'eucabr99', 'type', 'bridge']);
      execFileSync('ip', ['-n', ns, 'link', 'set', 'eucabr99', 'alias', 'eucanet:old/gone']);
      const alias = (name: string) => JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', name], { encoding: 'utf8' }))[0].ifalias;

      const nc = eucanet(['apply', '--state', stateFile, '--role', 'nc', '--node', 'nc1', '--netns', ns]);
      expect(nc.status, nc.stderr).toBe(0);
      expect(alias('eucabr10')).toBe('eucanet/nc:admin/default');
      expect(alias('eucabr99')).toBe('eucanet:old/gone');
      expect(nc.stdout).toContain('left alone: 1 eucanet object not of this role:\n  link eucabr99 (older eucanet, no role mark)');

      const down = eucanet(['down', '--role', 'nc', '--netns', ns]);
      expect(down.stdout).toContain('eucabr10');
      expect(down.stdout).toContain('left: 1 eucanet object not of role nc (down --force removes them):\n  link eucabr99 (older eucanet, no role mark)');
      expect(alias('eucabr99')).toBe('eucanet:old/gone');
      const forced = eucanet(['down', '--role', 'nc', '--netns', ns, '--force']);
      expect(forced.stdout).toMatch(/removed 1 object[\s\S]*links: eucabr99/);
      expect(execFileSync('ip', ['-n', ns, '-br', 'link'], { encoding: 'utf8' })).not.toContain('eucabr');
    }, 'eut-roles');
  }, 120_000);

  it("show names each port's instance and group, DHCP's pid, and gives structured rules; down lists what it removed and restores ip_forward", async () => {
    await withNetns(async (ns) => {
      used.push(ns);
      veths(ns);
      expect(forwarding(ns)).toBe('0');
      expect(eucanet(['apply', '--state', stateFile, '--role', 'nc', '--node', 'nc1', '--netns', ns]).status).toBe(0);
      const show = JSON.parse(eucanet(['show', '--netns', ns, '--json']).stdout);
      const byPort = Object.fromEntries(show.ports.map((p: any) => [p.name, p]));
      expect(byPort.vnet1).toEqual({ name: 'vnet1', bridge: 'eucabr10', instance: 'i-1', group: 'admin/default' });
      expect(byPort.vnet0).toMatchObject({ instance: 'i-3', group: 'admin/web', bridge: 'eucabr11' });
      expect(Array.isArray(show.ruleset.rules)).toBe(true);
      expect(show.ruleset.rules.find((r: any) => r.comment === 'MAC spoofing')).toMatchObject({ family: 'bridge', table: 'eucanet-nc', chain: 'prerouting' });
      expect(show.ruleset.sets.find((s: any) => s.name === 'ports').elements).toContain('"vnet1"');
      expect(eucanet(['down', '--role', 'nc', '--netns', ns]).status).toBe(0);

      const cc = eucanet(['apply', '--state', stateFile, '--role', 'cc', '--netns', ns]);
      expect(cc.status, cc.stderr).toBe(0);
      expect(forwarding(ns)).toBe('1');
      const ccShow = JSON.parse(eucanet(['show', '--netns', ns, '--json']).stdout);
      expect(ccShow.dhcp.running).toBe(true);
      expect(ccShow.dhcp.pid).toBeGreaterThan(0);
      expect(eucanet(['show', '--netns', ns]).stdout).toContain(`dnsmasq running, pid ${ccShow.dhcp.pid}`);

      const down = eucanet(['down', '--role', 'cc', '--netns', ns]);
      expect(down.status, down.stderr).toBe(0);
      expect(down.stdout).toContain('  links: eucabr10, eucabr11, eucavx10, eucavx11');
      expect(down.stdout).toContain('192.168.32.200/32 on eth0');
      expect(down.stdout).toContain('  nftables tables: ip eucanet');
      expect(down.stdout).toContain(`  dnsmasq: stopped (pid ${ccShow.dhcp.pid})`);
      expect(down.stdout).toContain('  net.ipv4.ip_forward: restored to 0');
      expect(forwarding(ns)).toBe('0');
    }, 'eut-roles');
  }, 120_000);
});
