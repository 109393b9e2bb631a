#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package that building, testing and the demo need.
# Idempotent: apt is only run when something is missing. Works as root or via sudo.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev pkg-config kmod cpio xz-utils
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	linux-image-6.12-amd64 linux-headers-6.12-amd64 linux-source-6.12
	qemu-system-x86 busybox-static
	ndctl daxctl e2fsprogs xfsprogs util-linux fdisk strace
	libkmod-dev libpmem2-dev
	sparse cppcheck python3 gnuplot-nox
	debhelper dh-dkms dkms dpkg-dev lintian
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
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
