#!/usr/bin/env bash
# Builds the private static jemalloc that tasklets links (once per machine).
#
# Why: Debian's libjemalloc uses initial-exec TLS and cannot be dlopen'ed
# inside a Node addon ("cannot allocate memory in static TLS block"). We build
# Debian's own 5.3.0 source with global-dynamic TLS, every public symbol
# prefixed tlje_ and every internal one namespaced tlje_, as a PIC archive
# (see /work/shared/FACTS.md and docs/building.md).
#
# Usage (as root on Debian 12; root is needed only to add a deb-src entry and
# to apt-get install missing build tools):
#   pcdir="$(bash .ci/jemalloc.sh)" &&
#     export PKG_CONFIG_PATH="$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
#   bash .ci/jemalloc.sh --source    only fetch the upstream tarball, print its path
# Environment:
#   TASKLETS_HOST=aarch64-linux-gnu  cross-build with that GNU toolchain (the
#                                    prefix name gets the triple appended)
#   TASKLETS_JEMALLOC_TARBALL=FILE   build this upstream tarball and never run
#                                    apt (the npm source build, scripts/install.js)
# Contract: the LAST (and only) line on stdout is the directory to put on
# PKG_CONFIG_PATH; it holds tasklets-jemalloc.pc. All progress goes to stderr.
# The script exports nothing. Sourcing it behaves exactly like running it (the
# work happens in a subshell, so the caller's shell options are untouched) and
# returns non-zero on failure.
#
# Result: ${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}/jemalloc-5.3.0-tlje[-TRIPLE]/
#   include/jemalloc/jemalloc.h   (declares tlje_mallocx, tlje_mallctl, ...)
#   lib/libtlje_pic.a
#   tasklets-jemalloc.pc
# Idempotent: when the .pc and the archive are there it only prints the line.
# Concurrent runs are serialised with flock; the install is staged and renamed,
# so a half-built prefix is never mistaken for a finished one.

tasklets_jemalloc_main() (
  set -euo pipefail

  readonly version=5.3.0
  readonly deps="${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}"
  readonly host="${TASKLETS_HOST:-}"
  readonly tarball="${TASKLETS_JEMALLOC_TARBALL:-}"
  readonly prefix="$deps/jemalloc-$version-tlje${host:+-$host}"
  readonly pc="$prefix/tasklets-jemalloc.pc"
  readonly lib="$prefix/lib/libtlje_pic.a"
  # The flags FACTS.md verified; changing one means a new prefix name.
  readonly configure_flags=(
    --disable-initial-exec-tls
    --with-jemalloc-prefix=tlje_
    --with-private-namespace=tlje_
    --with-pic
    --disable-shared
    --disable-cxx
    --disable-doc
  )

  log() { printf 'jemalloc.sh: %s\n' "$*" >&2; }
  die() { log "error: $*"; exit 1; }

  installed() { [[ -f "$pc" && -f "$lib" ]]; }

  ensure_tools() {
    local missing=()
    command -v "${host:+$host-}gcc" >/dev/null || missing+=("gcc${host:+-$host}")
    command -v make >/dev/null || missing+=(make)
    [[ -n "$tarball" ]] || command -v bzip2 >/dev/null || missing+=(bzip2)
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) -eq 0 && -z "$tarball" ]] || die "missing ${missing[*]}"
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  }

  upstream_tarball() {
    if [[ -n "$tarball" ]]; then
      printf '%s\n' "$tarball"
    else
      DEB_SRC_CALLER=jemalloc.sh debian_orig_tarball jemalloc "$version" "$deps/src"
    fi
  }

  build() {
    local tree="$1" stage="$2" cross=()
    [[ -z "$host" ]] || cross=(--host="$host" CC="$host-gcc")
    # jemalloc fixes the page size when it is configured. arm64 kernels use
    # 4, 16 or 64 KiB pages; one configured for 4 KiB refuses to start on
    # the others, one for 64 KiB works on all three.
    [[ "$host" != aarch64* ]] || cross+=(--with-lg-page=16)
    log "configure + make build_lib_static ${host:+for $host }(about 1.5 min on 2 cores)"
    (cd "$tree" && ./configure --prefix="$prefix" "${configure_flags[@]}" "${cross[@]}" >&2 &&
      make -j"$(nproc)" build_lib_static >&2)
    mkdir -p "$stage/lib" "$stage/include/jemalloc"
    install -m 644 "$tree/lib/libjemalloc_pic.a" "$stage/lib/libtlje_pic.a"
    # The generated jemalloc.h is self-contained (defs, macros, prototypes).
    install -m 644 "$tree/include/jemalloc/jemalloc.h" "$stage/include/jemalloc/jemalloc.h"
  }

  # Libs are what jemalloc's own Makefile links with (LIBS = -lm -pthread);
  # -ldl is kept for toolchains where dlsym is not in libc.
  write_pc() {
    cat >"$1/tasklets-jemalloc.pc" <<EOF
prefix=$prefix
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: tasklets-jemalloc
Description: Private static jemalloc $version for tasklets (tlje_ prefix, global-dynamic TLS)
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/libtlje_pic.a -lpthread -ldl -lm
EOF
  }

  # Temporary source tree; a subshell-level variable so the EXIT trap still
  # sees it after install_fresh returns.
  work=""
  trap 'rm -rf "${work:-}"' EXIT

  install_fresh() {
    local stage
    local source
    source="$(upstream_tarball)"
    work="$(mktemp -d)"
    stage="$prefix.staging"
    rm -rf "$stage" "$prefix"
    tar -xf "$source" -C "$work"
    [[ -f "$work/jemalloc-$version/configure" ]] || die "unexpected layout of $source"
    build "$work/jemalloc-$version" "$stage"
    write_pc "$stage"
    mv "$stage" "$prefix"
  }

  mkdir -p "$deps"
  exec 9>"$deps/.jemalloc.lock"
  flock 9
  if [[ "${1:-}" == --source ]]; then
    upstream_tarball
    return 0
  fi
  if installed; then
    log "jemalloc $version (tlje_) already in $prefix"
  else
    ensure_tools
    install_fresh
    installed || die "install into $prefix failed"
    log "installed jemalloc $version (tlje_) into $prefix"
  fi
  printf '%s\n' "$prefix"
)

source "$(dirname "${BASH_SOURCE[0]}")/deb-src.sh"
tasklets_jemalloc_main "$@"
