#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make the qemu stack's backing files once: one boot of Debian's KVER runs
# guest-setup.sh on empty files (ndctl create-namespace, mkfs, sfdisk) and
# leaves the file systems unmounted; DIR then holds sparse copies of the
# files and "done". run.sh starts each qemu-stack boot from copies of them
# when PMF_QEMU_IMAGES=DIR, and the guest finds its targets instead of
# making them (guest-setup.sh's target_ns()). Namespace info blocks and
# file systems are the same on-media formats on 6.1, 6.12 and the sanitizer
# kernel.
#
#   images.sh KVER DIR
set -euo pipefail

kver=$1
dir=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
boot=$dir.boot
tmp=$dir.tmp

rm -rf "$boot" "$tmp"
unset PMF_QEMU_IMAGES
PMF_VM_TIMEOUT=${PMF_VM_TIMEOUT:-1800} PMF_KEEP_IMG=1 \
	"$here/run.sh" "$kver" qemu "$boot" "$here/guest-images.sh"
mkdir -p "$tmp"
for f in "$boot"/img/*; do
	cp --sparse=always "$f" "$tmp/"
done
touch "$tmp/done"
rm -rf "$dir"
mv "$tmp" "$dir"
rm -rf "$boot"
echo "images: $dir ($(du -sh "$dir" | cut -f1) written)"
