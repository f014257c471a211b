// The desired state the crash and concurrency tests apply, in plain JS so that
// a child process (running the compiled library from dist/) can share it.
/**
 * @param {number} ports
 * @param {typeof import('../../src/nft/build/builder.js').rule} rule
 * @returns {import('../../src/tx/desired.js').DesiredState}
 */
export function desiredState(ports, rule) {
  return {
    links: [
      { kind: 'bridge', name: 'eucabr10', stp: false, forwardDelay: 0, up: true },
      { kind: 'bridge', name: 'eucabr11', stp: false, forwardDelay: 0, up: true },
      { kind: 'vxlan', name: 'vx10', vni: 10, local: '10.0.0.1', device: 'eth0', master: 'eucabr10', up: true },
      { kind: 'vxlan', name: 'vx11', vni: 11, local: '10.0.0.1', device: 'eth0', master: 'eucabr11', up: true },
    ],
    ports: Array.from({ length: ports }, (_, i) => ({ name: `vnet${i}`, tap: true, master: i % 2 ? 'eucabr11' : 'eucabr10', up: true })),
    addresses: [
      { dev: 'eucabr10', address: '10.1.2.1/27' },
      { dev: 'eucabr11', address: '10.1.2.33/27' },
      ...Array.from({ length: ports }, (_, i) => ({ dev: 'eth0', address: `192.168.32.${i + 1}/32` })),
    ],
    routes: [{ dst: '10.9.0.0/16', gateway: '10.1.2.9' }],
    sysctls: { 'net.ipv4.ip_forward': 1 },
    // One NAT map element per port: racing appliers also race on the nftables generation.
    nft: {
      tables: [{ family: 'ip', name: 'eucanet' }],
      chains: [{ family: 'ip', table: 'eucanet', name: 'prerouting', type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' }],
      sets: [
        {
          family: 'ip',
          table: 'eucanet',
          name: 'pub2priv',
          key: 'ipv4_addr',
          data: 'ipv4_addr',
          elements: Array.from({ length: ports }, (_, i) => [`192.168.32.${i + 1}`, `10.1.2.${i + 2}`]),
        },
      ],
      rules: [{ family: 'ip', table: 'eucanet', chain: 'prerouting', exprs: rule().dnatMap('@pub2priv') }],
    },
  };
}
