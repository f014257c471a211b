// The npm `netlink` package: links and addresses only (no nftables, taps made
// with the tun ioctl). One worker per run, started inside the run's namespace
// and warmed up there before the timed phases.
import { Worker } from '../lib/worker.mjs';

const script = new URL('../workers/netlink-pkg.mjs', import.meta.url).pathname;

export default {
  id: 'netlink-pkg',
  label: 'npm `netlink` 0.3 (links and addresses only: no NAT)',
  nat: 'none',
  async open(ns, n) {
    this.worker = new Worker(script, { netns: ns });
    await this.worker.call('warmup', { n });
  },
  async up(_ns, n) {
    return (await this.worker.call('up', { n })).ms;
  },
  async reconcile(_ns, n) {
    return (await this.worker.call('reconcile', { n })).ms;
  },
  async down(_ns, n) {
    return (await this.worker.call('down', { n })).ms;
  },
  async close() {
    await this.worker?.stop();
    this.worker = undefined;
  },
};
