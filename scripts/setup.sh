#!/usr/bin/env bash
# Makes a fresh Debian machine ready to run eucanet and its tests: the system
# packages, `npm ci` (which builds the native addon) and the TypeScript build.
# Idempotent and quick when everything is already there. Needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

# iproute2, nftables, strace, tcpdump: test oracles and demo scaffolding.
# dnsmasq-base: the cluster controller's DHCP server. busybox-static /
# isc-dhcp-client: DHCP clients for the demo's instances. util-linux: nsenter,
# and setpriv for the permission tests. make, g++, python3: node-gyp builds the
# addon; libasan8: g++ 12's AddressSanitizer runtime, for `npm run test:asan`.
# libmnl-dev, libnftnl-dev, pkg-config: the benchmark's C floor (bench/floor),
# built by `npm run bench`.
# conntrack: the conntrack tests' independent oracle (`conntrack -L -o
# extended,id` in their namespaces) and the source of their golden bytes
# (test/fixtures/conntrack/capture.sh); the runtime speaks ctnetlink itself.
# etcd-server: the etcd store's tests, the etcd demo and the control-plane
# benchmark start their own etcd on loopback (production uses the operator's).
PKGS=(iproute2 nftables strace tcpdump dnsmasq-base isc-dhcp-client busybox-static util-linux make g++ libasan8 python3 libmnl-dev libnftnl-dev pkg-config conntrack etcd-server)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
# The addon (npm ci builds it; a checkout that moved on may need it again).
if [ ! -f build/Release/eucanet.node ] && ! ls prebuilds/linux-x64/*.node >/dev/null 2>&1; then
  npx --no-install node-gyp rebuild >/dev/null
fi
npm run --silent build:ts
