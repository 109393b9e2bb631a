#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract the kernel sources pmemflush needs from the Debian linux-source
# tarball and build the nfit_test modules against the installed headers.
#
# Usage: tools/extract-kernel-src.sh KVER OUTDIR

set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 KVER OUTDIR" >&2
	exit 2
fi

kver=$1
out=$2

if [[ ! $kver =~ ^([0-9]+\.[0-9]+)[.-] ]]; then
	echo "$0: cannot parse kernel release '$kver'" >&2
	exit 1
fi
series=${BASH_REMATCH[1]}
tarball=/usr/src/linux-source-$series.tar.xz
kdir=/lib/modules/$kver/build
[ -d "$kdir" ] || kdir=/usr/src/linux-headers-$kver

for f in "$tarball" "$kdir/Makefile"; do
	if [ ! -e "$f" ]; then
		echo "$0: missing $f (install linux-source-$series / linux-headers-$kver)" >&2
		exit 1
	fi
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
nvdimm=$src/tools/testing/nvdimm
stamp="$kver $(stat -c '%s %Y' "$tarball") $tarball"

list_modules() {
	find "$nvdimm" -name '*.ko' | sort
}

if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] &&
   [ -f "$nvdimm/test/nfit_test.ko" ]; then
	list_modules
	exit 0
fi

rm -rf "$src" "$out/stamp"
mkdir -p "$src"

# One pass: xz decompression dominates, so never read the tarball twice.
# Nothing else is needed: the Kbuild files only pull objects from these
# driver dirs, kselftest*.h only include system headers, and everything
# else comes from the headers package.
top=linux-source-$series
tar -xJf "$tarball" -C "$src" --strip-components=1 \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/tools/testing/nvdimm" \
	"$top/drivers/nvdimm" \
	"$top/drivers/acpi/nfit" \
	"$top/drivers/dax" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"

# The Kbuild's own -I$(srctree)/drivers/... points into the headers
# package, which does not ship these private headers.
make -C "$kdir" M="$nvdimm" -j2 \
	KCFLAGS="-I$src/drivers/nvdimm -I$src/drivers/acpi/nfit -I$src/drivers/dax" \
	modules

echo "$stamp" > "$out/stamp"
list_modules
