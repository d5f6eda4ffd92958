#!/usr/bin/env bash
# Makes every npm tarball of a release in dist/: one platform package per
# prebuilt binary (scripts/prebuild.sh) and the main package, which carries
# the sources, the install script (scripts/install.js), node-addon-api
# (bundled) and jemalloc's upstream source for the build-from-source path.
# Prints the tarballs' paths on stdout, one a line.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

readonly PLATFORMS=(linux-x64-gnu linux-arm64-gnu)
log() { printf '\033[1m[pack]\033[0m %s\n' "$*" >&2; }

version="$(node -p 'require("./package.json").version')"
rm -rf dist
mkdir -p dist

for platform in "${PLATFORMS[@]}"; do
  pinned="$(node -p "require('./package.json').optionalDependencies['@tasklets/$platform'] || ''")"
  [[ "$pinned" == "$version" ]] || { log "error: optionalDependencies pins @tasklets/$platform to '$pinned', not $version"; exit 1; }
  binary="$(scripts/prebuild.sh "$platform" | tail -n1)"
  stage="build-prebuilt/$platform/package"
  rm -rf "$stage"
  cp -r "npm/$platform" "$stage"
  cp LICENSE "$binary" "$stage/"
  (cd "$stage" && npm pkg set "version=$version" && npm pack --silent --pack-destination "$OLDPWD/dist" >/dev/null)
  log "@tasklets/$platform $version"
done

# The install script builds jemalloc from this when no prebuilt fits; gzip,
# not Debian's bzip2, because every machine has gzip.
source_tarball="$(bash .ci/jemalloc.sh --source | tail -n1)"
mkdir -p vendor
case "$source_tarball" in
  *.bz2) bzip2 -dc "$source_tarball" | gzip -9n >vendor/jemalloc-5.3.0.tar.gz ;;
  *.gz) cp "$source_tarball" vendor/jemalloc-5.3.0.tar.gz ;;
  *) log "error: unexpected jemalloc source $source_tarball"; exit 1 ;;
esac
[[ -f node_modules/node-addon-api/napi.h ]] || npm install --ignore-scripts --no-audit --no-fund >&2
npm pack --silent --pack-destination dist >/dev/null
log "tasklets $version"
for f in dist/*.tgz; do
  log "$(stat -c %s "$f") bytes  $f"
  printf '%s\n' "$PWD/$f"
done
