#!/usr/bin/env bash
# The C++ consumer tests: examples/cpp built the three ways that
# docs/building.md ("Using tasklets from C++") shows, from an install in a
# temporary prefix or from the checkout, and the private jemalloc kept out of
# what consumers see.
#
# The blocks run are the docs' own: every ```sh block of that section whose
# first line is "# consumer: <name>", run with bash -euo pipefail in a fresh
# copy of examples/cpp, with TASKLETS (this checkout) and PREFIX (the
# temporary install) set. Progress goes to stderr; the last line on stdout is
# "<passed> <failed>". Exit status: 0 when nothing failed.
#
# Usage: tests/consumers/run.sh [build dir for the install, default build-consumers]
set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
build_dir=$root/${1:-build-consumers}
readonly BLOCK_TIMEOUT=900
# What examples/cpp/parallel_array.cpp prints when every check in it held.
readonly EXPECTED=(
  '(matches one thread)'
  'high priority task: 42'
  'cancelled before it started: yes'
  'stats: 2 workers'
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
log() { printf '[consumers] %s\n' "$*" >&2; }
pass() { log "PASS $1"; passed=$((passed + 1)); }
fail() { log "FAIL $1"; failed=$((failed + 1)); }

jemalloc_pc=$(bash "$root/.ci/jemalloc.sh" | tail -n 1) || jemalloc_pc=""

# The docs' install, with the prefix in $work; only the installed targets
# are built, so a fresh build dir costs the library alone.
install_prefix() {
  local prefix=$1
  export PKG_CONFIG_PATH="$jemalloc_pc"
  if [[ ! -f $build_dir/build.ninja ]]; then
    meson setup "$build_dir" --prefix "$prefix" --libdir lib \
      -Daddon=disabled -Dbenchmarks=false >&2 || return 1
  else
    meson configure "$build_dir" -Dprefix="$prefix" -Dlibdir=lib >&2 || return 1
  fi
  nice -n 10 meson compile -C "$build_dir" libtasklets-installed >&2 &&
    meson install -C "$build_dir" --no-rebuild --quiet >&2
}

# docs/building.md -> one file per consumer block in $1, named after it.
extract_blocks() {
  awk -v out="$1" '
    /^## / { in_section = ($0 == "## Using tasklets from C++") }
    in_section && !open && /^```sh$/ { open = 1; first = 1; next }
    open && /^```$/ { open = 0; file = ""; next }
    open && first {
      first = 0
      if (match($0, /^# consumer: /)) { file = out "/" substr($0, RLENGTH + 1) }
      next
    }
    open && file != "" { print > file }
  ' "$root/docs/building.md"
}

# The program a block built: it ran (the block's last command), printed what
# it should, exports no jemalloc symbol and loads no jemalloc library.
check_program() {
  local name=$1 dir=$2 output=$3
  local line
  for line in "${EXPECTED[@]}"; do
    if ! grep -qF -- "$line" "$output"; then
      log "$name: the program did not print '$line'"
      return 1
    fi
  done
  local exe
  exe=$(find "$dir" -name parallel_array -type f -perm -u+x | head -n 1)
  [[ -n $exe ]] || { log "$name: no parallel_array was built"; return 1; }
  local exported
  exported=$(nm -D --defined-only "$exe" | grep -cE ' (tlje_|je_)|jemalloc') || true
  log "$name: $exe exports $exported jemalloc symbols; linked $(nm "$exe" | grep -c ' tlje_') private tlje_ symbols"
  ((exported == 0)) || return 1
  if ldd "$exe" | grep jemalloc >/dev/null; then
    log "$name: $exe loads a jemalloc library"
    return 1
  fi
}

run_block() {
  local name=$1 block=$2 prefix=$3
  local dir=$work/$name output=$work/$name.out
  mkdir -p "$dir"
  cp -r "$root/examples/cpp/." "$dir/"
  log "$name: building examples/cpp"
  if (cd "$dir" && TASKLETS=$root PREFIX=$prefix timeout "$BLOCK_TIMEOUT" bash -euo pipefail "$block") >"$output" 2>&2 &&
    check_program "$name" "$dir" "$output"; then
    sed 's/^/    /' "$output" >&2
    pass "$name"
  else
    sed 's/^/    /' "$output" >&2
    fail "$name"
  fi
}

# The docs' advice for a project that needs a shared object ("Why no
# shared library"): link the archive into it with -Wl,--exclude-libs,ALL.
# The result exports its own function and nothing of jemalloc, and loads
# with dlopen (the private jemalloc's TLS is global-dynamic).
shared_object_from_archive() {
  local prefix=$1 dir=$work/shared-object
  mkdir -p "$dir"
  cat >"$dir/answer.cpp" <<'CPP'
#include <tasklets/pool.hpp>
extern "C" __attribute__((visibility("default"))) int tasklets_answer() {
  tasklets::Pool pool;
  return pool.submit([] { return 6 * 7; }).get();
}
CPP
  local flags
  flags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs tasklets) || return 1
  # shellcheck disable=SC2086 # pkg-config output is a list of flags
  g++ -std=c++20 -O2 -fPIC -shared -fvisibility=hidden "$dir/answer.cpp" -o "$dir/libanswer.so" $flags \
    -Wl,--exclude-libs,ALL >&2 || return 1
  local exported jemalloc
  exported=$(nm -D --defined-only "$dir/libanswer.so") || return 1
  jemalloc=$(grep -cE ' (tlje_|je_)|jemalloc' <<<"$exported") || true
  log "nm -D --defined-only libanswer.so: $jemalloc jemalloc symbols, $(wc -l <<<"$exported") in all"
  ((jemalloc == 0)) && grep ' T tasklets_answer$' <<<"$exported" >/dev/null || return 1
  local answer
  answer=$(timeout 60 python3 -c 'import ctypes, sys; print(ctypes.CDLL(sys.argv[1]).tasklets_answer())' \
    "$dir/libanswer.so") || return 1
  log "dlopen(libanswer.so): tasklets_answer() = $answer"
  [[ $answer == 42 ]]
}

main() {
  local prefix=$work/prefix
  if install_prefix "$prefix"; then pass "meson install into a prefix"; else fail "meson install into a prefix"; fi

  # The installed archive carries the private jemalloc (so consumers need
  # none): its objects define the tlje_ API, and no allocator entry point
  # (malloc, free, ...) that would replace the program's own. (grep reads
  # all of nm's output: an early exit would fail the pipeline with SIGPIPE.)
  local archive=$prefix/lib/libtasklets.a symbols
  symbols=$(nm "$archive" 2>/dev/null) || symbols=""
  local private replacing
  private=$(grep -c ' T tlje_mallocx$' <<<"$symbols") || true
  replacing=$(grep -cE ' [TWi] (malloc|free|calloc|realloc|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size)$' <<<"$symbols") || true
  log "nm libtasklets.a: tlje_mallocx defined $private time(s), $replacing allocator entry points"
  if ((private == 1 && replacing == 0)); then
    pass "libtasklets.a holds the private jemalloc and leaves malloc alone"
  else
    fail "libtasklets.a holds the private jemalloc and leaves malloc alone"
  fi

  mkdir -p "$work/blocks"
  extract_blocks "$work/blocks"
  local count=0 block
  for block in "$work/blocks"/*; do
    [[ -f $block ]] || continue
    count=$((count + 1))
    run_block "$(basename "$block")" "$block" "$prefix"
  done
  ((count == 3)) || fail "docs/building.md has $count consumer blocks, not 3"

  if shared_object_from_archive "$prefix"; then
    pass "a shared object linked from libtasklets.a hides jemalloc and loads with dlopen"
  else
    fail "a shared object linked from libtasklets.a hides jemalloc and loads with dlopen"
  fi

  # The shared object this repository builds from the library: the Node addon.
  local addon=$root/build/addon/tasklets.node
  if [[ -f $addon ]]; then
    local exported
    exported=$(nm -D --defined-only "$addon" | grep -cE ' (tlje_|je_)|jemalloc') || true
    log "nm -D --defined-only build/addon/tasklets.node: $exported jemalloc symbols, $(nm -D --defined-only "$addon" | wc -l) in all"
    if ((exported == 0)); then pass "the addon exports no jemalloc symbol"; else fail "the addon exports no jemalloc symbol"; fi
  fi
  echo "$passed $failed"
  ((failed == 0))
}

main
