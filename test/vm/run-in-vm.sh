#!/usr/bin/env bash
# Run a command inside a throw-away qemu VM booting Debian's stock kernel, for
# tests that need kernel features this host lacks (802.1Q VLANs above all).
#
#   test/vm/run-in-vm.sh [--timeout SECONDS] [--env NAME[=VALUE]]... -- COMMAND [ARGS...]
#
# The guest sees the host's file system read-only (with a throw-away writable
# overlay on top) and the current directory read-write at the same path; the
# command runs there as root with the guest's output on our stdout.
#
# Exit status: the command's own, or
#   124  the VM ran out of time (--timeout, default 1200 s; env EUCANET_VM_TIMEOUT)
#   125  the VM failed: qemu error, boot failure or guest crash (no exit status)
#   2    bad usage
# Passed through to the command: CI, EUCANET_* (but not EUCANET_VM_*), PATH, --env.
# It also sees EUCANET_VM=1, HOME=/tmp/home, npm_config_cache=/tmp/npm-cache;
# stdin is /dev/null, stdout and stderr are merged (one serial console).
# Environment: EUCANET_VM_CACHE (kernel cache dir, default /var/cache/eucanet-vm),
#   EUCANET_VM_MEM (default 2048M), EUCANET_VM_SMP (default 2),
#   EUCANET_VM_KEEP=1 (keep the per-run temp dir and say where it is),
#   EUCANET_VM_DEBUG=1 (show the kernel's boot messages).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIMEOUT=${EUCANET_VM_TIMEOUT:-1200}
EXTRA_ENV=()

log() { echo "eucanet-vm: $*" >&2; }
usage() {
    sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^#  *//' >&2
    exit 2
}

while (($#)); do
    case $1 in
        --timeout) (($# >= 2)) || usage; TIMEOUT=$2; shift 2 ;;
        --timeout=*) TIMEOUT=${1#*=}; shift ;;
        --env) (($# >= 2)) || usage; EXTRA_ENV+=("$2"); shift 2 ;;
        --env=*) EXTRA_ENV+=("${1#*=}"); shift ;;
        --) shift; break ;;
        -h | --help) usage ;;
        *) log "unknown option: $1"; usage ;;
    esac
done
(($#)) || usage
[[ $TIMEOUT =~ ^[0-9]+$ ]] || { log "--timeout needs whole seconds, got '$TIMEOUT'"; exit 2; }
((EUID == 0)) || { log "must run as root (apt, mknod, 9p as root)"; exit 2; }

# 1. Tools.  Quiet and quick when everything is present.
ensure_packages() {
    local pkgs=(qemu-system-x86 busybox-static kmod xz-utils) missing=() p
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    }
}
ensure_packages || { log "installing the VM's tools failed"; exit 125; }

# 2. Kernel, modules and initramfs (cached across runs).
mapfile -t KERNEL < <("$HERE/kernel-cache.sh" && echo ok)
[[ ${KERNEL[3]:-} == ok ]] || { log "preparing the guest kernel failed"; exit 125; }
VMLINUX=${KERNEL[0]} INITRD=${KERNEL[1]} MODDIR=${KERNEL[2]}

# 3. Per-run directory, shared with the guest as /run/eucanet-vm.
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/eucanet-vm.XXXXXX")
QEMU_PID=
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    [[ -n $QEMU_PID ]] && kill -TERM "$QEMU_PID" 2>/dev/null
    if [[ ${EUCANET_VM_KEEP:-} == 1 ]]; then
        log "kept $RUN_DIR"
    else
        rm -rf -- "$RUN_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORKDIR=$(pwd -P)
[[ $WORKDIR != / ]] || { log "run me from the project directory, not /"; exit 2; }
{
    printf 'EUCANET_VM_WORKDIR=%q\n' "$WORKDIR"
    printf 'EUCANET_VM_KVER=%q\n' "$(basename "$MODDIR")"
    printf 'EUCANET_VM_MODDIR=%q\n' "$(cd "$MODDIR" && pwd -P)"
} >"$RUN_DIR/vm.conf"
{
    # The host's PATH first (it found the tools), then the standard dirs.
    printf 'export PATH=%q\n' "$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    while IFS= read -r name; do
        printf 'export %s=%q\n' "$name" "${!name}"
    done < <(compgen -e | grep -E '^(CI|EUCANET_.*)$' | grep -v '^EUCANET_VM_') # ours, not the command's
    for kv in "${EXTRA_ENV[@]}"; do
        [[ ${kv%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { log "bad --env name: ${kv%%=*}"; exit 2; }
        if [[ $kv == *=* ]]; then
            printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
        elif [[ -n ${!kv+set} ]]; then
            printf 'export %s=%q\n' "$kv" "${!kv}"
        fi
    done
} >"$RUN_DIR/env.sh"
{
    printf 'EUCANET_VM_CMD=('
    printf '%q ' "$@"
    printf ')\n'
} >"$RUN_DIR/cmd.sh"
cp "$HERE/guest.sh" "$RUN_DIR/guest.sh"

# 4. Boot.  TCG only: /dev/kvm here is not usable for qemu.
virtfs() { printf 'local,path=%s,mount_tag=%s,security_model=none,multidevs=remap%s' "$@"; }
# shellcheck disable=SC2054  # the commas belong to qemu's option syntax
QEMU=(
    qemu-system-x86_64
    -accel tcg,thread=multi -cpu max
    -m "${EUCANET_VM_MEM:-2048M}" -smp "${EUCANET_VM_SMP:-2}"
    -nodefaults -no-reboot -display none -serial stdio
    -kernel "$VMLINUX" -initrd "$INITRD"
    -append "console=ttyS0 panic=-1 mitigations=off $([[ ${EUCANET_VM_DEBUG:-} == 1 ]] || echo quiet)"
    -virtfs "$(virtfs / hostroot ,readonly=on)"
    -virtfs "$(virtfs "$WORKDIR" project '')"
    -virtfs "$(virtfs "$RUN_DIR" results '')"
)
# In the background so our INT/TERM traps can stop it; stdin is not the guest's.
timeout --foreground -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null &
QEMU_PID=$!
status=0
wait "$QEMU_PID" || status=$?
QEMU_PID=

if [[ -f $RUN_DIR/rc ]]; then
    exit "$(cat "$RUN_DIR/rc")"
elif ((status == 124)); then
    log "timed out after ${TIMEOUT}s (raise with --timeout)"
    exit 124
else
    log "VM failed: no exit status from the guest (qemu exited with $status)"
    exit 125
fi
