#!/usr/bin/env bash
# Builds a static, minimal hwloc for the self-contained addon of the npm
# platform packages (once per machine and target).
#
# Why: Debian's libhwloc.a needs libudev (and its libhwloc.so brings libxml2,
# libpciaccess...). The prebuilt addon must need nothing but glibc, and
# tasklets uses only hwloc's CPU/NUMA topology, binding and synthetic/XML
# topologies: so we build Debian's own hwloc 2.9.0 source without udev, PCI,
# libxml2 (hwloc's minimal XML parser remains), cairo, OpenCL, CUDA and GL.
#
# Usage: pcdir="$(bash .ci/hwloc.sh)"   (TASKLETS_HOST=aarch64-linux-gnu to
# cross-build). Contract as .ci/jemalloc.sh: the last stdout line is the
# directory holding hwloc.pc; progress goes to stderr; idempotent.
# Result: ${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}/hwloc-2.9.0-static[-TRIPLE]/

tasklets_hwloc_main() (
  set -euo pipefail

  readonly version=2.9.0
  readonly deps="${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}"
  readonly host="${TASKLETS_HOST:-}"
  readonly prefix="$deps/hwloc-$version-static${host:+-$host}"
  readonly configure_flags=(
    --enable-static --disable-shared --with-pic
    --disable-io --disable-libudev --disable-pci --disable-libxml2
    --disable-cairo --disable-opencl --disable-cuda --disable-nvml
    --disable-rsmi --disable-levelzero --disable-gl --disable-libnuma
    --disable-plugin-dlopen --disable-plugin-ltdl --disable-doxygen --disable-readme
  )

  log() { printf 'hwloc.sh: %s\n' "$*" >&2; }
  die() { log "error: $*"; exit 1; }
  installed() { [[ -f "$prefix/lib/pkgconfig/hwloc.pc" && -f "$prefix/lib/libhwloc.a" ]]; }

  work=""
  trap 'rm -rf "${work:-}"' EXIT

  install_fresh() {
    local source stage="$prefix.staging" cross=()
    source="$(DEB_SRC_CALLER=hwloc.sh debian_orig_tarball hwloc "$version" "$deps/src")"
    [[ -z "$host" ]] || cross=(--host="$host" CC="$host-gcc")
    work="$(mktemp -d)"
    rm -rf "$stage" "$prefix"
    tar -xf "$source" -C "$work"
    local tree="$work/hwloc-$version"
    [[ -f "$tree/configure" ]] || die "unexpected layout of $source"
    log "configure + make (library only) ${host:+for $host}"
    # Only the library, its headers and hwloc.pc: the command-line tools are
    # not needed. The prefix is the final one so hwloc.pc points there.
    (cd "$tree" && ./configure --prefix="$prefix" "${configure_flags[@]}" "${cross[@]}" >&2 &&
      make -j"$(nproc)" -C hwloc >&2 &&
      make -C include install DESTDIR="$work/dest" >&2 &&
      make -C hwloc install DESTDIR="$work/dest" >&2 &&
      install -D -m 644 hwloc.pc "$work/dest$prefix/lib/pkgconfig/hwloc.pc")
    mv "$work/dest$prefix" "$stage"
    mv "$stage" "$prefix"
  }

  mkdir -p "$deps"
  exec 9>"$deps/.hwloc.lock"
  flock 9
  if installed; then
    log "hwloc $version (static) already in $prefix"
  else
    command -v "${host:+$host-}gcc" >/dev/null || die "missing ${host:+$host-}gcc"
    install_fresh
    installed || die "install into $prefix failed"
    log "installed hwloc $version (static) into $prefix"
  fi
  printf '%s\n' "$prefix/lib/pkgconfig"
)

source "$(dirname "${BASH_SOURCE[0]}")/deb-src.sh"
tasklets_hwloc_main "$@"
