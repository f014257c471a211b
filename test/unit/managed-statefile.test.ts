import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { allocate, allocateFile, loadState, readState, writeFileAtomic } from '../../src/managed/index.js';

const examples = new URL('../../examples/', import.meta.url);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'eucanet-state-'));
  for (const f of ['seed.json', 'seed-groups.json', 'eucalyptus.conf']) copyFileSync(new URL(f, examples), join(dir, f));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (f: string) => readFileSync(join(dir, f), 'utf8');

describe('allocateFile', () => {
  test('fills the allocations in place: 2-space JSON, trailing newline, keys in order', async () => {
    const path = join(dir, 'seed.json');
    const r = await allocateFile(path);
    expect(r.changed).toBe(true);
    const text = read('seed.json');
    expect(text.endsWith('}\n')).toBe(true);
    const doc = JSON.parse(text);
    expect(text).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    expect(Object.keys(doc)[0]).toBe('$schema');
    expect(doc.groups[1]).toEqual({
      owner: 'admin',
      name: 'web',
      vlan: 11,
      subnet: '10.1.1.32/27',
      rules: [{ protocol: 'tcp', from: 80, to: 80, cidr: '0.0.0.0/0' }],
    });
    expect(doc.instances[1]).toEqual({
      id: 'i-2',
      group: 'admin/default',
      node: 'nc1',
      port: 'vnet2',
      privateIp: '10.1.2.3',
      mac: 'd0:0d:0a:01:02:03',
      publicIp: '192.168.32.201',
    });
    expect(r.state).toEqual(allocate(JSON.parse(readFileSync(new URL('seed.json', examples), 'utf8'))));
    expect(readdirSync(dir).sort()).toEqual(['eucalyptus.conf', 'seed-groups.json', 'seed.json']);
  });

  test('a second run changes nothing and does not rewrite the file', async () => {
    const path = join(dir, 'seed.json');
    await allocateFile(path);
    const before = statSync(path);
    const text = read('seed.json');
    const r = await allocateFile(path);
    expect(r.changed).toBe(false);
    expect(read('seed.json')).toBe(text);
    expect(statSync(path).ino).toBe(before.ino);
  });

  test('writes only what the document holds: no defaults, no conf settings', async () => {
    const path = join(dir, 'seed-groups.json');
    const r = await allocateFile(path, { conf: join(dir, 'eucalyptus.conf') });
    expect(r.warnings).toHaveLength(1);
    const doc = JSON.parse(read('seed-groups.json'));
    expect(Object.keys(doc)).toEqual(['segmentation', 'cc', 'nodes', 'groups', 'instances']);
    expect(doc.cc).toEqual({ underlay: '10.0.0.1/24' });
    expect(doc.instances[0].mac).toBe('d0:0d:0a:01:02:02');
    expect(r.state.metadata).toBe('192.168.32.10:8773');
  });

  test('keeps the file mode and writes through a symlink', async () => {
    const real = join(dir, 'seed.json');
    chmodSync(real, 0o600);
    symlinkSync('seed.json', join(dir, 'link.json'));
    await allocateFile(join(dir, 'link.json'));
    expect(statSync(real).mode & 0o777).toBe(0o600);
    expect(JSON.parse(read('seed.json')).instances[0].privateIp).toBe('10.1.2.2');
    expect(readdirSync(dir).sort()).toEqual(['eucalyptus.conf', 'link.json', 'seed-groups.json', 'seed.json']);
  });

  test.skipIf(process.getuid?.() !== 0)('keeps the file owner and group (root rewriting a nobody:nogroup file)', async () => {
    const path = join(dir, 'seed.json');
    chownSync(path, 65534, 65534);
    chmodSync(path, 0o640);
    const r = await allocateFile(path);
    expect(r.changed).toBe(true);
    const st = statSync(path);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o640]);
    expect(JSON.parse(read('seed.json')).instances[0].privateIp).toBe('10.1.2.2');
  });

  test('a bad state leaves the file untouched', async () => {
    const path = join(dir, 'seed.json');
    const doc = JSON.parse(read('seed.json'));
    doc.groups[1].vlan = 10;
    writeFileSync(path, JSON.stringify(doc));
    const text = read('seed.json');
    await expect(allocateFile(path)).rejects.toThrow(/invalid groups\[1\]\.vlan 10: duplicate vlan/);
    expect(read('seed.json')).toBe(text);
  });
});

describe('loadState', () => {
  test('JSON alone', async () => {
    const { state, warnings } = await loadState(join(dir, 'seed.json'));
    expect(state.groups).toHaveLength(2);
    expect(warnings).toEqual([]);
  });

  test('JSON plus a eucalyptus.conf', async () => {
    const { state, document } = await loadState(join(dir, 'seed-groups.json'), { conf: join(dir, 'eucalyptus.conf') });
    expect(state.subnet).toBe('10.1.0.0/16');
    expect(state.cc).toEqual({ underlay: '10.0.0.1/24', publicInterface: 'eth0', privateInterface: 'eth1' });
    expect(document.subnet).toBeUndefined();
  });

  test('errors name the file', async () => {
    writeFileSync(join(dir, 'bad.json'), '{ "mode": "MANAGED", }');
    await expect(loadState(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json.*not valid JSON/);
    writeFileSync(join(dir, 'list.json'), '[]');
    await expect(loadState(join(dir, 'list.json'))).rejects.toThrow(/list\.json \[\]: expected a JSON object/);
    await expect(loadState(join(dir, 'seed-groups.json'))).rejects.toThrow(/invalid mode undefined: is required/);
  });
});

describe('readState (the state alone, as apply reads it)', () => {
  test('the same state and warnings as loadState, with and without a conf', async () => {
    for (const [file, opts] of [
      ['seed.json', {}],
      ['seed-groups.json', { conf: join(dir, 'eucalyptus.conf') }],
    ] as const) {
      const a = await loadState(join(dir, file), opts);
      const b = await readState(join(dir, file), opts);
      expect(b.state).toEqual(a.state);
      expect(b.warnings).toEqual(a.warnings);
    }
  });

  test('the same errors, naming the file, the field and the value', async () => {
    writeFileSync(join(dir, 'bad.json'), '{ "mode": "MANAGED", }');
    await expect(readState(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json.*not valid JSON/);
    await expect(readState(join(dir, 'seed-groups.json'))).rejects.toThrow(/invalid mode undefined: is required/);
    const doc = JSON.parse(read('seed.json'));
    doc.instances[0].privateIp = '10.1.2.300';
    writeFileSync(join(dir, 'ip.json'), JSON.stringify(doc));
    await expect(readState(join(dir, 'ip.json'))).rejects.toThrow(/invalid instances\[0\]\.privateIp "10\.1\.2\.300": expected an IPv4 address/);
  });
});

test('writeFileAtomic creates a file that did not exist', async () => {
  const path = join(dir, 'new.json');
  await writeFileAtomic(path, '{}\n');
  expect(read('new.json')).toBe('{}\n');
  expect(statSync(path).mode & 0o777).toBe(0o644);
});
