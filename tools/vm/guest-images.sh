#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of images.sh: the qemu stack's targets made on empty backing
# files, then the file systems unmounted and everything written back, so
# that the files can seed later boots.
set -euo pipefail
. "$(dirname "$0")/guest-setup.sh"

setup_stack
for m in /mnt/nfit-ext4 /mnt/nfit-xfs /mnt/nfit-btt-ext4 /mnt/virtio-ext4; do
	umount "$m"
done
sync
log "images made"
