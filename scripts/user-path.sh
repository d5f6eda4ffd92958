#!/usr/bin/env bash
# The user's path, proved on the packed tarballs: a throwaway app installs
# them with `npm install <tarballs>` as an ordinary user and runs the smoke
# test (scripts/smoke/: run, runAll, map, errors and their codes, the ESM
# entry point, tsc --strict against the shipped types).
#
#   scripts/user-path.sh [--from-source] [NODE_BIN_DIR]
# NODE_BIN_DIR: the node to install and run with (default: the one on PATH).
# --from-source: TASKLETS_BUILD_FROM_SOURCE=1, so the install script builds
# the addon from the main tarball's sources instead of using the prebuilt.
# As root the app belongs to `nobody` and npm runs as nobody (runuser), with
# HOME and npm's cache inside the app folder. Prints one line per check to
# stderr and "<passed> <failed>" on stdout.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo="$PWD"

from_source=""
if [[ "${1:-}" == --from-source ]]; then from_source=1; shift; fi
node_bin="${1:-$(dirname "$(readlink -f "$(command -v node)")")}"
npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
[[ -f "$npm_cli" ]] || npm_cli="$(dirname "$(readlink -f "$(command -v npm)")")/../lib/node_modules/npm/bin/npm-cli.js"

arch="$("$node_bin/node" -p process.arch)"
main_tgz="$(compgen -G "dist/tasklets-[0-9]*.tgz" | head -n1 || true)"
platform_tgz="$(compgen -G "dist/tasklets-linux-$arch-gnu-*.tgz" | head -n1 || true)"
[[ -n "$main_tgz" && -n "$platform_tgz" ]] || { echo "user-path.sh: run ./tasklets.sh pack first" >&2; exit 2; }

app="$(mktemp -d /tmp/tasklets-app.XXXXXX)"
trap 'rm -rf "$app"' EXIT
cp "$main_tgz" "$platform_tgz" scripts/smoke/* "$app/"
printf '{ "name": "smoke-app", "version": "1.0.0", "private": true }\n' >"$app/package.json"
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  chown -R nobody: "$app"
  chmod 755 "$app"
  as_user=(runuser -u nobody --)
fi
run_in_app() {
  (cd "$app" && "${as_user[@]}" env HOME="$app/home" npm_config_cache="$app/npm-cache" \
    PATH="$node_bin:$PATH" ${from_source:+TASKLETS_BUILD_FROM_SOURCE=1} "$@")
}

passed=0 failed=0
check() {
  local name=$1
  shift
  if "$@" >"$app/check.log" 2>&1; then
    passed=$((passed + 1))
    printf '  ok    %s\n' "$name" >&2
  else
    failed=$((failed + 1))
    printf '  FAIL  %s\n' "$name" >&2
    tail -n 25 "$app/check.log" | sed 's/^/        /' >&2
  fi
}

install_tarballs() {
  local start end
  start=$(date +%s%N)
  run_in_app "$node_bin/node" "$npm_cli" install --no-audit --no-fund --foreground-scripts \
    "./$(basename "$main_tgz")" "./$(basename "$platform_tgz")"
  end=$(date +%s%N)
  echo "install took $(((end - start) / 1000000)) ms"
}
# The binary that served the smoke test is the one this mode promises.
addon_is() {
  local want=$1 got
  got="$(run_in_app "$node_bin/node" -e "console.log(require('./node_modules/tasklets/js/addon.js').addonPath())")"
  echo "addon: $got"
  [[ "$got" == *"$want"* ]]
}
# What the main tarball holds: its install needs, a LICENSE, no test or
# benchmark sources it cannot build.
tarball_contents() {
  local list
  list="$(tar -tzf "$main_tgz")"
  grep -qx 'package/LICENSE' <<<"$list" && grep -qx 'package/scripts/install.js' <<<"$list" &&
    grep -qx 'package/node_modules/node-addon-api/napi.h' <<<"$list" &&
    grep -qx 'package/vendor/jemalloc-5.3.0.tar.gz' <<<"$list" &&
    ! grep -Eq '^package/(tests|perf|examples)/' <<<"$list"
}

printf 'user path (Node %s%s):\n' "$("$node_bin/node" --version)" "${from_source:+, from source}" >&2
check "main tarball contents" tarball_contents
check "npm install of the tarballs as $([[ ${#as_user[@]} -gt 0 ]] && echo nobody || id -un)" install_tarballs
grep -h 'install took' "$app/check.log" >&2 || true
if [[ -n "$from_source" ]]; then
  check "addon built from source" addon_is "node_modules/tasklets/build/addon/tasklets.node"
else
  check "prebuilt addon from @tasklets/linux-$arch-gnu" addon_is "node_modules/@tasklets/linux-$arch-gnu/tasklets.node"
fi
check "smoke.cjs: run, runAll, map, errors" run_in_app "$node_bin/node" smoke.cjs
check "smoke.mjs: ESM import" run_in_app "$node_bin/node" smoke.mjs
check "tsc --strict against the shipped types" run_in_app "$node_bin/node" "$repo/node_modules/typescript/bin/tsc" -p tsconfig.json
echo "$passed $failed"
