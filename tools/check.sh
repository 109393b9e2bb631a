#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: lint, the host tests, the harness self-check, then one VM boot
# per kernel (Debian 6.1, 6.12) and flush provider stack (QEMU NFIT +
# virtio-pmem; nfit_test). Every step leaves TAP in build/results; the last
# line is the total over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

b=$PWD/build
res=$b/results
rm -rf "$res"
mkdir -p "$res"
selftests=$(ls "$b"/selftests/*)
# each step's start and length, printed before the summary
t0=$(date +%s)
times=$b/step-times
: >"$times"
took() {	# NAME START: the step NAME began at START (date +%s) and ends now
	local now
	now=$(date +%s)
	printf '%-34s %4d:%02d  %4d:%02d\n' "$1" $((($2 - t0) / 60)) \
		$((($2 - t0) % 60)) $(((now - $2) / 60)) $(((now - $2) % 60)) >>"$times"
}
kver61=$(tools/kver.sh 6.1)

# PMF_SERIES / PMF_STACKS narrow the VM boots, PMF_VM_ONLY=1 skips the
# steps before them and PMF_NO_PACKAGES=1 the package test, for quicker runs
# while developing; make check sets none of them.
series_list=${PMF_SERIES:-debug 6.1 6.12}
stack_list=${PMF_STACKS:-qemu nfit_test cxl}

# "debug" is the sanitizer kernel (tools/debug-kernel.sh): cached outside the
# checkout; when missing it builds beside lint, the host tests and the
# self-check, and the boots wait for it, then run as with the kernel
# cached. Built beside the boots instead, it gains nothing: at normal
# priority it took the Debian QEMU boot's CPU (that boot ran into its
# 2,400 s timeout) and still took 2,296 s, against 742 s alone; at nice 19
# it took 1,499 s and more (beside the six Debian boots and the package
# test of a QEMU 10 run, 46 minutes, it had not finished after 55), and
# the debug boots, the longest of all, could only start after it: a new
# machine's make check came to about 100 minutes.
dbg_pid=
if [[ " $series_list " == *" debug "* ]] &&
   [ ! -f "$(tools/debug-kernel.sh --path)/done" ]; then
	echo "== debug kernel: building beside the checks before the boots ($b/debug-kernel.log)"
	tools/debug-kernel.sh >"$b/debug-kernel.log" 2>&1 &
	dbg_pid=$!
	dbg_start=$(date +%s)
fi
# The debug boots run every test that exercises the module; the userspace
# comparisons against PMDK (libpmemflush_vm, pmem2_patterns, pmemflush_cmd)
# run on Debian's kernels only, as does the CXL stack: they test the
# libraries, not the kernel, and on this kernel they would cost more than
# make check has (libpmemflush_vm alone took 691 s). The Debian boots leave
# out the fault injection (their kernels have none), the soak, and the
# kernel-fix checks (pmemflush_kernel_fixes: a Debian kernel has the bugs
# and no KASAN to see them). The fuzzer
# runs 1,000,000 ioctls on a Debian kernel (10-20 s) and 250,000 on the
# sanitizer kernel, where 1,000,000 took 506 s of a boot that sets the
# length of make check (PMF_DEBUG_FUZZ_IOCTLS sets that count); 250,000
# still try all 1,024 ioctl numbers and reach every deep path
debug_only='/pmemflush_(soak|fault-injection|kernel_fixes)[^/]*$'
# PMDK's usage patterns against ours (pmem2_patterns) run on Debian's own
# 6.1 only: the programs exercise the libraries, not the kernel, and under
# TCG PMDK's per-call walk of every ndctl region makes them the longest
# test of a boot (647-692 s per kernel on a quiet machine, 1,537 s beside
# the debug kernel's build)
only_61='/pmem2_patterns[^/]*$'
# (and the -m32 builds, which test compat_ioctl on the Debian kernels: about
# 200 s of a debug boot)
not_debug='/(libpmemflush_vm|pmem2_patterns|pmemflush_cmd|pmemflush_cxl)[^/]*$|_m32'

# The qemu stack's backing files with its namespaces and file systems made
# (tools/vm/images.sh), cached beside the debug kernel under a key of the
# scripts and tools that make them: every qemu-stack boot starts from
# copies instead of running ndctl and mkfs again (640 s of the sanitizer
# kernel's QEMU boot). Made in the background while lint and the host
# tests run.
img_pid=
if [[ " $stack_list " == *" qemu "* ]]; then
	imgkey=$({ cat tools/vm/guest-setup.sh tools/vm/guest-images.sh \
		   tools/vm/images.sh tools/vm/run.sh
		   dpkg-query -W e2fsprogs xfsprogs fdisk ndctl; } | sha256sum |
		 cut -c1-12)
	export PMF_QEMU_IMAGES=${PMF_CACHE:-/var/tmp/pmemflush-cache}/qemu-images-$imgkey
	if [ ! -f "$PMF_QEMU_IMAGES/done" ]; then
		echo "== qemu stack images: making them in the background ($b/images.log)"
		mkdir -p "$(dirname "$PMF_QEMU_IMAGES")"
		find "$(dirname "$PMF_QEMU_IMAGES")" -maxdepth 1 \
			-name 'qemu-images-*' ! -name "qemu-images-$imgkey*" \
			-exec rm -rf {} +
		tools/vm/mkinitramfs.sh "$kver61" "$b/initramfs-$kver61.cpio.gz"
		img_start=$(date +%s)
		tools/vm/images.sh "$kver61" "$PMF_QEMU_IMAGES" >"$b/images.log" 2>&1 &
		img_pid=$!
	fi
fi

if [ -z "${PMF_VM_ONLY:-}" ]; then
echo "== lint"
since=$(date +%s)
tools/lint.sh | tee "$res/lint.tap"
took lint "$since"
since=$(date +%s)

for t in $(ls "$b"/hosttests/*_test 2>/dev/null); do
	echo "== host: $(basename "$t")"
	"$t" >"$res/host-$(basename "$t").tap" 2>&1
	grep -E '^(not )?ok |^# Totals' "$res/host-$(basename "$t").tap"
done
echo "== host: abi"
tools/abi-check.sh "$b/ulib/libpmemflush.so.1" ulib/libpmemflush.map \
	include/libpmemflush.h | tee "$res/host-abi.tap"

took "host tests" "$since"
# 64-bit POWER: the library's host tests cross-built and run under
# qemu-ppc64le (tools/ppc64-hosttests.sh), and the module compiled for
# ppc64le and big-endian ppc64 (tools/ppc64-modcheck.sh: 4 minutes on a
# new machine, 15 s with its kernel trees cached); beside the boots below
# rather than before them
echo "== ppc64: in the background ($b/ppc64.log)"
ppc_start=$(date +%s)
{
	rc=0
	# its TAP says what failed
	nice -n 10 tools/ppc64-modcheck.sh "$res" || true
	nice -n 10 make --no-print-directory -s hosttests-ppc64le &&
		nice -n 10 tools/ppc64-hosttests.sh "$b" "$res" || rc=$?
	took "ppc64 module and host tests" "$ppc_start"
	exit $rc
} >"$b/ppc64.log" 2>&1 &
ppc_pid=$!
echo "== VM harness self-check"
since=$(date +%s)
tools/vm/mkinitramfs.sh "$kver61" "$b/initramfs-$kver61.cpio.gz"
tools/vm/selfcheck.sh "$kver61" "$b/vm-selfcheck" | tee "$res/vm-selfcheck.tap"
took "harness self-check" "$since"
fi

if [ -n "$img_pid" ]; then
	if wait "$img_pid"; then
		printf '1..1\nok 1 qemu stack images made (%s)\n' "$PMF_QEMU_IMAGES" \
			>"$res/qemu-images.tap"
	else
		# each qemu-stack boot makes its own targets then
		{ echo "1..1"; echo "not ok 1 qemu stack images (build/images.log)"
		  tail -n 20 "$b/images.log" | sed 's/^/# /'; } >"$res/qemu-images.tap"
		unset PMF_QEMU_IMAGES
	fi
	cat "$res/qemu-images.tap"
	took "qemu stack images" "$img_start"
fi

# one series' boots; each appends "RC SERIES STACK" to $boots
boots=$b/boots.list
: >"$boots"
rm -f "$b"/prepared-* "$b"/why-*
run_series() {	# series [stacks, default: all of the series']
	local series=$1 vmenv=() kver dbg nvdimm tests stacks stack
	# a boot's limit: CI's whole budget. The Debian QEMU boot ran into
	# 2,400 s on a machine busy with the debug build and other guests,
	# the debug QEMU boot into 3,000 s with two more debug guests beside
	# make check: its tests wait and time out in proportion to the load
	# (guest-tests.sh's calibration), so the boot's length does too. A
	# stalled test ends by its own timeout (1,200 s at most) long before
	# this, a guest that never starts by run.sh's init wait.
	local vmtimeout=${PMF_VM_TIMEOUT:-5400}
	if [ "$series" = debug ]; then
		# built above, before the boots (or an earlier run's, cached)
		dbg=$(tools/debug-kernel.sh --path)
		if [ ! -f "$dbg/done" ]; then
			echo "debug kernel: build failed; log tail:"
			tail -n 30 "$b/debug-kernel.log"
			printf '1..1\nnot ok 1 debug kernel build (see build/debug-kernel.log)\n' \
				>"$res/debug-kernel-build.tap"
			return
		fi
		kver=$(cat "$dbg/release")
		echo "debug kernel: $kver $(tools/vm/debug-features.sh "$dbg/obj/.config")"
		make --no-print-directory -s module KDIR="$dbg/obj" KVER="$kver" >/dev/null
		nvdimm=$dbg/src/tools/testing/nvdimm
		PMF_MODROOT=$dbg/root tools/vm/mkinitramfs.sh "$kver" "$b/initramfs-$kver.cpio.gz"
		tests=$(printf '%s\n' $selftests | grep -Ev "$not_debug")
		stacks=$(printf '%s\n' $stack_list | grep -vx cxl)
		vmenv=(PMF_SOAK_SECONDS="${PMF_SOAK_SECONDS:-120}"
		       PMF_FUZZ_IOCTLS="${PMF_DEBUG_FUZZ_IOCTLS:-250000}")
	else
		kver=$(tools/kver.sh $series)
		make --no-print-directory -s module KSERIES=$series >/dev/null
		tools/vm/mkinitramfs.sh "$kver" "$b/initramfs-$kver.cpio.gz"
		tools/extract-kernel-src.sh "$kver" "$b/ksrc-$kver" >/dev/null
		touch "$b/prepared-$series"
		nvdimm=$b/ksrc-$kver/src/tools/testing/nvdimm
		tests=$(printf '%s\n' $selftests | grep -Ev "$debug_only")
		[ "$series" = 6.1 ] ||
			tests=$(printf '%s\n' $tests | grep -Ev "$only_61")
		stacks=${2:-$stack_list}
	fi
	if [ "$series" = debug ]; then
		# one vCPU each: side by side they use the core the Debian boots
		# leave idle once those are done (the nfit_test boot alone took
		# 400-600 s after the QEMU one); the shorter one's end starts the
		# series in $later (below)
		for stack in $stacks; do
			{
				boot_stack
				touch "$b/debug-$stack.done"
			} >"$b/debug-$stack.log" 2>&1 &
		done
		wait
		for stack in $stacks; do
			cat "$b/debug-$stack.log"
		done
	else
		for stack in $stacks; do
			boot_stack
		done
	fi
}

# one boot of run_series (its locals: series kver stack tests nvdimm vmenv
# vmtimeout)
boot_stack() {
	local out rc t gen name since

	since=$(date +%s)
	out=$b/vm-$series-$stack
	echo "== VM: $series ($kver), $stack"
	rc=0
	PMF_VM_TIMEOUT=$vmtimeout \
	tools/vm/run.sh "$kver" $stack "$out" tools/vm/guest-tests.sh \
		PMF_MODULE="$b/mod-$kver/pmemflush.ko" \
		PMF_KAPI_MODULE="$b/mod-$kver/test_pmemflush.ko" \
		PMF_NFIT_DIR="$nvdimm" \
		PMF_SELFTESTS="$(echo $tests)" \
		PMF_COMPAT_PMDK="$b/compat/pmem2_compat-pmdk" \
		PMF_COMPAT_OURS="$b/compat/pmem2_compat-pmemflush" \
		PMF_PATTERNS_DIR="$b/patterns" "${vmenv[@]}" || rc=$?
	echo "$rc $series $stack" >>"$boots"
	took "boot $series $stack" "$since"
	# why, for the end of the output (CI shows only its tail); judge.sh
	# reads only the boot's files, so asking it again gives the same verdict
	if [ "$rc" -ne 0 ]; then
		{ echo "== why the $series $stack boot failed (rc $rc)"
		  tools/vm/judge.sh "$out" | head -n 30
		} >"$b/why-$series-$stack"
	fi
	for t in "$out"/tap/*.tap; do
		[ -f "$t" ] && cp "$t" "$res/$series-$stack-$(basename "$t")"
	done
	# a boot that died mid-run must not lose the tests it never ran
	gen='/[^./]*_test$|'
	[ "$stack" = cxl ] && gen=
	for t in $(printf '%s\n' $tests | grep -E "$gen\.$stack\$"); do
		name=$(basename "$t")
		[ -f "$res/$series-$stack-$name.tap" ] ||
			printf '1..1\nnot ok 1 %s did not run\n' "$name" \
				>"$res/$series-$stack-$name.tap"
	done
}

# The debug boots (one vCPU each) run beside the Debian 6.1 ones (two
# vCPUs, mostly one busy). The later Debian series follow the debug
# nfit_test boot in its slot rather than the 6.1 series: after it they ran
# alone on one of the two cores. Without the debug series they run in
# order. Background boots print their output when they are done.
if [ -n "$dbg_pid" ]; then
	echo "== debug kernel: waiting for its build"
	# a failed build is reported by run_series debug, which finds no kernel
	wait "$dbg_pid" || true
	took "debug kernel build" "$dbg_start"
	dbg_pid=
fi
dbg_run=
later=
for series in $series_list; do
	case $series in
	debug)	rm -f "$b/debug-nfit_test.done"
		run_series debug >"$b/debug-boots.log" 2>&1 &
		dbg_run=$! ;;
	6.1)	;;
	*)	later+=" $series" ;;
	esac
done
later_run=
# ... and the 6.12 CXL boot, the last of that slot, goes to the end of the
# 6.1 slot instead, which ends earlier: the package test waits for both
moved=
if [ -n "$dbg_run" ] && [ -n "$later" ] &&
   [[ " $stack_list " == *" nfit_test "* ]]; then
	if [ "$later" = " 6.12" ] && [[ " $series_list " == *" 6.1 "* ]] &&
	   [[ " $stack_list " == *" cxl "* ]]; then
		moved=cxl
	fi
	{
		while [ ! -e "$b/debug-nfit_test.done" ] &&
		      kill -0 "$dbg_run" 2>/dev/null; do
			sleep 5
		done
		for series in $later; do
			run_series "$series" "$(printf '%s\n' $stack_list |
					       grep -vx "${moved:-.}" | xargs)"
		done
	} >"$b/later-boots.log" 2>&1 &
	later_run=$!
	later=
fi
for series in $series_list; do
	if [ "$series" = 6.1 ] || [[ " $later " == *" $series "* ]]; then
		run_series "$series"
	fi
done
if [ -n "$moved" ]; then
	# after the other slot built 6.12's module and initramfs: not both at once
	while [ ! -e "$b/prepared-6.12" ] && kill -0 "$later_run" 2>/dev/null; do
		sleep 5
	done
	run_series 6.12 "$moved"
fi
# the package test boots Debian's kernels with what DKMS installed in
# /lib/modules, which every guest sees: not beside a Debian series
if [ -n "$later_run" ]; then
	wait "$later_run"
	cat "$b/later-boots.log"
fi
# the Debian packages, installed, used in two boots and purged (root: apt);
# beside the debug boots, which use the build tree and their own module
# tree, not the packages
if [ -z "${PMF_NO_PACKAGES:-}" ]; then
	echo "== packages"
	since=$(date +%s)
	tools/pkg/check-packages.sh "$b" "$res"
	took packages "$since"
fi
if [ -n "$dbg_run" ]; then
	wait "$dbg_run"
	cat "$b/debug-boots.log"
fi
if [ -n "${ppc_pid:-}" ]; then
	if ! wait "$ppc_pid"; then
		{ echo "1..1"; echo "not ok 1 ppc64 module and host tests (build/ppc64.log)"
		  tail -n 20 "$b/ppc64.log" | sed 's/^/# /'; } >"$res/ppc64-build.tap"
	fi
	grep -E '^== |^(not )?ok |^# Totals' "$b/ppc64.log"
fi

{
	echo "1..$(wc -l <"$boots")"
	i=0
	while read -r rc series stack; do
		i=$((i + 1))
		[ "$rc" -eq 0 ] && r=ok || r="not ok"
		echo "$r $i $series $stack boot: job ok, kernel log clean, no foreign taint"
	done <"$boots"
} >"$res/vm-boots.tap"

echo "== step times (start and length, min:s, from the start of the checks)"
cat "$times"
echo "== summary"
# the boots' verdicts go above the last line, the total, for a log read
# from its end
summary=$(tools/tap-summary.sh "$res"/*.tap)
src=$?
printf '%s\n' "$summary" | sed '$d'
cat "$b"/why-* 2>/dev/null
printf '%s\n' "$summary" | tail -n 1
exit $src
