#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: the regions, then libpmemflush on each target.
set -euo pipefail
. "$(dirname "$0")/guest-setup.sh"

setup_stack >/dev/null
insmod "$PMF_MODULE"
echo "== pmemflush loaded: $(ls -l /dev/pmemflush)"
echo "== persistent memory regions"
for r in /sys/bus/nd/devices/region*; do
	printf '%-8s %-12s %5d MiB  deep_flush=%s persistence_domain=%s\n' \
		"$(basename "$r")" "$(cat "$(readlink -f "$r")/../provider")" \
		$(($(cat "$r/size") >> 20)) \
		"$(cat "$r/deep_flush" 2>/dev/null || echo hidden)" \
		"$(cat "$r/persistence_domain" 2>/dev/null || echo hidden)"
done
echo "== libpmemflush: map, write, persist, deep flush"
if [ "$PMF_STACK" = cxl ]; then
	if [ -n "${PMF_CXL_SKIP:-}" ]; then
		echo "  no CXL region in this boot: $PMF_CXL_SKIP"
		exit 0
	fi
	# QEMU 7.2's emulated CXL memory reads back zeros: the text stays empty
	"$PMF_DEMO" "$PMF_CXL_DEVDAX"
	exit
fi
"$PMF_DEMO" "$PMF_NFIT_DEVDAX" "$PMF_NFIT_EXT4/demo" "$PMF_NFIT_XFS/demo" \
	"$PMF_VIRTIO_EXT4/demo" "$PMF_VIRTIO_DEVDAX"
echo "== virtio-pmem host fsyncs seen by QEMU: fsdax $(cat "$PMF_VIRTIO_EXT4_FSYNC")," \
	"device-dax $(cat "$PMF_VIRTIO_DEVDAX_FSYNC")"
