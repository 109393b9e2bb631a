#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: two VM boots (Debian 6.1; QEMU NFIT + virtio-pmem, then CXL) running
# bench/deepflush_bench against libpmemflush and PMDK's libpmem2, then the
# report: build/bench/report.{md,json} and chart.png.
set -euo pipefail
cd "$(dirname "$0")/.."

b=$PWD/build
kver=$(tools/kver.sh 6.1)
out=$b/vm-bench
tools/vm/mkinitramfs.sh "$kver" "$b/initramfs-$kver.cpio.gz"
# two boots: NFIT + virtio-pmem, then CXL (a different machine type)
for stack in qemu cxl; do
	o=$out
	[ "$stack" = cxl ] && o=$out-cxl
	PMF_VM_TIMEOUT=3000 tools/vm/run.sh "$kver" $stack "$o" tools/vm/guest-bench.sh \
		PMF_MODULE="$b/mod-$kver/pmemflush.ko" \
		PMF_BENCH="$b/bench/deepflush_bench" || {
		tail -n 20 "$o/job.log"
		exit 1
	}
done
cat "$out/bench.jsonl" "$out-cxl/bench.jsonl" >"$out/bench-all.jsonl"
tools/bench-report.py "$out/bench-all.jsonl" "$b/bench" "$kver"
echo "bench: wrote $b/bench/report.md, report.json, chart.png"
