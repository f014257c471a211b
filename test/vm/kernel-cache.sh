#!/usr/bin/env bash
# Prepare (or reuse) the guest kernel for the VLAN test VM.  Prints three lines
# on stdout: the vmlinux path, the initramfs path and the guest's modules dir
# (.../modules/<kver>).  Diagnostics go to stderr.  Needs root (mknod, apt).
#
# Cache layout (${EUCANET_VM_CACHE:-/var/cache/eucanet-vm}):
#   <pkg>_<version>/            one entry per Debian kernel package version
#     kver                      the guest's `uname -r`
#     vmlinux                   uncompressed ELF kernel (qemu boots it via PVH)
#     modules/<kver>/...        the kernel's modules tree, depmod'ed
#     initrd-<hash>.img         busybox initramfs, keyed by its inputs' hash
#
# An entry is built in a temporary directory and renamed into place, so a
# half-built entry is never visible; a lock file serialises concurrent builders.
set -euo pipefail

CACHE=${EUCANET_VM_CACHE:-/var/cache/eucanet-vm}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Modules the initramfs must load itself (virtio transport, 9p, overlayfs).
# Their dependency chains are resolved from modules.dep; built-ins are skipped.
INITRD_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

log() { echo "eucanet-vm: $*" >&2; }
die() { log "error: $*"; exit 1; }

BUILD_DIR=
cleanup() { [[ -n $BUILD_DIR ]] && rm -rf -- "$BUILD_DIR"; return 0; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# "<pkg>_<version>" of the concrete kernel package behind linux-image-amd64
# (its Depends pins it with "(= version)").  apt-cache takes ~0.8 s, so the
# answer is memoised until the apt lists change.
resolve_package() {
    local memo=$CACHE/.resolved stamp s k key
    stamp=$(stat -c %Y /var/lib/apt/lists /var/lib/apt/lists/*Packages* 2>/dev/null | sort -n | tail -n1)
    if [[ -f $memo ]] && read -r s k <"$memo" && [[ -n $stamp && $s == "$stamp" ]]; then
        echo "$k"
        return 0
    fi
    key=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null | awk '
        $1 == "Depends:" && $2 ~ /^linux-image-/ && $3 == "(=" { sub(/\).*/, "", $4); print $2 "_" $4; exit }')
    [[ -n $key ]] || return 1
    echo "$stamp $key" >"$memo.tmp" && mv -f "$memo.tmp" "$memo"
    echo "$key"
}

# Extract the ELF vmlinux from a bzImage: find each xz stream magic and try to
# decompress from there; --single-stream ignores the trailing data after it.
extract_vmlinux() {
    local vmlinuz=$1 out=$2 off
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
        # tail dies of SIGPIPE once xz has its stream: judge by the output only.
        tail -c +$((off + 1)) "$vmlinuz" 2>/dev/null | xz -dc --single-stream >"$out" 2>/dev/null || true
        [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]] && return 0
    done
    die "no xz-compressed ELF kernel found in $vmlinuz"
}

# Build a complete cache entry into $1 for package "$2" (pkg_version).
build_entry() {
    local dir=$1 pkg=${2%%_*} kver
    log "downloading $pkg (first run only)"
    (cd "$dir" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
        (cd "$dir" && apt-get update -q >/dev/null && apt-get download -q "$pkg" >/dev/null 2>&1) ||
        die "apt-get download $pkg failed"
    dpkg -x "$dir"/*.deb "$dir/root"
    rm -f "$dir"/*.deb
    kver=$(ls "$dir/root/lib/modules")
    [[ $(wc -w <<<"$kver") == 1 ]] || die "expected one modules dir, found: $kver"
    depmod -b "$dir/root" "$kver"
    extract_vmlinux "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinux"
    mv "$dir/root/lib/modules" "$dir/modules"
    rm -rf "$dir/root"
    echo "$kver" >"$dir/kver"
}

# Print the load order (dependencies first) of the given modules, as paths
# relative to the modules dir.  modules.dep lists a module's full dependency
# closure, each entry depending only on entries to its right, so reversing it
# yields a valid order.
module_load_order() {
    local moddir=$1 m
    shift
    for m in "$@"; do
        awk -v m="$m" '
            { name = $1; sub(/:$/, "", name); base = name; sub(/.*\//, "", base)
              sub(/\.ko(\.[a-z]+)?$/, "", base); gsub(/-/, "_", base) }
            base == m { for (i = NF; i > 1; i--) print $i; print name; found = 1; exit }
            END { if (!found) exit 1 }' "$moddir/modules.dep" ||
            grep -qE "/${m//_/[-_]}\.ko" "$moddir/modules.builtin" ||
            die "module $m is neither in modules.dep nor built in"
    done | awk '!seen[$0]++'
}

# Build the initramfs for an entry unless one for the same inputs exists;
# sets INITRD to its path.
ensure_initrd() {
    local entry=$1 kver moddir hash out stage m order
    kver=$(cat "$entry/kver")
    moddir="$entry/modules/$kver"
    hash=$( {
        cat "$HERE/initramfs-init.sh" "${BASH_SOURCE[0]}"
        echo "${INITRD_MODULES[*]}"
        sha256sum </bin/busybox
    } | sha256sum | cut -c1-12)
    out="$entry/initrd-$hash.img"
    if [[ ! -s $out ]]; then
        stage=$(mktemp -d "$entry/.initrd.XXXXXX")
        BUILD_DIR=$stage
        mkdir -p "$stage"/{bin,dev,proc,sys,mnt/lower,mnt/rw,newroot,modules}
        cp /bin/busybox "$stage/bin/busybox"
        cp "$HERE/initramfs-init.sh" "$stage/init"
        chmod 755 "$stage/init"
        mknod -m 600 "$stage/dev/console" c 5 1
        mknod -m 666 "$stage/dev/null" c 1 3
        order=$(module_load_order "$moddir" "${INITRD_MODULES[@]}")
        for m in $order; do
            case $m in
                *.ko) cp "$moddir/$m" "$stage/modules/" ;;
                *.ko.xz) xz -dc "$moddir/$m" >"$stage/modules/$(basename "${m%.xz}")" ;;
                *) die "unsupported module format: $m" ;;
            esac
            basename "${m%.xz}" >>"$stage/modules/load-order"
        done
        touch "$stage/modules/load-order"
        (cd "$stage" && find . -mindepth 1 | busybox cpio -o -H newc 2>/dev/null) |
            gzip -1 >"$stage.img"
        mv -f "$stage.img" "$out"
        rm -rf "$stage"
        BUILD_DIR=
    fi
    INITRD=$out
}

main() {
    local key entry tmp
    mkdir -p "$CACHE"
    # Serialise builders; readers of a finished entry never need the lock.
    exec 9>"$CACHE/.lock"
    flock 9
    # Holding the lock, any build dir left behind is from a killed builder.
    rm -rf "$CACHE"/.build.* "$CACHE"/*/.initrd.*
    if key=$(resolve_package) ||
        { log "apt cannot resolve linux-image-amd64, running apt-get update" &&
            apt-get update -q >/dev/null 2>&1 && key=$(resolve_package); }; then
        entry="$CACHE/$key"
    else
        # Offline or no apt lists: fall back to the newest existing entry.
        entry=$(ls -d "$CACHE"/linux-image-*/ 2>/dev/null | sort -V | tail -n1)
        entry=${entry%/}
        [[ -n $entry ]] || die "cannot resolve linux-image-amd64 (try apt-get update) and no cached kernel"
        log "using cached $(basename "$entry")"
    fi
    if [[ ! -f $entry/kver ]]; then
        tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
        chmod 755 "$tmp"
        BUILD_DIR=$tmp
        build_entry "$tmp" "$key"
        rm -rf "$entry" # a stale, incomplete entry from an older layout
        mv -T "$tmp" "$entry"
        BUILD_DIR=
        log "cached kernel $(cat "$entry/kver") in $entry"
    fi
    ensure_initrd "$entry"
    flock -u 9
    echo "$entry/vmlinux"
    echo "$INITRD"
    echo "$entry/modules/$(cat "$entry/kver")"
}

main "$@"
