#!/usr/bin/env bash
# The AddressSanitizer lane (npm run test:asan): builds the addon once with
# -fsanitize=address into build-asan/ (build/Release, which the other tests
# load, is left alone), then runs the native-facing test files with the ASan
# runtime preloaded into node and the library pointed at that build
# (EUCANET_PREBUILD, read by node-gyp-build). Fails on any test failure and on
# any ASan report, even one from a child process a test started.
#   bash scripts/test-asan.sh [vitest file or filter ...]
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=("$@")
EXCLUDE=()
if [ ${#FILES[@]} -eq 0 ]; then
  # Everything that reaches the addon: sockets, exchanges, taps, namespaces,
  # sysctls, transactions (tx-crash SIGKILLs children that use it too),
  # netlink subscriptions (native-subscribe, and the event streams over them).
  FILES=(test/integration/native- test/integration/rtnl- test/integration/tx- test/integration/nft- test/integration/events)
  # tx-dryrun compares two namespaces' full dumps right after building them,
  # IPv6 link-local routes included, which the kernel adds asynchronously:
  # under ASan's slowdown one side may not have them yet. Its native calls are
  # the same commits the other tx- files make.
  EXCLUDE=(--exclude test/integration/tx-dryrun.test.ts)
fi

# The runtime that matches the compiler (Debian 12: g++ 12, libasan8).
LIBASAN=$(g++ -print-file-name=libasan.so)
if [ ! -e "$LIBASAN" ]; then
  echo "test:asan: no ASan runtime for $(g++ -dumpversion) (install libasan8 / g++)" >&2
  exit 1
fi
LIBASAN=$(readlink -f "$LIBASAN")

# A separate node-gyp tree: binding.gyp and sources shared, objects not.
OUT=build-asan
mkdir -p "$OUT"
cp binding.gyp "$OUT/binding.gyp"
ln -sfn ../native "$OUT/native"
ln -sfn ../node_modules "$OUT/node_modules"
echo "== test:asan: building the addon with -fsanitize=address into $OUT/build/Release" >&2
(
  cd "$OUT"
  CXXFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" LDFLAGS="-fsanitize=address" \
    npx --no-install node-gyp rebuild --loglevel=error >/dev/null
)
nm -D "$OUT/build/Release/eucanet.node" | grep __asan_init >/dev/null || { echo "test:asan: the build is not instrumented" >&2; exit 1; }

REPORTS=$(mktemp -d /tmp/eucanet-asan.XXXXXX)
trap 'rm -rf "$REPORTS"' EXIT
# detect_leaks=0: LeakSanitizer would report what node and V8 deliberately
# never free before exit (isolate, heap, per-thread caches), none of it the
# addon's; use-after-free, overflows and double frees are all still reported.
# log_path: each process writes its report to a file of its own, so a report
# from a forked test worker or a child process cannot go unseen.
# suppressions: reports from the test oracles (ip, nft) that the preload
# reaches too, each listed with its reason in scripts/asan.supp.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86:log_path=$REPORTS/asan:suppressions=$PWD/scripts/asan.supp"
export EUCANET_PREBUILD="$PWD/$OUT"
echo "== test:asan: vitest ${FILES[*]} (ASan runtime $LIBASAN preloaded)" >&2
status=0
LD_PRELOAD="$LIBASAN" npx --no-install vitest run "${EXCLUDE[@]}" "${FILES[@]}" || status=$?

if compgen -G "$REPORTS/asan*" >/dev/null; then
  echo "== test:asan: AddressSanitizer reports:" >&2
  cat "$REPORTS"/asan* >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "== test:asan: tests failed (exit $status)" >&2
  exit "$status"
fi
echo "== test:asan: no AddressSanitizer report" >&2
