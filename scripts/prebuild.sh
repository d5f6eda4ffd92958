#!/usr/bin/env bash
# Builds the self-contained prebuilt addon of one npm platform package:
#   scripts/prebuild.sh linux-x64-gnu|linux-arm64-gnu   ->  build-prebuilt/<platform>/tasklets.node
#
# One binary per platform serves every supported Node major: it is built
# against the headers of the oldest (Node 20, npm node-linux-<arch>@20) with
# Node-API version 8, and its few V8 calls (addon/isolate.cc) resolve to the
# same symbols in Node 20, 22, 24 and 26 (docs/building.md says how each
# major is verified). hwloc and jemalloc are our own static builds for the
# target (.ci/hwloc.sh, .ci/jemalloc.sh); libstdc++ and libgcc are linked
# statically (-Dself_contained=true). The checks at the end refuse a binary
# that needs more than glibc or exports more than the Node-API entry points.
# Runs as any user once the cross toolchain is installed (./tasklets.sh deps-release
# installs it as root).
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

readonly platform=$1
readonly NODE_HEADERS_MAJOR=20
case "$platform" in
  linux-x64-gnu) arch=x64 host="" ;;
  linux-arm64-gnu) arch=arm64 host=aarch64-linux-gnu ;;
  *) echo "prebuild.sh: unknown platform $platform" >&2; exit 2 ;;
esac
log() { printf '\033[1m[prebuild %s]\033[0m %s\n' "$platform" "$*" >&2; }

node_dir="$(scripts/node-dist.sh "$arch" "$NODE_HEADERS_MAJOR")"
# Only our static hwloc and jemalloc for the target: a PKG_CONFIG_PATH
# inherited from the developer's build (./tasklets.sh exports the host's
# jemalloc) is searched before pkg_config_libdir and would hand a cross
# build the host's archive.
unset PKG_CONFIG_PATH
hwloc_pc="$(TASKLETS_HOST=$host bash .ci/hwloc.sh | tail -n1)"
jemalloc_pc="$(TASKLETS_HOST=$host bash .ci/jemalloc.sh | tail -n1)"
out="build-prebuilt/$platform"
dir="$out/build"
mkdir -p "$out"

setup_args=(-Druntime_only=true -Dself_contained=true -Daddon=enabled -Dbuildtype=release
            "-Dnode_headers=$node_dir/include/node")
if [[ -n "$host" ]]; then
  # The cross compiler does not search /usr/include; the header-only
  # moodycamel queue is reached through a directory of its own.
  mkdir -p "$out/cross-include"
  ln -sfn /usr/include/concurrentqueue "$out/cross-include/concurrentqueue"
  cat >"$out/cross.ini" <<INI
[binaries]
c = '$host-gcc'
cpp = '$host-g++'
ar = '$host-ar'
strip = '$host-strip'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = ['$hwloc_pc', '$jemalloc_pc']

[built-in options]
cpp_args = ['-isystem', '$PWD/$out/cross-include']

[host_machine]
system = 'linux'
cpu_family = 'aarch64'
cpu = 'aarch64'
endian = 'little'
INI
  setup_args+=(--cross-file "$out/cross.ini")
  strip_tool=$host-strip readelf_tool=$host-readelf nm_tool=$host-nm
else
  # Only our static hwloc and jemalloc, never the system's libhwloc.
  export PKG_CONFIG_LIBDIR="$hwloc_pc:$jemalloc_pc"
  strip_tool=strip readelf_tool=readelf nm_tool=nm
fi

if [[ ! -f "$dir/build.ninja" ]]; then
  log "configuring"
  meson setup "$dir" "${setup_args[@]}" >&2
fi
log "building the addon"
meson compile -C "$dir" addon/tasklets:shared_module >&2
# --strip-debug, not --strip-unneeded: the symbol table stays, so that an
# error's nativeTrace names the functions (docs/api.md, "Native traces").
"$strip_tool" --strip-debug -o "$out/tasklets.node" "$dir/addon/tasklets.node"

# glibc's own libraries only, whatever the toolchain added.
needed="$("$readelf_tool" -d "$out/tasklets.node" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
bad="$(grep -Ev '^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|ld-linux.*)$' <<<"$needed" || true)"
[[ -z "$bad" ]] || { log "error: the addon needs more than glibc: $bad"; exit 1; }
exported="$("$nm_tool" -D --defined-only "$out/tasklets.node" | awk '{print $3}')"
extra="$(grep -Ev '^(napi_register_module_v1|node_api_module_get_api_version_v1)$' <<<"$exported" || true)"
[[ -z "$extra" ]] || { log "error: the addon exports more than its Node-API entry points: $(head -5 <<<"$extra")"; exit 1; }
glibc="$("$readelf_tool" -V "$out/tasklets.node" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)"
printf '%s\n' "${glibc#GLIBC_}" >"$out/glibc-version"
log "ok: $(stat -c %s "$out/tasklets.node") bytes, needs $(tr '\n' ' ' <<<"$needed")(glibc >= ${glibc#GLIBC_})"
printf '%s\n' "$PWD/$out/tasklets.node"
