// The DHCP client runner lives with the demo's scaffolding (src/demo/dhcp-client.ts),
// which needs it at run time; tests use the same one.
export * from '../../src/demo/dhcp-client.js';
