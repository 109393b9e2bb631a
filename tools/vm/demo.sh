#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`.
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
echo "== targets"
sed 's/^export /  /' "$PMF_OUT/targets.env"
