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
# Contract: the LAST (and only) line on stdout is the directory to put on
# PKG_CONFIG_PATH; it holds tasklets-jemalloc.pc. All progress goes to stderr.
# The script exports nothing. Sourcing it behaves exactly like running it (the
# work happens in a subshell, so the caller's shell options are untouched) and
# returns non-zero on failure.
#
# Result: ${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}/jemalloc-5.3.0-tlje/
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
  readonly prefix="$deps/jemalloc-$version-tlje"
  readonly pc="$prefix/tasklets-jemalloc.pc"
  readonly lib="$prefix/lib/libtlje_pic.a"
  readonly src_list=/etc/apt/sources.list.d/tasklets-src.sources
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

  # The archive stanza the machine already uses ("URIs|suite|signed-by"),
  # taken from deb822 debian.sources or, failing that, a one-line sources.list.
  # The security and -updates suites are skipped: the source package lives
  # in the main suite.
  main_archive() {
    local f=/etc/apt/sources.list.d/debian.sources
    if [[ -r "$f" ]]; then
      awk '
        function flush() {
          if (types ~ /(^| )deb( |$)/ && uris != "" && uris !~ /security/ && suite != "")
            { print uris "|" suite "|" signed; found = 1; exit }
          types = uris = suite = signed = ""
        }
        /^[ \t]*$/ { flush(); next }
        /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
        /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-/) { suite = $i; break } }
        /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $0 }
        END { if (!found) flush() }
      ' "$f"
      return
    fi
    [[ -r /etc/apt/sources.list ]] || return 0
    awk '$1 == "deb" && $2 !~ /^\[/ && $2 !~ /security/ && $3 !~ /-/ { print $2 "|" $3 "|"; exit }' \
      /etc/apt/sources.list
  }

  source_available() {
    apt-cache showsrc jemalloc 2>/dev/null | grep -q "^Version: $version-"
  }

  ensure_deb_src() {
    source_available && return 0
    [[ $(id -u) -eq 0 ]] || die "no deb-src entry for jemalloc and not root to add one"
    if [[ ! -f "$src_list" ]]; then
      local archive uris suite signed
      archive="$(main_archive)"
      [[ -n "$archive" ]] || die "cannot find the Debian archive in /etc/apt sources"
      IFS='|' read -r uris suite signed <<<"$archive"
      log "adding $src_list ($uris $suite)"
      {
        echo "Types: deb-src"
        echo "URIs: $uris"
        echo "Suites: $suite"
        echo "Components: main"
        [[ -z "$signed" ]] || echo "Signed-By: $signed"
      } >"$src_list"
    fi
    log "apt-get update"
    apt-get update -qq >&2
    source_available || die "apt offers no jemalloc $version source package"
  }

  ensure_tools() {
    local missing=()
    command -v gcc >/dev/null || missing+=(gcc)
    command -v make >/dev/null || missing+=(make)
    command -v bzip2 >/dev/null || missing+=(bzip2)
    command -v xz >/dev/null || missing+=(xz-utils)
    ((${#missing[@]} == 0)) && return 0
    [[ $(id -u) -eq 0 ]] || die "missing ${missing[*]} and not root to install them"
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  }

  # apt verifies the tarball against the signed Sources index, so no checksum
  # of our own is needed; we only insist on the upstream version.
  fetch_source() {
    local dir="$1"
    (cd "$dir" && apt-get source --download-only jemalloc >&2)
    local orig
    orig="$(compgen -G "$dir/jemalloc_$version.orig.tar.*" | head -n1 || true)"
    [[ -n "$orig" ]] || die "apt did not download jemalloc_$version.orig.tar.*"
    tar -xf "$orig" -C "$dir"
    [[ -f "$dir/jemalloc-$version/configure" ]] || die "unexpected layout of $orig"
  }

  build() {
    local tree="$1" stage="$2"
    log "configure + make build_lib_static (about 1.5 min on 2 cores)"
    (cd "$tree" && ./configure --prefix="$prefix" "${configure_flags[@]}" >&2 &&
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
    work="$(mktemp -d)"
    # apt's _apt user must be able to write the download directory.
    chmod 755 "$work"
    stage="$prefix.staging"
    rm -rf "$stage" "$prefix"
    fetch_source "$work"
    build "$work/jemalloc-$version" "$stage"
    write_pc "$stage"
    mv "$stage" "$prefix"
  }

  mkdir -p "$deps"
  exec 9>"$deps/.jemalloc.lock"
  flock 9
  if installed; then
    log "jemalloc $version (tlje_) already in $prefix"
  else
    ensure_tools
    ensure_deb_src
    install_fresh
    installed || die "install into $prefix failed"
    log "installed jemalloc $version (tlje_) into $prefix"
  fi
  printf '%s\n' "$prefix"
)

tasklets_jemalloc_main
