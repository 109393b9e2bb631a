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
	# the ioctl selftests built with -m32 (compat_ioctl), and their libkmod;
	# the io_uring selftest's liburing, for its -m32 build
	gcc-multilib libkmod-dev:i386 liburing-dev:i386
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# packages of a foreign architecture (name:arch) need it enabled before update
for a in $(printf '%s\n' "${missing[@]}" | sed -n 's/.*:\([a-z0-9]*\)$/\1/p' | sort -u); do
	[ "$a" = "$(dpkg --print-architecture)" ] && continue
	dpkg --print-foreign-architectures | grep -qx "$a" ||
		$sudo dpkg --add-architecture "$a"
done
# one stale index (a mirror mid-sync) need not stop the install
$sudo apt-get update -q || echo "deps: apt-get update failed, using the indexes it got"
# Multi-Arch: same libraries must have one version in every architecture: when
# the candidates differ (one architecture's security index is missing), take
# both from the point release
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" ||
	$sudo apt-get install -y -q --no-install-recommends \
		-t "$(. /etc/os-release && echo "$VERSION_CODENAME")" "${missing[@]}"
