#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench-mem: pmem2 memcpy_fn/memset_fn throughput on the host (real
# instructions, anonymous memory, CACHE_LINE map), libpmemflush against PMDK.
# Runs build/bench/memops_bench and memops_bench.pmdk in turn ROUNDS times
# (default 5; each run reports the median of its own samples), then prints
# the median of the rounds per row and the ratio ours/PMDK.
#
#   tools/bench-mem.sh [ROUNDS]
#
# The environment reaches both libraries: PMEM_AVX512F=0, PMEM_AVX=0,
# PMEM_NO_MOVNT=1, PMEM_MOVNT_THRESHOLD, PMEM_NO_CLWB=1 pick the same path
# in each. BENCH_OURS and BENCH_PMDK override the binaries.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
ours=${BENCH_OURS:-build/bench/memops_bench}
pmdk=${BENCH_PMDK:-build/bench/memops_bench.pmdk}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for bin in "$ours" "$pmdk"; do
	[ -x "$bin" ] || { echo "bench-mem: $bin missing (make benchprogs)" >&2; exit 1; }
done
for ((r = 0; r < rounds; r++)); do
	"$ours" >"$out/ours.$r"
	"$pmdk" >"$out/pmdk.$r"
done

flags=$(grep -m1 -o -w -E 'avx512f' /proc/cpuinfo || true)
echo "memops: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)," \
	"${flags:-no avx512f}, $rounds rounds," \
	"env: $(env | grep -E '^PMEM_' | tr '\n' ' ')"
python3 - "$out" "$rounds" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows, val = [], {}
for lib in ("ours", "pmdk"):
    for r in range(rounds):
        for line in open(f"{out}/{lib}.{r}"):
            op, mode, size, gbps = line.split()
            key = (op, mode, int(size))
            if key not in rows:
                rows.append(key)
            val.setdefault((lib, key), []).append(float(gbps))
def human(n):
    return f"{n >> 20} MiB" if n >= 1 << 20 else \
        f"{n >> 10} KiB" if n >= 1 << 10 else f"{n} B"
print(f"{'op':<7} {'stores':<12} {'size':>7} {'ours GB/s':>10} "
      f"{'PMDK GB/s':>10} {'ours/PMDK':>10}")
worst = None
for key in rows:
    o = statistics.median(val[("ours", key)])
    p = statistics.median(val[("pmdk", key)])
    ratio = o / p
    worst = ratio if worst is None else min(worst, ratio)
    print(f"{key[0]:<7} {key[1]:<12} {human(key[2]):>7} {o:>10.2f} "
          f"{p:>10.2f} {ratio:>10.2f}")
print(f"lowest ratio: {worst:.2f}")
PY
