// Which dnsmasq log lines mean it could not read one of our files (dhcp/daemon.ts
// isUnreadable), judged on lines dnsmasq 2.90 really writes.
import { describe, expect, it } from 'vitest';
import { isUnreadable } from '../../src/dhcp/daemon.js';

const paths = { hosts: '/s/dnsmasq.hosts', hostsDir: '/s/hosts.d', opts: '/s/dnsmasq.opts' };

describe('isUnreadable (dnsmasq log lines)', () => {
  it('a permission error on the hosts file, the options file or a hosts-directory file is unreadable', () => {
    expect(isUnreadable('dnsmasq[7]: cannot read /s/dnsmasq.hosts: Permission denied', paths)).toBe(true);
    expect(isUnreadable('dnsmasq[7]: cannot read /s/dnsmasq.opts: Permission denied', paths)).toBe(true);
    expect(isUnreadable('dnsmasq[7]: cannot read /s/hosts.d/10.1.5.5: Permission denied', paths)).toBe(true);
    expect(isUnreadable('dnsmasq[7]: cannot read /s/hosts.d: Permission denied', paths)).toBe(true);
  });

  it('a missing hosts or options file is unreadable; so is a missing hosts directory', () => {
    expect(isUnreadable('dnsmasq[7]: cannot read /s/dnsmasq.hosts: No such file or directory', paths)).toBe(true);
    expect(isUnreadable('dnsmasq[7]: cannot read /s/dnsmasq.opts: No such file or directory', paths)).toBe(true);
    expect(isUnreadable('dnsmasq[7]: cannot read /s/hosts.d: No such file or directory', paths)).toBe(true);
  });

  it('a hosts-directory file read on the inotify event of its own removal is not', () => {
    // dnsmasq logs "inotify: ... removed", then reads the file it was told is gone.
    expect(isUnreadable('dnsmasq[7]: cannot read /s/hosts.d/10.1.5.5: No such file or directory', paths)).toBe(false);
    expect(isUnreadable('dnsmasq-dhcp[7]: read /s/hosts.d/10.1.5.5', paths)).toBe(false);
    expect(isUnreadable('dnsmasq[7]: inotify: /s/hosts.d/10.1.5.5 removed', paths)).toBe(false);
  });

  it('another directory whose name starts like the hosts directory is not excused', () => {
    expect(isUnreadable('dnsmasq[7]: cannot read /s/hosts.dx/1: No such file or directory', paths)).toBe(true);
  });
});
