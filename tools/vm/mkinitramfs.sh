#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest's initramfs: static busybox, our init, and just the modules
# needed to reach the host's root over 9p. Everything else the guest runs comes
# from that read-only host root, so guest and host tools are the same binaries.
# Usage: mkinitramfs.sh KVER OUT.cpio.gz
set -euo pipefail

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp"/{bin,dev,proc,sys,host,modules}
cp /bin/busybox "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
install -m 0755 "$here/init" "$tmp/init"

# busybox insmod cannot read compressed modules (6.12 ships .ko.xz).
# PMF_MODROOT: a module tree outside /lib/modules (the sanitizer kernel, which
# has all three built in)
n=0
for m in virtio_pci 9pnet_virtio 9p; do
	modprobe ${PMF_MODROOT:+-d "$PMF_MODROOT"} -S "$kver" --show-depends "$m" |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	n=$((n + 1))
	dst=$(printf '%s/modules/%02d-%s' "$tmp" "$n" "$(basename "${ko%.xz}")")
	case "$ko" in
	*.xz)	xz -dc "$ko" >"$dst" ;;
	*)	cp "$ko" "$dst" ;;
	esac
done

# concurrent boots may race to build it: publish it with one rename
part=$(mktemp "$out.XXXXXX")
(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$part"
mv "$part" "$out"
