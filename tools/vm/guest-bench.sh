#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench`: every target, every path, one boot.
# Results go to $PMF_OUT/bench.jsonl, one JSON object per line.
set -euo pipefail
. "$(dirname "$0")/guest-setup.sh"

setup_stack >/dev/null
insmod "$PMF_MODULE"
out=$PMF_OUT/bench.jsonl
: >"$out"

run() {	# name path fsync-count-file mode [args]
	local name=$1 path=$2 count=$3
	shift 3
	log "bench $name (${SECONDS}s in): $*"
	BENCH_NAME=$name BENCH_FSYNC_COUNT=$count "$@" >>"$out"
}

# io_uring against the FLUSH ioctl by id (bench/uring_bench): QD1 on every
# kind of region, batches and SQPOLL where the flush is a barrier (the
# kernel's own cost), 64 in flight where it is a host fsync
uring() {	# name path count mode [args]
	local name=$1 path=$2 count=$3
	shift 3
	run "$name" "$path" "$count" "$PMF_URING_BENCH" "$@" "$path"
}

# the instrument first: the clock's cost per read, and whether it is a syscall
run clock-$PMF_STACK /dev/null "" "$PMF_BENCH" clock /dev/null

if [ "$PMF_STACK" = nfit_test ]; then
	# flush hints: a device flush of a few register writes per call
	uring nfit_test-hints "$PMF_HINTS_DEVDAX" "" qd1
	uring nfit_test-hints "$PMF_HINTS_DEVDAX" "" batch
	log "bench: done (${SECONDS}s)"
	exit 0
fi
if [ "$PMF_STACK" = cxl ]; then
	# CXL pmem: barriers only; PMDK walks every region per call here too
	[ -z "${PMF_CXL_SKIP:-}" ] || { log "bench: no CXL region: $PMF_CXL_SKIP"; exit 0; }
	targets=("cxl-devdax|$PMF_CXL_DEVDAX|")
	# DAX files on the interleaved region (QEMU 10; none where setup
	# could not make the file systems)
	[ -z "${PMF_CXL_EXT4:-}" ] || targets+=("cxl-ext4|$PMF_CXL_EXT4/bench|")
	[ -z "${PMF_CXL_XFS:-}" ] || targets+=("cxl-xfs|$PMF_CXL_XFS/bench|")
else
	targets=(
		"nfit-devdax|$PMF_NFIT_DEVDAX|"
		"nfit-ext4|$PMF_NFIT_EXT4/bench|"
		"nfit-xfs|$PMF_NFIT_XFS/bench|"
		"virtio-ext4|$PMF_VIRTIO_EXT4/bench|$PMF_VIRTIO_EXT4_FSYNC"
		"virtio-devdax|$PMF_VIRTIO_DEVDAX|$PMF_VIRTIO_DEVDAX_FSYNC"
	)
fi
for t in "${targets[@]}"; do
	IFS='|' read -r name path count <<<"$t"
	run "$name" "$path" "$count" "$PMF_BENCH" floor "$path"
	run "$name" "$path" "$count" "$PMF_BENCH" pmem2 "$path"
	run "$name" "$path" "$count" "$PMF_BENCH.pmdk" pmem2 "$path"
done
[ "$PMF_STACK" = cxl ] && { log "bench: done (${SECONDS}s)"; uname -r >"$PMF_OUT/guest-kernel"; exit 0; }
for t in "${targets[0]}" "${targets[4]}"; do
	IFS='|' read -r name path count <<<"$t"
	for n in 1 2 4 8; do
		run "$name" "$path" "$count" "$PMF_BENCH" threads "$path" $n
	done
	# group commit: raw FLUSH by id, one /dev/pmemflush and one id shared;
	# one run, so that the thread counts take turns
	run "$name" "$path" "$count" "$PMF_BENCH" idthreads "$path" 1 2 4 8
done
uring nfit-devdax "$PMF_NFIT_DEVDAX" "" qd1
uring nfit-devdax "$PMF_NFIT_DEVDAX" "" batch
uring nfit-devdax "$PMF_NFIT_DEVDAX" "" batch_single
uring nfit-devdax "$PMF_NFIT_DEVDAX" "" sqpoll
uring virtio-devdax "$PMF_VIRTIO_DEVDAX" "$PMF_VIRTIO_DEVDAX_FSYNC" qd1
run virtio-devdax "$PMF_VIRTIO_DEVDAX" "$PMF_VIRTIO_DEVDAX_FSYNC" \
	"$PMF_URING_BENCH" inflight "$PMF_VIRTIO_DEVDAX" 64
log "bench: done (${SECONDS}s)"
uname -r >"$PMF_OUT/guest-kernel"
