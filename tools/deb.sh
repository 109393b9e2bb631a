#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: build the Debian source and binary packages from a copy of the
# checkout (dpkg-buildpackage writes beside the tree it builds, and the
# build must not see build/) and fail unless lintian finds no error and no
# warning. Usage: deb.sh OUTDIR
set -euo pipefail

out=$(realpath -m "$1")
src=$(cd "$(dirname "$0")/.." && pwd)
ver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
lib=$(sed -n 's/^LIB_VERSION[[:space:]]*:=[[:space:]]*//p' "$src/Makefile")
[ "$ver" = "$lib" ] || {
	echo "deb: debian/changelog says $ver, the Makefile's LIB_VERSION $lib" >&2
	exit 1
}

rm -rf "$out"
mkdir -p "$out/pmemflush-$ver"
tar -C "$src" --exclude=./build --exclude=./.git -cf - . |
	tar -C "$out/pmemflush-$ver" -xf -
# not the caller's make variables: `make B=DIR deb` would hand B to the
# package build through MAKEFLAGS, and its `make clean` would remove DIR
(cd "$out/pmemflush-$ver" &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc) \
	>"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed, log in $out/build.log" >&2
	exit 1
}
changes=$(ls "$out"/pmemflush_"$ver"_*.changes)
echo "deb: built $(cd "$out" && ls ./*.deb | sed 's|^\./||' | tr '\n' ' ')"
# overrides in debian/ carry their reasons; pedantic and info tags are not
# failures
lintian --fail-on error,warning --display-info "$changes" | tee "$out/lintian.log"
echo "deb: lintian: no errors, no warnings"
