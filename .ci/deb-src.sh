# Sourced by .ci/jemalloc.sh and .ci/hwloc.sh: fetches the upstream source
# tarball of a Debian source package (apt checks it against the signed
# Sources index, so no checksum of our own is needed).
#
#   debian_orig_tarball PACKAGE VERSION DIR
# prints DIR/PACKAGE_VERSION.orig.tar.* (downloading it once; later calls
# find it there). Adding a deb-src entry for the machine's Debian archive
# and running apt-get update need root; with an entry already there, any
# user can download.

deb_src_log() { printf '%s: %s\n' "${DEB_SRC_CALLER:-deb-src.sh}" "$*" >&2; }
deb_src_die() { deb_src_log "error: $*"; exit 1; }

readonly DEB_SRC_LIST=/etc/apt/sources.list.d/tasklets-src.sources

# The archive stanza the machine already uses ("URIs|suite|signed-by"),
# taken from deb822 debian.sources or, failing that, a one-line sources.list.
# The security and -updates suites are skipped: source packages live in the
# main suite.
deb_src_main_archive() {
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

deb_src_available() {
  apt-cache showsrc "$1" 2>/dev/null | grep -q "^Version: $2-"
}

deb_src_ensure() {
  local src_pkg=$1 src_ver=$2
  deb_src_available "$src_pkg" "$src_ver" && return 0
  [[ $(id -u) -eq 0 ]] || deb_src_die "no deb-src entry for $src_pkg and not root to add one"
  if [[ ! -f "$DEB_SRC_LIST" ]]; then
    local archive uris suite signed
    archive="$(deb_src_main_archive)"
    [[ -n "$archive" ]] || deb_src_die "cannot find the Debian archive in /etc/apt sources"
    IFS='|' read -r uris suite signed <<<"$archive"
    deb_src_log "adding $DEB_SRC_LIST ($uris $suite)"
    {
      echo "Types: deb-src"
      echo "URIs: $uris"
      echo "Suites: $suite"
      echo "Components: main"
      [[ -z "$signed" ]] || echo "Signed-By: $signed"
    } >"$DEB_SRC_LIST"
  fi
  deb_src_log "apt-get update"
  apt-get update -qq >&2
  deb_src_available "$src_pkg" "$src_ver" || deb_src_die "apt offers no $src_pkg $src_ver source package"
}

debian_orig_tarball() {
  local src_pkg=$1 src_ver=$2 dir=$3 found
  found="$(compgen -G "$dir/${src_pkg}_$src_ver.orig.tar.*" | head -n1 || true)"
  if [[ -z "$found" ]]; then
    deb_src_ensure "$src_pkg" "$src_ver"
    local tmp
    tmp="$(mktemp -d)"
    # apt's _apt user must be able to write the download directory.
    chmod 755 "$tmp"
    (cd "$tmp" && apt-get source --download-only "$src_pkg" >&2) || { rm -rf "$tmp"; deb_src_die "apt-get source $src_pkg failed"; }
    found="$(compgen -G "$tmp/${src_pkg}_$src_ver.orig.tar.*" | head -n1 || true)"
    [[ -n "$found" ]] || { rm -rf "$tmp"; deb_src_die "apt did not download ${src_pkg}_$src_ver.orig.tar.*"; }
    mkdir -p "$dir"
    mv "$found" "$dir/"
    rm -rf "$tmp"
    found="$dir/$(basename "$found")"
  fi
  printf '%s\n' "$found"
}
