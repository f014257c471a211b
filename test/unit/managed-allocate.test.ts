import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { allocate, eucalyptusBlock, groupNet, type Instance, type State } from '../../src/managed/index.js';
import { ValidationError } from '../../src/errors.js';

const seedText = readFileSync(new URL('../../examples/seed.json', import.meta.url), 'utf8');
const seed = (): State => JSON.parse(seedText) as State;

/** A small state with nothing allocated. */
function bare(extra: Partial<State> = {}): State {
  return {
    mode: 'MANAGED',
    subnet: '10.1.0.0/16',
    addrsPerNet: 32,
    publicIps: ['192.168.32.200-192.168.32.250'],
    cc: { publicInterface: 'eth0', privateInterface: 'eth1' },
    nodes: { nc1: { privateInterface: 'eth0' } },
    groups: [{ owner: 'admin', name: 'default', rules: [] }],
    instances: [],
    ...extra,
  };
}

function thrown(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('allocation of the seed example', () => {
  const s = allocate(seed());
  const byId = (id: string) => s.instances.find((i) => i.id === id)!;

  test('group admin/default is VLAN 10 with 10.1.2.0/27 and gateway 10.1.2.1 (figure 3-5)', () => {
    const g = s.groups[0];
    expect([g.owner, g.name, g.vlan, g.subnet]).toEqual(['admin', 'default', 10, '10.1.2.0/27']);
    expect(groupNet(g)).toMatchObject({ gateway: '10.1.2.1', broadcast: '10.1.2.31', netmask: '255.255.255.224', prefix: 27 });
  });

  test("the second group is VLAN 11 with Eucalyptus' block for it", () => {
    expect(s.groups[1]).toMatchObject({ owner: 'admin', name: 'web', vlan: 11, subnet: '10.1.1.32/27' });
  });

  test('instances #1 and #2: 10.1.2.2 and 10.1.2.3, their MACs, public .200 and .201', () => {
    expect(byId('i-1')).toMatchObject({ privateIp: '10.1.2.2', mac: 'd0:0d:0a:01:02:02', publicIp: '192.168.32.200', port: 'vnet1' });
    expect(byId('i-2')).toMatchObject({ privateIp: '10.1.2.3', mac: 'd0:0d:0a:01:02:03', publicIp: '192.168.32.201', port: 'vnet2' });
  });

  test('every instance, in document order, lowest free address of its group', () => {
    expect(s.instances.map((i) => [i.id, i.node, i.port, i.privateIp, i.mac, i.publicIp ?? null])).toEqual([
      ['i-1', 'nc1', 'vnet1', '10.1.2.2', 'd0:0d:0a:01:02:02', '192.168.32.200'],
      ['i-2', 'nc1', 'vnet2', '10.1.2.3', 'd0:0d:0a:01:02:03', '192.168.32.201'],
      ['i-3', 'nc1', 'vnet0', '10.1.1.34', 'd0:0d:0a:01:01:22', null],
      ['i-4', 'nc1', 'vnet3', '10.1.1.35', 'd0:0d:0a:01:01:23', null],
      ['i-5', 'nc2', 'vnet1', '10.1.2.4', 'd0:0d:0a:01:02:04', null],
      ['i-6', 'nc2', 'vnet2', '10.1.2.5', 'd0:0d:0a:01:02:05', null],
      ['i-7', 'nc2', 'vnet0', '10.1.1.36', 'd0:0d:0a:01:01:24', null],
      ['i-8', 'nc2', 'vnet3', '10.1.1.37', 'd0:0d:0a:01:01:25', null],
    ]);
  });

  test('defaults are resolved and keys come in schema order', () => {
    expect(s).toMatchObject({ segmentation: 'vlan', vlanRange: [10, 4094], macPrefix: 'd0:0d', metadata: '192.168.32.10:8773' });
    expect(Object.keys(s.instances[0])).toEqual(['id', 'group', 'node', 'port', 'privateIp', 'mac', 'publicIp']);
    expect(Object.keys(s.groups[1])).toEqual(['owner', 'name', 'vlan', 'subnet', 'rules']);
  });

  test('the input is not modified', () => {
    const input = seed();
    allocate(input);
    expect(input).toEqual(seed());
  });
});

describe('stability', () => {
  test('allocating an allocated state changes nothing', () => {
    const once = allocate(seed());
    expect(allocate(once)).toEqual(once);
    expect(JSON.stringify(allocate(once))).toBe(JSON.stringify(once));
  });

  test('adding an instance or a group moves nothing that was allocated', () => {
    const once = allocate(seed());
    const more = structuredClone(once) as State;
    more.groups!.splice(1, 0, { owner: 'bob', name: 'db' });
    more.instances!.unshift({ id: 'i-0', group: 'admin/default', node: 'nc2', publicIp: true });
    const twice = allocate(more);
    for (const inst of once.instances) expect(twice.instances.find((i) => i.id === inst.id)).toEqual(inst);
    for (const g of once.groups) expect(twice.groups.find((x) => x.name === g.name)).toEqual(g);
    expect(twice.instances[0]).toMatchObject({ privateIp: '10.1.2.6', publicIp: '192.168.32.202', port: 'vnet4' });
    expect(twice.groups[1]).toMatchObject({ vlan: 12, subnet: '10.1.1.64/27' });
  });

  test('a freed address is reused, lowest first', () => {
    const s = allocate(seed()) as State;
    s.instances = s.instances!.filter((i) => i.id !== 'i-2');
    s.instances.push({ id: 'i-9', group: 'admin/default', node: 'nc1', publicIp: true });
    const again = allocate(s);
    expect(again.instances.at(-1)).toMatchObject({ privateIp: '10.1.2.3', publicIp: '192.168.32.201', port: 'vnet2' });
  });
});

describe('allocation rules', () => {
  test("a group's block is Eucalyptus' block of its VLAN: subnet + (vlan - 2) * addrsPerNet", () => {
    const s = allocate(
      bare({
        vlanRange: [2, 4094],
        groups: [
          { owner: 'a', name: 'x', vlan: 2 },
          { owner: 'a', name: 'y', vlan: 100 },
        ],
      }),
    );
    expect(s.groups.map((g) => g.subnet)).toEqual(['10.1.0.0/27', '10.1.12.64/27']);
    const sub = { network: 0x0a010000, prefix: 16, size: 65536 };
    expect(eucalyptusBlock(sub, 32, 1)).toBeUndefined();
    expect(eucalyptusBlock(sub, 32, 2049)?.network).toBe(0x0a010000 + 2047 * 32);
    expect(eucalyptusBlock(sub, 32, 2050)).toBeUndefined();
  });

  test("when the VLAN's block is taken or outside the subnet, the lowest free block", () => {
    const s = allocate(
      bare({
        subnet: '10.1.0.0/24',
        vlanRange: [2, 200],
        groups: [
          { owner: 'a', name: 'x', subnet: '10.1.0.0/27' },
          { owner: 'a', name: 'y', vlan: 3 },
          { owner: 'a', name: 'z', vlan: 2 },
          { owner: 'a', name: 'w', vlan: 150 },
        ],
      }),
    );
    expect(s.groups.map((g) => [g.vlan, g.subnet])).toEqual([
      [4, '10.1.0.0/27'], // explicit block; VLAN the lowest free of the range
      [3, '10.1.0.32/27'], // Eucalyptus' block of VLAN 3
      [2, '10.1.0.64/27'], // VLAN 2's block is taken: lowest free
      [150, '10.1.0.96/27'], // VLAN 150's block is outside the /24: lowest free
    ]);
  });

  test('VLANs: lowest free of vlanRange, groups in document order, explicit ones kept', () => {
    const s = allocate(
      bare({
        groups: [
          { owner: 'a', name: 'x' },
          { owner: 'a', name: 'y', vlan: 10 },
          { owner: 'a', name: 'z' },
        ],
      }),
    );
    expect(s.groups.map((g) => g.vlan)).toEqual([11, 10, 12]);
  });

  test('explicit values are kept: privateIp, mac, port, publicIp', () => {
    const inst: Instance = {
      id: 'i-1',
      group: 'admin/default',
      node: 'nc1',
      port: 'tap7',
      privateIp: '10.1.1.9',
      mac: '02:00:00:00:00:01',
      publicIp: '192.168.32.250',
    };
    const s = allocate(bare({ instances: [inst, { id: 'i-2', group: 'admin/default', node: 'nc1', publicIp: true }] }));
    expect(s.instances[0]).toEqual(inst);
    expect(s.instances[1]).toMatchObject({ port: 'vnet0', privateIp: '10.1.1.2', mac: 'd0:0d:0a:01:01:02', publicIp: '192.168.32.200' });
  });

  test('publicIp false or absent: none; the pool is taken in the order given', () => {
    const s = allocate(
      bare({
        publicIps: ['192.168.32.250', '192.168.32.0/31'],
        instances: [
          { id: 'i-1', group: 'admin/default', node: 'nc1', publicIp: false },
          { id: 'i-2', group: 'admin/default', node: 'nc1', publicIp: true },
          { id: 'i-3', group: 'admin/default', node: 'nc1', publicIp: true },
        ],
      }),
    );
    expect(s.instances.map((i) => i.publicIp)).toEqual([undefined, '192.168.32.250', '192.168.32.0']);
    expect('publicIp' in s.instances[0]).toBe(false);
  });

  test('a custom macPrefix', () => {
    const s = allocate(bare({ macPrefix: 'AA:BC', instances: [{ id: 'i-1', group: 'admin/default', node: 'nc1' }] }));
    expect(s.macPrefix).toBe('aa:bc');
    expect(s.instances[0].mac).toBe('aa:bc:0a:01:01:02');
  });

  test('MANAGED-NOVLAN still gives each group an index and a block', () => {
    const s = allocate(
      bare({
        mode: 'MANAGED-NOVLAN',
        groups: [
          { owner: 'a', name: 'x' },
          { owner: 'a', name: 'y' },
        ],
      }),
    );
    expect(s.segmentation).toBe('none');
    expect(s.groups.map((g) => [g.vlan, g.subnet])).toEqual([
      [10, '10.1.1.0/27'],
      [11, '10.1.1.32/27'],
    ]);
  });

  test('a derived MAC colliding with an explicit one is refused', () => {
    const e = thrown(() =>
      allocate(
        bare({
          instances: [
            { id: 'i-1', group: 'admin/default', node: 'nc1' },
            { id: 'i-2', group: 'admin/default', node: 'nc1', mac: 'd0:0d:0a:01:01:02' },
          ],
        }),
      ),
    );
    expect(e.message).toMatch(/instances\[1\]\.mac.*duplicate mac/);
  });
});

describe('exhaustion names the pool', () => {
  test('VLANs', () => {
    const e = thrown(() => allocate(bare({ vlanRange: [10, 11], groups: ['a', 'b', 'c'].map((n) => ({ owner: 'o', name: n })) })));
    expect(e.field).toBe('groups[2]');
    expect(e.message).toMatch(/VLAN pool exhausted.*vlanRange 10-11/);
  });

  test('subnet blocks', () => {
    const e = thrown(() => allocate(bare({ subnet: '10.1.0.0/26', groups: ['a', 'b', 'c'].map((n) => ({ owner: 'o', name: n })) })));
    expect(e.field).toBe('groups[2]');
    expect(e.message).toMatch(/subnet block pool exhausted: all 2 blocks of 32 addresses in 10.1.0.0\/26/);
  });

  test('addresses of a group block', () => {
    const instances = Array.from({ length: 14 }, (_, i) => ({ id: `i-${i}`, group: 'admin/default', node: 'nc1' }));
    const e = thrown(() => allocate(bare({ addrsPerNet: 16, instances })));
    expect(e.field).toBe('instances[13]');
    expect(e.message).toMatch(/address pool of group admin\/default \(10\.1\.0\.128\/28\) exhausted: all 13/);
    expect(() => allocate(bare({ addrsPerNet: 16, instances: instances.slice(0, 13) }))).not.toThrow();
  });

  test('public IPs', () => {
    const instances = Array.from({ length: 3 }, (_, i) => ({ id: `i-${i}`, group: 'admin/default', node: 'nc1', publicIp: true }));
    const e = thrown(() => allocate(bare({ publicIps: ['192.168.32.200-192.168.32.201'], instances })));
    expect(e.field).toBe('instances[2].publicIp');
    expect(e.message).toMatch(/public IP pool exhausted: all 2 addresses of publicIps/);
    const none = thrown(() => allocate(bare({ publicIps: [], instances })));
    expect(none.message).toMatch(/publicIps is empty/);
  });
});

describe('validated input (a store read) and fully allocated states', () => {
  test('allocate(doc, { validated: true }) gives what allocate(doc) gives, allocated or not', () => {
    const full = allocate(seed());
    for (const doc of [seed(), full, bare({ instances: [{ id: 'i-1', group: 'admin/default', node: 'nc1', publicIp: true }] })]) {
      expect(allocate(doc, { validated: true })).toEqual(allocate(doc));
    }
    // and an allocated state allocated again is unchanged
    expect(allocate(full)).toEqual(full);
  });

  test('a validated, fully allocated state: the same output as a full allocation (keys in order), the input untouched, unchanged objects shared between versions', () => {
    const v1 = allocate(seed()) as unknown as State;
    v1.instances![1] = { ...v1.instances![1], publicIp: false };
    v1.groups![0] = { ...v1.groups![0], rules: undefined };
    const before = JSON.stringify(v1);
    const a1 = allocate(v1, { validated: true });
    expect(JSON.stringify(a1)).toBe(JSON.stringify(allocate(structuredClone(v1))));
    expect(JSON.stringify(v1)).toBe(before);
    expect(a1.instances[1]).not.toHaveProperty('publicIp');
    // The next version changes one instance and shares the other objects (as the etcd store's cache does).
    const v2 = { ...v1, instances: v1.instances!.map((i, k) => (k === 0 ? { ...i, port: 'vnet9' } : i)) };
    const a2 = allocate(v2, { validated: true });
    expect(JSON.stringify(a2)).toBe(JSON.stringify(allocate(structuredClone(v2))));
    expect(a2.instances[0]).not.toBe(a1.instances[0]);
    expect(a2.instances[0].port).toBe('vnet9');
    expect(a2.instances.slice(1).every((x, k) => x === a1.instances[k + 1])).toBe(true);
    expect(a2.groups.every((g, k) => g === a1.groups[k])).toBe(true);
  });

  test('a fully allocated but invalid document is still refused when not marked validated', () => {
    const full = allocate(seed()) as unknown as State;
    const bad = { ...full, instances: [...full.instances!, { ...full.instances![0], id: 'i-99' }] };
    expect(() => allocate(bad)).toThrow(ValidationError);
  });
});
