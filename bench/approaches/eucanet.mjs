// eucanet through its transaction API (and reconcile() for the re-apply), in
// one warm worker process per N whose peak RSS is reported.
import { Worker } from '../lib/worker.mjs';

const script = new URL('../workers/eucanet.mjs', import.meta.url).pathname;

/** @typedef {import('../lib/workload.mjs').Approach & { worker?: Worker }} State */

export default {
  id: 'eucanet',
  label: 'eucanet (transaction API; reconcile() for the re-apply)',
  nat: 'map',
  warmup: true,
  /** @this {State} */
  async begin() {
    this.worker = new Worker(script);
  },
  /** @this {State} @param {string} ns @param {number} n @returns {Promise<number>} */
  async up(ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('up', { ns, n })).ms;
  },
  /** @this {State} @param {string} ns @param {number} n @returns {Promise<number>} */
  async reconcile(ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('reconcile', { ns, n })).ms;
  },
  /** @this {State} @param {string} ns @param {number} n @returns {Promise<number>} */
  async down(ns, n) {
    return (await /** @type {Worker} */ (this.worker).call('down', { ns, n })).ms;
  },
  /** Peak resident set of the worker so far, in KiB. @this {State} @returns {Promise<number>} */
  async peakRssKiB() {
    return (await /** @type {Worker} */ (this.worker).call('rss')).maxRssKiB;
  },
  /** @this {State} */
  async end() {
    await this.worker?.stop();
    this.worker = undefined;
  },
};
