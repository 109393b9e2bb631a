#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prove that the VM harness catches failures: a clean guest must pass, and a
# failing guest command, a WARNING in the guest kernel log and a foreign taint
# bit must each fail the boot, and a guest that never reaches init (its
# kernel runs a shell that waits on the console instead) fails after
# PMF_VM_INIT_TIMEOUT, 5 s here, booted once, its console kept. Prints TAP.
# Usage: selfcheck.sh KVER OUTDIR
set -uo pipefail

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
cases=(clean fail warn taint hang)
# what the verdict on each misbehaving guest must name as the reason
declare -A reason=(
	[fail]="guest job exited 1"
	[warn]="guest kernel log reports:"
	[taint]="kernel tainted 512"
	[hang]="vm: no init after 5s"
)

for c in "${cases[@]}"; do
	hang=()
	[ "$c" = hang ] && hang=(PMF_VM_INIT_TIMEOUT=5 PMF_VM_APPEND=rdinit=/bin/sh)
	env "${hang[@]}" PMF_VM_SMP=1 \
		"$here/run.sh" "$kver" none "$out/$c" "$here/selfcheck-guest.sh" \
		PMF_SELFCHECK="$c" >"$out-$c.log" 2>&1 &
	pids+=($!)
done

echo "1..${#cases[@]}"
for i in "${!cases[@]}"; do
	c=${cases[$i]}
	rc=0
	wait "${pids[$i]}" || rc=$?
	sed 's/^/# /; $a\' "$out-$c.log"	# ends in a newline
	if [ "$c" = clean ]; then
		[ $rc -eq 0 ] && r=ok || r="not ok"
		echo "$r $((i + 1)) clean guest passes"
	else
		r="not ok"
		[ $rc -ne 0 ] && grep -q "FAIL: ${reason[$c]}" "$out-$c.log" && r=ok
		# the hung guest was booted once, its console kept
		[ "$c" = hang ] && { [ "$(grep -c "vm: booting" "$out-$c.log")" = 1 ] &&
			[ -s "$out/$c.hung-console" ] || r="not ok"; }
		echo "$r $((i + 1)) guest '$c' fails the boot: ${reason[$c]}"
	fi
done
