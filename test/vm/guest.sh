#!/bin/bash
# Runs inside the test VM as PID 1, after the initramfs switch_root'ed into the
# host's file system (see initramfs-init.sh).  run-in-vm.sh copies this file
# into the per-run results dir, next to:
#   vm.conf   EUCANET_VM_WORKDIR, EUCANET_VM_KVER, EUCANET_VM_MODDIR
#   env.sh    exported variables passed through from the host (CI, EUCANET_*, PATH)
#   cmd.sh    EUCANET_VM_CMD=( command and arguments )
# It writes the command's exit status to rc, then powers the VM off.
set -u
R=/run/eucanet-vm
BB=/run/eucanet-vm-tools/busybox

warn() { echo "eucanet-vm guest: $*" >&2; }

# Flush the shares and end the VM; qemu runs with -no-reboot.
finish() {
    sync
    echo 0 >/proc/sys/kernel/printk # hide "reboot: Restarting system"
    cd /
    umount "$EUCANET_VM_WORKDIR" "$R" 2>/dev/null
    "$BB" reboot -f
    echo b >/proc/sysrq-trigger
}
trap finish EXIT

# shellcheck source=/dev/null
. "$R/vm.conf"
# shellcheck source=/dev/null
. "$R/env.sh"
# shellcheck source=/dev/null
. "$R/cmd.sh"

# Device and pseudo file systems the initramfs did not provide.
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /run/netns /run/lock
echo eucanet-vm >/proc/sys/kernel/hostname

# The console is a serial tty: stop it turning \n into \r\n.
stty -onlcr </dev/console 2>/dev/null

ip link set lo up
# What the VLAN lane needs; anything else still autoloads via modprobe.
# (One modprobe run for all: it tries each and reports any failure itself.)
modprobe -a tun 8021q bridge veth || warn "some modules did not load"

export HOME=/tmp/home npm_config_cache=/tmp/npm-cache TMPDIR=/tmp EUCANET_VM=1
mkdir -p "$HOME" "$npm_config_cache"

cd "$EUCANET_VM_WORKDIR" || {
    warn "cannot cd to $EUCANET_VM_WORKDIR"
    exit
}
# Through a pipe, so the command sees plain CI-style output rather than a tty.
"${EUCANET_VM_CMD[@]}" </dev/null 2>&1 | cat
rc=${PIPESTATUS[0]}
echo "$rc" >"$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
