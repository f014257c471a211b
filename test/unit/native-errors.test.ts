// Permission errors name what is missing, from the call that failed; errors
// wrapped from Node's own fs calls keep their errno's name. (The same errors
// from a real kernel: test/integration/native-eperm.test.ts.)
import { describe, expect, it } from 'vitest';
import { nativeError, permissionHint, SystemCallError } from '../../src/native.js';
import { NetlinkError } from '../../src/errors.js';

const EPERM = 1;
const EACCES = 13;

describe('permission hints', () => {
  it('names the capability or access each kind of call needs', () => {
    expect(permissionHint(EPERM, 'setns(/run/netns/x)')).toBe('needs root or CAP_SYS_ADMIN');
    expect(permissionHint(EPERM, 'unshare(CLONE_NEWNET)')).toBe('needs root or CAP_SYS_ADMIN');
    expect(permissionHint(EPERM, 'mount(netns bind)')).toBe('needs root or CAP_SYS_ADMIN');
    expect(permissionHint(EPERM, 'ioctl(TUNSETIFF)')).toBe('needs root or CAP_NET_ADMIN');
    expect(permissionHint(EPERM, 'write')).toBe('needs root or CAP_NET_ADMIN');
    expect(permissionHint(EACCES, 'open(/dev/net/tun)')).toBe('needs root or access to the file');
    expect(permissionHint(EACCES, 'netns /run/netns/x')).toBe('needs root or access to the file');
    expect(permissionHint(17, 'ioctl(TUNSETIFF)')).toBeUndefined();
    expect(permissionHint(22)).toBeUndefined();
  });

  it('a kernel refusal says what is missing; other errors read as before', () => {
    expect(new NetlinkError(EPERM, { op: 'link add eucabr10 (bridge)' }).message).toBe(
      'link add eucabr10 (bridge): EPERM: operation not permitted (needs root or CAP_NET_ADMIN)',
    );
    expect(new NetlinkError(EACCES, { op: 'nft batch begin', opIndex: 0 }).message).toBe(
      'op #0 nft batch begin: EACCES: permission denied (needs root or CAP_NET_ADMIN)',
    );
    expect(new NetlinkError(17, { op: 'link add br0 (bridge)', extack: 'File exists' }).message).toBe('link add br0 (bridge): EEXIST: File exists');
  });

  it("nativeError keeps a Node fs error's errno positive (libuv negates it) and names it", () => {
    const fsErr = Object.assign(new Error('EPERM: operation not permitted, write'), { errno: -1, code: 'EPERM', syscall: 'write' });
    const e = nativeError(fsErr, 'sysctl write /proc/sys/net/ipv4/ip_forward') as SystemCallError;
    expect(e).toBeInstanceOf(SystemCallError);
    expect(e).toMatchObject({ errno: 1, code: 'EPERM', syscall: 'write' });
    expect(e.message).toBe('sysctl write /proc/sys/net/ipv4/ip_forward: EPERM: operation not permitted, write (EPERM; needs root or CAP_NET_ADMIN)');
  });
});
