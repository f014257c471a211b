// eucanet through its transaction API (and reconcile() for the re-apply), in
// warm worker processes: at each N, PROCESSES of them in turn, each for a
// block of the counted runs (workerBlocks() in instances.mjs). The largest
// peak RSS among them is reported.
import { Worker } from '../lib/worker.mjs';

const script = new URL('../workers/eucanet.mjs', import.meta.url).pathname;
/** Worker processes at each N, one after another, each warmed up before its block of counted runs. */
const PROCESSES = 3;

/** @typedef {import('../lib/workload.mjs').Approach & { worker?: Worker, maxRssKiB?: number, peakRssKiB(): Promise<number> }} State */

export default {
  id: 'eucanet',
  label: 'eucanet (transaction API; reconcile() for the re-apply)',
  nat: 'map',
  warmup: true,
  processes: PROCESSES,
  /** @this {State} */
  async begin() {
    this.worker = new Worker(script);
    this.maxRssKiB = 0;
  },
  /** Replaces the worker with a fresh process (its peak RSS kept). @this {State} */
  async renew() {
    this.maxRssKiB = Math.max(this.maxRssKiB ?? 0, await this.peakRssKiB());
    await this.worker?.stop();
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
  /** Peak resident set of the workers at this N so far (the largest), in KiB. @this {State} @returns {Promise<number>} */
  async peakRssKiB() {
    return Math.max(this.maxRssKiB ?? 0, (await /** @type {Worker} */ (this.worker).call('rss')).maxRssKiB);
  },
  /** @this {State} */
  async end() {
    await this.worker?.stop();
    this.worker = undefined;
  },
};
