#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: bring up the stack, load pmemflush.ko and run
# the selftests in PMF_SELFTESTS that belong to this stack (NAME.$PMF_STACK
# first: the teardown race in the others may rename devices), one TAP file
# each in $PMF_OUT/tap.
# A failing test is reported through its TAP file; this script fails only
# when the stack cannot be brought up.
set -euo pipefail
. "$(dirname "$0")/guest-setup.sh"

setup_stack
# Calibration (README, "On a slow machine"): 20 fork+execs of /bin/true,
# from the host's root over 9p as every test binary runs. A quiet Debian
# 6.1 guest on the 2-core machine the fixed timeouts were written on takes
# about 1,150 ms; the tests multiply their waits and the harness's per-test
# timeouts by the ratio, rounded up (PMF_TIMEOUT_SCALE,
# selftests/pmemflush_test.h). Measured after the stack is up, so a busy
# host or a slow kernel (the sanitizer kernel: about 5x) shows in it.
cal_ref_ms=1150
/bin/true
t0=$(date +%s%N)
for i in $(seq 20); do /bin/true; done
cal_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
PMF_TIMEOUT_SCALE=$(( (cal_ms + cal_ref_ms - 1) / cal_ref_ms ))
export PMF_TIMEOUT_SCALE
log "calibration: 20 execs in $cal_ms ms (quiet reference $cal_ref_ms ms): waits and timeouts x$PMF_TIMEOUT_SCALE"
# The tests count calls with kprobe events. Keep the code patching that
# brings to a minimum: enabling an event while comms are recorded hooks
# sched_switch, live-patching __schedule(), and under TCG with two vCPUs
# that once hit a stale int3 (Oops: int3 in __schedule on 6.12); kprobes
# stay plain int3s, without the jump optimiser re-patching them later.
echo 0 >/sys/kernel/tracing/options/record-cmd
sysctl -qw debug.kprobes-optimization=0
# the group-commit counters and the flush-window knob live in debugfs
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
insmod "$PMF_MODULE"
mkdir -p "$PMF_OUT/tap"
# the stack-independent *_test run on the NFIT stacks; the CXL stack runs
# its own (the teardown races there would only repeat the nd core's paths)
generic=$(printf '%s\n' $PMF_SELFTESTS | grep '/[^./]*_test$' || true)
[ "$PMF_STACK" = cxl ] && generic=
# what memory each test leaves behind (the sanitizer guests once ran out):
# free, slab (KASAN's quarantine holds freed objects there), vmalloc and
# what the tmpfs mounts hold, in MiB
memory() {
	awk '/^MemAvailable:/ { a = $2 } /^Slab:/ { s = $2 }
	     /^VmallocUsed:/ { v = $2 } /^Shmem:/ { t = $2 }
	     END { printf "memory: %d MiB available, slab %d, vmalloc %d, shmem %d",
		   a / 1024, s / 1024, v / 1024, t / 1024 }' /proc/meminfo
}
log "before the tests: $(memory)"
for t in $(printf '%s\n' $PMF_SELFTESTS | grep "\.$PMF_STACK\$") $generic; do
	name=$(basename "$t")
	log "running $name"
	t0=$SECONDS
	"$t" >"$PMF_OUT/tap/$name.tap" 2>&1 || true
	grep -E '^(not )?ok |^# Totals' "$PMF_OUT/tap/$name.tap" || true
	log "$name took $((SECONDS - t0)) s; $(memory)"
done
