#!/bin/sh
# merge-archives.sh AR OUT IN...: one static archive holding every member of
# the IN archives. Installed libtasklets.a carries the private jemalloc this
# way, so a consumer links one archive and never a jemalloc of its own.
# GNU ar's MRI scripts keep members whose names collide, which `ar x` would
# overwrite.
set -eu
ar=$1
out=$2
shift 2
rm -f "$out"
{
  echo "create $out"
  for archive in "$@"; do echo "addlib $archive"; done
  echo "save"
  echo "end"
} | "$ar" -M
"$ar" s "$out"
