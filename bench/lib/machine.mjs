// What the results were measured on.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * The kernel's `kernel.sched_vcpu_pack`, where it has one (this project's
 * virtual machines do; mainline kernels do not). On those machines a thread
 * woken by another usually starts on its waker's vCPU, so a process's
 * threads mostly share one vCPU and eucanet's JavaScript work adds to its
 * kernel work rather than overlapping it (docs/performance.md, round 26).
 * Undefined without the knob.
 */
function vcpuPack() {
  try {
    return Number(readFileSync('/proc/sys/kernel/sched_vcpu_pack', 'utf8').trim());
  } catch {
    return undefined;
  }
}

export function machine() {
  const cpus = os.cpus();
  const pack = vcpuPack();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: (readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m) ?? [])[1] ?? os.type(),
    node: process.version,
    ...(pack !== undefined ? { vcpuPack: pack } : {}),
  };
}
