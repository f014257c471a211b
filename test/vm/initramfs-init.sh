#!/bin/busybox sh
# /init of the eucanet test-VM initramfs (packed by kernel-cache.sh together
# with a static busybox and the .ko files listed in /modules/load-order).
#
# It assembles the guest's root file system from 9p shares exported by
# run-in-vm.sh and hands over to guest.sh:
#
#   /                  overlay: host `/` (9p "hostroot", read-only) + tmpfs upper,
#                      so every path is writable but writes vanish with the VM
#   /run, /tmp, /var/tmp       fresh tmpfs (host /run would leak stale state)
#   /run/eucanet-vm    9p "results": per-run host temp dir (config, command, rc)
#   /usr/lib/modules/<kver>    bind of the guest kernel's modules dir in the host cache
#   <workdir>          9p "project": the caller's working directory, read-write
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
    echo "eucanet-vm init: $*" >&2
    reboot -f # qemu runs with -no-reboot, so this ends the VM
    sleep 5
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

while read -r m; do
    insmod "/modules/$m" || fail "insmod $m failed"
done </modules/load-order

# msize 512000 is the largest the 6.1 virtio transport accepts.  Caching:
# loose for the read-only host root (fast lookups; the host must not change
# it mid-run), mmap for the project (coherent, and mmap works), none for the
# tiny results share.
O=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "$O,ro,cache=loose" hostroot /mnt/lower || fail "mounting host root over 9p failed"
mount -t tmpfs -o mode=755 tmpfs /mnt/rw
mkdir /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
    overlay /newroot || fail "mounting the overlay root failed"

mount -t tmpfs -o mode=755 tmpfs /newroot/run
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=1777 tmpfs /newroot/var/tmp

R=/newroot/run/eucanet-vm
mkdir -p "$R"
mount -t 9p -o "$O,cache=none" results "$R" || fail "mounting the results share failed"
# Defines EUCANET_VM_WORKDIR, EUCANET_VM_KVER and EUCANET_VM_MODDIR.
# shellcheck source=/dev/null
. "$R/vm.conf"

# The guest kernel's modules, from the host's kernel cache, where modprobe looks.
mkdir -p "/newroot/usr/lib/modules/$EUCANET_VM_KVER"
mount --bind "/mnt/lower$EUCANET_VM_MODDIR" "/newroot/usr/lib/modules/$EUCANET_VM_KVER" ||
    fail "bind-mounting the guest's modules failed"
mkdir -p "/newroot$EUCANET_VM_WORKDIR"
mount -t 9p -o "$O,cache=mmap" project "/newroot$EUCANET_VM_WORKDIR" ||
    fail "mounting the project share failed"

# The host's reboot is systemctl, useless without systemd: keep busybox around.
mkdir -p /newroot/run/eucanet-vm-tools
cp /bin/busybox /newroot/run/eucanet-vm-tools/busybox

for d in dev proc sys; do
    mount --move "/$d" "/newroot/$d"
done
exec switch_root /newroot /bin/bash /run/eucanet-vm/guest.sh
