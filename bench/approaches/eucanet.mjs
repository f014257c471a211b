// eucanet through its transaction API (and reconcile() for the re-apply), in
// one warm worker process per N whose peak RSS is reported.
import { Worker } from '../lib/worker.mjs';

const script = new URL('../workers/eucanet.mjs', import.meta.url).pathname;

export default {
  id: 'eucanet',
  label: 'eucanet (transaction API; reconcile() for the re-apply)',
  nat: 'map',
  warmup: true,
  async begin() {
    this.worker = new Worker(script);
  },
  async up(ns, n) {
    return (await this.worker.call('up', { ns, n })).ms;
  },
  async reconcile(ns, n) {
    return (await this.worker.call('reconcile', { ns, n })).ms;
  },
  async down(ns, n) {
    return (await this.worker.call('down', { ns, n })).ms;
  },
  /** Peak resident set of the worker so far, in KiB. */
  async peakRssKiB() {
    return (await this.worker.call('rss')).maxRssKiB;
  },
  async end() {
    await this.worker?.stop();
    this.worker = undefined;
  },
};
