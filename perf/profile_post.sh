#!/usr/bin/env bash
# Instruction counts of one submission, split into its parts, from
# callgrind (valgrind) on perf/profile_post, on the submitting thread only.
# Instruction counts, not time: callgrind runs the threads one at a time,
# so contention (cache-line transfers, the cost of a fence or a locked
# instruction) does not show here; bench_core measures time.
#
#   perf/profile_post.sh [build dir, default build] [tasks, default 50000]
#
# Build dir: one configured with -Dcpp_args=-g gives the per-line view
# (callgrind_annotate --auto=yes) too; the table needs only symbols.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build=${1:-$root/build}
tasks=${2:-50000}
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind, or ./tasklets.sh deps)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for mode in post submit_get fork; do
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/$mode" \
    "$build/perf/profile_post" "$mode" "$tasks" >/dev/null 2>&1
done
python3 - "$out" "$tasks" <<'PY'
import glob, re, subprocess, sys
out, tasks = sys.argv[1], int(sys.argv[2])
per = 2 * tasks  # profile_post runs every mode twice (warm-up, then measured)

def inclusive(path):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--show-percs=no", path],
                          capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(\S.*?):(.*?)(?: \[.*\])?$", line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2), m.group(3)))
    return rows

def total(rows, fn, file=None):
    """Largest inclusive count of a function (optionally: code of `file` inlined into it)."""
    best = 0
    for n, f, func in rows:
        if fn in func and (file is None or f.endswith(file)):
            best = max(best, n)
    return best

def thread(mode, n):
    return inclusive(f"{out}/{mode}-{n:02d}")

post = thread("post", 1)
parts = [
    ("task object from the thread's cache (TaskPool::acquire_external)", total(post, "TaskPool::acquire_external")),
    ("rest of acquire: fields, id, target slot, state check", total(post, "Scheduler::acquire(") - total(post, "TaskPool::acquire_external")),
    ("timestamp (now_ns: steady_clock)", total(post, "now_ns()")),
    ("moodycamel enqueue (with the producer lookup or token)", total(post, "Scheduler::enqueue(", "concurrentqueue.h")),
    ("token cache lookup, count reserve, queue wrapper", total(post, "Scheduler::enqueue(", "queue.hpp")),
    ("wake-up check (fence, sleepers)", total(post, "wake_after_push")),
]
enq = total(post, "Scheduler::enqueue(")
known = total(post, "now_ns()") + total(post, "Scheduler::enqueue(", "concurrentqueue.h") + \
        total(post, "Scheduler::enqueue(", "queue.hpp") + total(post, "wake_after_push")
parts.append(("rest of enqueue: deadline and priority checks, thread-locals", enq - known))
print(f"| part of one `post` from an outside thread | instructions per task |")
print("| --- | --- |")
for name, n in parts:
    print(f"| {name} | {n / per:.1f} |")
whole = total(post, "Pool::acquire(") + total(post, "Pool::enqueue(")
print(f"| **acquire + enqueue** | **{whole / per:.1f}** |")
for mode, label in (("submit_get", "submit + get (outside thread, rounds of 1000)"), ("fork", "post from inside a task (worker-local deque)")):
    rows = thread(mode, 1 if mode == "submit_get" else 2)
    # fork: the posts happen on the worker (thread 2)
    n = total(rows, "Pool::acquire(") + total(rows, "Pool::enqueue(")
    print(f"| {label}: acquire + enqueue | {n / per:.1f} |")
PY
