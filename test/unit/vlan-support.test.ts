// The read-only 802.1Q check: /proc/net/vlan, or an 8021q module the kernel can load.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vlanSupport } from '../../src/sys/vlan-support.js';

const dir = mkdtempSync(join(tmpdir(), 'eucanet-vlan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vlanSupport', () => {
  const proc = join(dir, 'proc-net');
  const mods = join(dir, 'modules');
  mkdirSync(proc);
  mkdirSync(join(mods, '6.1.0-test'), { recursive: true });

  it('no /proc/net/vlan and no module: not supported, and says why', () => {
    const s = vlanSupport({ procNet: proc, moduleDirs: [mods], release: '6.1.0-test' });
    expect(s).toEqual({ supported: false, how: `no ${proc}/vlan and no 8021q module for kernel 6.1.0-test` });
  });

  it('an 8021q module in modules.dep: supported (loaded on first use)', () => {
    writeFileSync(join(mods, '6.1.0-test', 'modules.dep'), 'kernel/net/8021q/8021q.ko.xz: kernel/net/802/garp.ko.xz\n');
    const s = vlanSupport({ procNet: proc, moduleDirs: [mods], release: '6.1.0-test' });
    expect(s.supported).toBe(true);
    expect(s.how).toContain('8021q module');
    expect(vlanSupport({ procNet: proc, moduleDirs: [mods], release: '6.2.0-other' }).supported).toBe(false);
  });

  it('/proc/net/vlan present: supported', () => {
    mkdirSync(join(proc, 'vlan'));
    expect(vlanSupport({ procNet: proc, moduleDirs: [], release: 'x' })).toMatchObject({ supported: true });
  });
});
