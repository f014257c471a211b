// The npm `netlink` package: links and addresses only (no nftables, taps made
// with the tun ioctl). One worker per run, started inside the run's namespace
// and warmed up there before the timed phases.
import { Worker } from '../lib/worker.mjs';

const script = new URL('../workers/netlink-pkg.mjs', import.meta.url).pathname;

/** @typedef {import('../lib/workload.mjs').Approach & { worker?: Worker }} State */

export default {
  id: 'netlink-pkg',
  label: 'npm `netlink` 0.3 (links and addresses only: no NAT)',
  nat: 'none',
  /** @this {State} @param {string} ns @param {number} n */
  async open(ns, n) {
    this.worker = new Worker(script, { netns: ns });
    await /** @type {Worker} */ (this.worker).call('warmup', { n });
  },
  /** @this {State} @param {string} _ns @param {number} n @returns {Promise<number>} */
  async up(_ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('up', { n })).ms;
  },
  /** @this {State} @param {string} _ns @param {number} n @returns {Promise<number>} */
  async reconcile(_ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('reconcile', { n })).ms;
  },
  /** @this {State} @param {string} _ns @param {number} n @returns {Promise<number>} */
  async down(_ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('down', { n })).ms;
  },
  /** @this {State} */
  async close() {
    await this.worker?.stop();
    this.worker = undefined;
  },
};
