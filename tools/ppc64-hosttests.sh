#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libpmemflush's host tests built for 64-bit POWER (make hosttests-ppc64le)
# and run by QEMU's user-mode emulator, one TAP file each in RESULTS as
# ppc64-host-NAME.tap, plus ppc64-host-isa.tap:
#
# - every test on the power9 model (ISA 3.0: dcbf and hwsync);
# - cpu_dispatch_test on power8 and power10 too, where the ISA level read
#   from AT_HWCAP2 must match the model. On power10 the library chooses
#   dcbstps and phwsync, which QEMU's TCG does not decode (dcbf with L=6
#   raises an illegal-instruction exception there, as libpmem2's own
#   write-back does): only the detection is judged on that model, the
#   tests that write back are expected to die by SIGILL and are counted;
# - the instruction words of the ISA 3.1 path, read from the library
#   with the cross binutils, since no emulator here can run them.
#
# Usage: ppc64-hosttests.sh BUILD RESULTS
set -uo pipefail

b=$1/ppc64le
res=$2
sysroot=/usr/powerpc64le-linux-gnu
qemu=(qemu-ppc64le -L "$sysroot")

run() {	# cpu test [tap]
	PMF_TEST_PPC_CPU=$1 "${qemu[@]}" -cpu "$1" "$b/hosttests/$2" \
		>"${3:-/dev/null}" 2>&1
}

for t in "$b"/hosttests/*_test; do
	name=$(basename "$t")
	echo "== host (ppc64le, power9): $name"
	run power9 "$name" "$res/ppc64-host-$name.tap"
	grep -E '^(not )?ok |^# Totals' "$res/ppc64-host-$name.tap"
done

isa=$res/ppc64-host-isa.tap
{
	echo "1..5"
	n=0
	for cpu in power8 power10; do
		n=$((n + 1))
		out=$(run "$cpu" cpu_dispatch_test /dev/stdout)
		if printf '%s\n' "$out" | grep -q '^ok [0-9]* global.real_isa_matches_cpu_model$'; then
			echo "ok $n $cpu: the ISA level read from AT_HWCAP2 matches the model ($(
				printf '%s\n' "$out" | sed -n 's/.*flushes with \([a-z]*\)$/\1/p'))"
		else
			echo "not ok $n $cpu: the ISA level read does not match the model"
			printf '%s\n' "$out" | grep -E '^#|^not ok' | head -n 10 | sed 's/^/# /'
		fi
		[ "$cpu" = power10 ] || continue
		# the write-backs that ran dcbstps died by SIGILL, the rest passed
		sig=$(printf '%s\n' "$out" | grep -c 'terminated unexpectedly by signal 4')
		bad=$(printf '%s\n' "$out" | grep '^not ok' | grep -vc -e map_uses_dispatched_functions)
		n=$((n + 1))
		if [ "$sig" -ge 1 ] && [ "$bad" -eq 0 ]; then
			echo "ok $n power10: writing back ran dcbstps, which QEMU's TCG refuses (SIGILL in $sig test)"
		else
			echo "not ok $n power10: expected SIGILL from dcbstps in map_uses_dispatched_functions only ($sig SIGILL, $bad other failures)"
		fi
	done
	# the 3.1 path's words: dcbstps 0,rB (dcbf, L=6) and phwsync (sync, L=4)
	dis=$(powerpc64le-linux-gnu-objdump -d "$b/ulib/libpmemflush.so")
	n=$((n + 1))
	if printf '%s\n' "$dis" | sed -n '/<pmf_flush_dcbstps>:/,/^$/p' |
	   grep -q 'dcbstps'; then
		echo "ok $n pmf_flush_dcbstps writes back with dcbstps"
	else
		echo "not ok $n pmf_flush_dcbstps has no dcbstps"
	fi
	n=$((n + 1))
	if printf '%s\n' "$dis" | sed -n '/<pmf_phwsync>:/,/^$/p' | grep -q 'phwsync'; then
		echo "ok $n pmf_phwsync is phwsync"
	else
		echo "not ok $n pmf_phwsync is not phwsync"
	fi
} >"$isa"
cat "$isa"
