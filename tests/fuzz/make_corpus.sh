#!/usr/bin/env bash
# Remakes tests/fuzz/corpus/<target>/: the seeds of make_seeds.js (written
# by js/pack.js), grown by a short run of each target, minimized with
# libFuzzer's -merge=1 -use_counters=0 (only inputs reaching a new edge stay), plus the
# inputs of bugs the fuzzers found (regression-*), kept whatever merge says.
# Needs build-fuzz (./tasklets.sh fuzz builds it).
#   tests/fuzz/make_corpus.sh [seconds per target, default 30]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
seconds=${1:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp
node tests/fuzz/make_seeds.js "$work/seeds"
for target in codec_args codec_result packed_batch transfer_list topology; do
  mkdir -p "$work/grown/$target" "$work/seeds/$target"
  timeout -k 10 $((seconds + 60)) "build-fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=2048 \
    "$work/grown/$target" "$work/seeds/$target" >/dev/null 2>&1
  out="tests/fuzz/corpus/$target"
  mkdir -p "$out"
  find "$out" -type f ! -name 'regression-*' -delete
  "build-fuzz/fuzz_$target" -merge=1 -use_counters=0 "$out" "$work/seeds/$target" "$work/grown/$target" >/dev/null 2>&1
  cp "$work/seeds/$target"/regression-* "$out"/ 2>/dev/null || true
  echo "$target: $(find "$out" -type f | wc -l) inputs"
done
