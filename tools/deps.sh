#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package that building, testing and the demo need.
# Idempotent: apt is only run when something is missing. Works as root or via sudo.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev pkg-config kmod cpio xz-utils
	# the sanitizer kernel's patches, and lint's check that they apply
	patch
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	qemu-system-x86 busybox-static
	ndctl daxctl e2fsprogs xfsprogs util-linux fdisk strace
	libkmod-dev libpmem2-dev
	# pmemflush(1)'s JSON output (the runtime libjson-c5 comes with it)
	libjson-c-dev
	# the io_uring selftest (FLUSH as a uring command)
	liburing-dev
	sparse cppcheck python3 gnuplot-nox
	debhelper dh-dkms dkms dpkg-dev lintian
	# the ioctl selftests built with -m32 (compat_ioctl), linked against
	# the 32-bit libkmod and liburing (the headers are the native -dev
	# packages': no -dev:i386, which would pull linux-libc-dev:i386).
	# gcc-12-multilib, not gcc-multilib: that one conflicts with every
	# cross compiler (the Makefile makes its one link, /usr/include/asm)
	gcc-12-multilib libkmod2:i386 liburing2:i386
	# libpmemflush for 64-bit POWER (little-endian), its host tests run
	# by QEMU's user-mode emulator; the module compiled for ppc64le and
	# big-endian ppc64
	gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross qemu-user
	gcc-powerpc64-linux-gnu
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
# QEMU 10 from bookworm-backports for every stack: QEMU 7.2 (bookworm's)
# routes the CXL window through a host bridge's HDM decoder that Linux 6.1
# never commits for a single root port, so CXL memory dropped writes and no
# file system could be made there (QEMU 8.0 made such bridges pass-through).
# One QEMU serves all stacks: Debian installs one version of a package.
qemu_min=1:10.0
qemu_pkgs=(qemu-system-x86 qemu-system-common qemu-system-data seabios qemu-user)
qemu_ver=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
if [ -z "$qemu_ver" ] || dpkg --compare-versions "$qemu_ver" lt "$qemu_min"; then
	for p in "${qemu_pkgs[@]}"; do
		printf '%s\n' "${missing[@]}" | grep -qx "$p" || missing+=("$p")
	done
fi
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# the backports suite, added the Debian way (same mirror as the release),
# and pinned: QEMU and the firmware it needs come from it, nothing else
# (backports' own default keeps every other package at the release's)
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
if ! grep -rqs "$codename-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources \
		 2>/dev/null | grep -v security | head -n 1)
	printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
		"${mirror:-http://deb.debian.org/debian}" "$codename" |
		$sudo tee /etc/apt/sources.list.d/pmemflush-backports.sources >/dev/null
fi
printf '# pmemflush (tools/deps.sh): QEMU 10 and its firmware from backports\nPackage: qemu-system-x86 qemu-system-common qemu-system-data qemu-system-gui qemu-system-modules-* qemu-utils qemu-block-extra seabios qemu-user\nPin: release n=%s-backports\nPin-Priority: 990\n' \
	"$codename" | $sudo tee /etc/apt/preferences.d/pmemflush-qemu >/dev/null
# packages of a foreign architecture (name:arch) need it enabled before update
for a in $(printf '%s\n' "${missing[@]}" | sed -n 's/.*:\([a-z0-9]*\)$/\1/p' | sort -u); do
	[ "$a" = "$(dpkg --print-architecture)" ] && continue
	dpkg --print-foreign-architectures | grep -qx "$a" ||
		$sudo dpkg --add-architecture "$a"
done
# one stale index (a mirror mid-sync) need not stop the install
$sudo apt-get update -q || echo "deps: apt-get update failed, using the indexes it got"
native=() foreign=()
for p in "${missing[@]}"; do
	case "$p" in
	*:*)	foreign+=("$p") ;;
	*)	native+=("$p") ;;
	esac
done
[ ${#native[@]} -eq 0 ] ||
	$sudo apt-get install -y -q --no-install-recommends "${native[@]}"
# Multi-Arch: same libraries must have one version in every architecture.
# When one architecture's index is stale (seen: bookworm-security's i386
# index "File has unexpected size ... Mirror sync in progress?" for a day
# and a half, while amd64's libssl3 was two updates ahead of i386's), take
# both architectures' copies from the point release, which has them all
[ ${#foreign[@]} -eq 0 ] ||
	$sudo apt-get install -y -q --no-install-recommends "${foreign[@]}" ||
	$sudo apt-get install -y -q --no-install-recommends \
		-t "$codename" "${foreign[@]}"
qemu_ver=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null || true)
dpkg --compare-versions "${qemu_ver:-0}" ge "$qemu_min" || {
	echo "deps: qemu-system-x86 ${qemu_ver:-missing}, but the stacks need $qemu_min (bookworm-backports)" >&2
	exit 1
}
