#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Name the checkers a kernel .config enables, for make check's
# "debug kernel:" line: only what the .config really has is printed.
# Usage: debug-features.sh PATH/.config
set -euo pipefail

for f in KASAN KASAN_INLINE PROVE_LOCKING KFENCE UBSAN DEBUG_KMEMLEAK \
	 DEBUG_ATOMIC_SLEEP DEBUG_OBJECTS DEBUG_LIST FAULT_INJECTION FAILSLAB \
	 FAIL_PAGE_ALLOC DETECT_HUNG_TASK SECURITY_LANDLOCK; do
	if grep -qx "CONFIG_$f=y" "$1"; then printf '%s ' "${f#DEBUG_}"; fi
done | sed 's/ $//'
echo
