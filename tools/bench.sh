#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: three VM boots (Debian 6.1; QEMU NFIT + virtio-pmem, CXL, nfit_test)
# running bench/deepflush_bench against libpmemflush and PMDK's libpmem2 and
# bench/uring_bench (io_uring against the ioctl), then the
# report: build/bench/report.{md,json} and chart.png.
set -euo pipefail
cd "$(dirname "$0")/.."

b=$PWD/build
kver=$(tools/kver.sh 6.1)
out=$b/vm-bench
tools/vm/mkinitramfs.sh "$kver" "$b/initramfs-$kver.cpio.gz"
# the nfit_test modules, for the flush-hint region's io_uring rows
tools/extract-kernel-src.sh "$kver" "$b/ksrc-$kver" >/dev/null
# three boots: NFIT + virtio-pmem, CXL (a different machine type), and
# nfit_test (the one region with flush hints)
#
# tsc=reliable: the timed intervals read CLOCK_MONOTONIC, and Debian 6.1 on
# QEMU's default CPU (AMD vendor, no constant_tsc, two vCPUs) takes the TSCs
# for unsynchronized (unsynchronized_tsc() in arch/x86/kernel/tsc.c counts
# possible CPUs where 6.12 counts packages) and runs on the HPET, which the
# vDSO cannot read: each clock read was a system call and an emulated MMIO
# read, inside every interval. Under TCG every vCPU's TSC is one monotonic
# count (QEMU's cpu_get_ticks()), so the parameter states a fact here.
# deepflush_bench clock prints the clock's cost per read in each boot.
for stack in qemu cxl nfit_test; do
	o=$out
	[ "$stack" = qemu ] || o=$out-$stack
	PMF_VM_APPEND="tsc=reliable ${PMF_VM_APPEND:-}" PMF_VM_TIMEOUT=3000 tools/vm/run.sh "$kver" $stack "$o" tools/vm/guest-bench.sh \
		PMF_MODULE="$b/mod-$kver/pmemflush.ko" \
		PMF_NFIT_DIR="$b/ksrc-$kver/src/tools/testing/nvdimm" \
		PMF_BENCH="$b/bench/deepflush_bench" \
		PMF_URING_BENCH="$b/bench/uring_bench" || {
		tail -n 20 "$o/job.log"
		exit 1
	}
done
cat "$out/bench.jsonl" "$out-cxl/bench.jsonl" "$out-nfit_test/bench.jsonl" \
	>"$out/bench-all.jsonl"
tools/bench-report.py "$out/bench-all.jsonl" "$b/bench" "$kver"
echo "bench: wrote $b/bench/report.md, report.json, chart.png"
