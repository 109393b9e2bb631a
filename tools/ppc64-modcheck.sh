#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module compiled for 64-bit POWER, big-endian and little-endian, with
# W=1: no compiler warning may appear. Debian builds no ppc64 (big-endian)
# kernel and its ppc64el kernels have no LIBNVDIMM (README, "64-bit
# POWER"), so the trees are Debian's linux-source-6.12 configured with the
# kernel's own ppc64_defconfig and ppc64le_defconfig, plus device-dax and
# virtio-pmem, and prepared for external modules; cached outside the
# checkout. Without a vmlinux there is no Module.symvers: modpost's
# unresolved-symbol warnings are expected, and this is a compile check,
# not a module that loads.
# Usage: ppc64-modcheck.sh RESULTS
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

res=$1
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
tap=$res/ppc64-module.tap
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $*"; }

cross() {	# be|le -> the compiler prefix
	[ "$1" = be ] && echo powerpc64-linux-gnu- || echo powerpc64le-linux-gnu-
}

prepare() {
	local e src cfg
	rm -rf "$cache"
	mkdir -p "$cache"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$cache" || return 1
	src=$cache/linux-source-6.12
	for e in be le; do
		cfg=ppc64_defconfig
		[ "$e" = le ] && cfg=ppc64le_defconfig
		make -s -C "$src" O="$cache/$e" ARCH=powerpc \
			CROSS_COMPILE="$(cross $e)" "$cfg" || return 1
		"$src/scripts/config" --file "$cache/$e/.config" \
			-e ZONE_DEVICE -m DEV_DAX -m DEV_DAX_PMEM \
			-e VIRTIO_MENU -m VIRTIO_PMEM || return 1
		make -s -C "$src" O="$cache/$e" ARCH=powerpc \
			CROSS_COMPILE="$(cross $e)" olddefconfig || return 1
		make -s -C "$src" O="$cache/$e" ARCH=powerpc \
			CROSS_COMPILE="$(cross $e)" -j2 modules_prepare || return 1
	done
	touch "$cache/done"
}

check() {	# be|le
	local e=$1 c name endian missing log rc warn ko what

	c=$cache/$e/.config
	endian=CPU_LITTLE_ENDIAN
	name=ppc64le
	if [ "$e" = be ]; then
		endian=CPU_BIG_ENDIAN
		name="ppc64 (big-endian)"
	fi
	missing=$(for o in "$endian" LIBNVDIMM PAPR_SCM DAX FS_DAX DEV_DAX \
			     VIRTIO_PMEM IO_URING; do
			grep -qE "^CONFIG_$o=[ym]" "$c" || echo "$o"
		  done | xargs)
	log=$res/ppc64-module-$e.log
	rc=0
	make --no-print-directory module KDIR="$cache/$e" KVER="ppc64-$e" \
		KBUILD_EXTRA="ARCH=powerpc CROSS_COMPILE=$(cross "$e") W=1 KBUILD_MODPOST_WARN=1" \
		>"$log" 2>&1 || rc=$?
	warn=$(grep -c 'warning:' "$log")
	ko=build/mod-ppc64-$e/pmemflush.ko
	what=$(file -b "$ko" 2>/dev/null | cut -d, -f1,2)
	if [ "$rc" -eq 0 ] && [ "$warn" -eq 0 ] && [ -z "$missing" ] &&
	   [ -f "$ko" ]; then
		ok "$name: pmemflush.ko builds with W=1, no warning ($what)"
	else
		notok "$name: build rc $rc, $warn warnings, config lacks '$missing' (build/results/ppc64-module-$e.log)"
		grep 'warning:\|error:' "$log" | head -n 10 | sed 's/^/# /'
	fi
}

# keyed by how the trees are made
key=$(declare -f cross prepare | sha256sum | cut -c1-12)
cache=${PMF_CACHE:-/var/tmp/pmemflush-cache}/ppc64-kbuild-$ver-$key

{
	echo "1..3"
	if [ ! -f "$cache/done" ] && ! prepare >"$res/ppc64-kbuild.log" 2>&1; then
		notok "linux-source-6.12 prepared for ppc64 and ppc64le (build/results/ppc64-kbuild.log)"
		tail -n 20 "$res/ppc64-kbuild.log" | sed 's/^/# /'
		notok "ppc64le: no tree"
		notok "ppc64 (big-endian): no tree"
	else
		ok "linux-source-6.12 ($ver) prepared for ppc64 and ppc64le"
		check le
		check be
	fi
} >"$tap"
cat "$tap"
[ "$fails" -eq 0 ]
