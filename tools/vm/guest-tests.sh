#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: bring up the stack, load pmemflush.ko and run
# every selftest in PMF_SELFTESTS, one TAP file each in $PMF_OUT/tap.
# A failing test is reported through its TAP file; this script fails only
# when the stack cannot be brought up.
set -euo pipefail
. "$(dirname "$0")/guest-setup.sh"

setup_stack
insmod "$PMF_MODULE"
mkdir -p "$PMF_OUT/tap"
for t in $PMF_SELFTESTS; do
	name=$(basename "$t")
	log "running $name"
	"$t" >"$PMF_OUT/tap/$name.tap" 2>&1 || true
	grep -E '^(not )?ok |^# Totals' "$PMF_OUT/tap/$name.tap" || true
done
