#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's bench.jsonl into report.md, report.json and chart.png.

Usage: bench-report.py BENCH.jsonl OUTDIR KERNEL
"""
import datetime
import json
import os
import subprocess
import sys

TARGETS = ["nfit-devdax", "nfit-ext4", "nfit-xfs", "virtio-ext4", "virtio-devdax",
           "cxl-devdax", "cxl-ext4", "cxl-xfs"]
SIZES = [64, 4096, 2 << 20]


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True,
                              check=True).stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def fmt_us(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v / 1000:.2f} ms"
    return f"{v:.1f} us"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    # two places below 10: a goal of 0.5x must not read "0.5x MISSED"
    return "-" if r is None else f"{r:.2f}x" if r < 10 else f"{r:,.1f}x"


def verdict(r, ok):
    return "no data" if r is None else ("met" if ok(r) else "MISSED")


def fmt_count(v):
    """calls per op: whole numbers bare, others to two places"""
    if v is None:
        return "-"
    return f"{v:.0f}" if v == int(v) else f"{v:.2f}"


def main():
    src, outdir, kernel = sys.argv[1:4]
    rows = [json.loads(line) for line in open(src) if line.strip()]

    def find(target, op, library=None, size=None):
        for r in rows:
            if (r.get("target") == target and r.get("op") == op and
                    (library is None or r.get("library") == library) and
                    (size is None or r.get("size") == size) and
                    not r.get("absent")):
                return r
        return None

    def find_absent(target, op):
        for r in rows:
            if r.get("target") == target and r.get("op") == op and r.get("absent"):
                return r
        return None

    def med(*args):
        r = find(*args)
        return r["median_us"] if r else None

    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    versions = {
        "kernel": kernel,
        "qemu": version(["qemu-system-x86_64", "--version"]),
        "pmdk": version(["dpkg-query", "-W", "-f=${Version}", "libpmem2"]),
    }
    md = [f"Measured {date} in TCG VM boots of one kernel (NFIT and virtio-pmem in one, CXL in the next, nfit_test in a third): guest kernel {versions['kernel']}, "
          f"{versions['qemu']}, PMDK libpmem2 {versions['pmdk']}. "
          "Medians (p99 in report.json); ratios are PMDK / pmemflush and "
          "FLUSH ioctl / null ioctl.", ""]
    # the instrument: every timed interval holds one clock read
    clocks = [r for r in rows if r.get("op") == "clock"]
    if clocks:
        md += ["The clock (CLOCK_MONOTONIC, one read per timed interval): " +
               "; ".join(f"{r['target']}: {r['clocksource']}, "
                         f"{r['read_ns']} ns per read, "
                         f"{r['syscalls_per_read']:g} system calls per read"
                         for r in clocks) + ".", ""]
    md.append("| target | granularity | null ioctl | FLUSH ioctl | " +
              " | ".join(f"pmemflush {s if s < 1 << 20 else '2M'}" for s in SIZES) +
              " | " + " | ".join(f"PMDK {s if s < 1 << 20 else '2M'}" for s in SIZES) +
              " | PMDK/pmemflush 4K | store+flush 4K: pmemflush / PMDK | sysfs deep_flush | msync 4K |")
    md.append("|" + "---|" * 14)
    for t in TARGETS:
        null = med(t, "null_ioctl")
        flush = med(t, "flush_ioctl")
        ours = [med(t, "pmem2_deep_flush", "pmemflush", s) for s in SIZES]
        pmdk = [med(t, "pmem2_deep_flush", "pmdk", s) for s in SIZES]
        gran = find(t, "pmem2_deep_flush", "pmemflush", 64)
        pgran = find(t, "pmem2_deep_flush", "pmdk", 64)
        g = (gran or {}).get("granularity", "-")
        if pgran and pgran.get("granularity") != g:
            g += f" (PMDK {pgran['granularity']})"
        sysfs = find(t, "sysfs_deep_flush")
        md.append(f"| {t} | {g} | {fmt_us(null)} | {fmt_us(flush)} "
                  f"({fmt_ratio(ratio(flush, null))}) | " +
                  " | ".join(fmt_us(v) for v in ours) + " | " +
                  " | ".join(fmt_us(v) for v in pmdk) +
                  f" | {fmt_ratio(ratio(pmdk[1], ours[1]))} | "
                  f"{fmt_us(med(t, 'store_and_deep_flush', 'pmemflush', 4096))} / "
                  f"{fmt_us(med(t, 'store_and_deep_flush', 'pmdk', 4096))} | "
                  f"{fmt_us(sysfs['median_us']) if sysfs else 'absent'} | "
                  f"{fmt_us(med(t, 'msync'))} |")

    # the library path: what each pmem2_deep_flush asked of the kernel,
    # counted by the bench's interposed libc calls in an untimed pass
    def calls(target, library, field, size=64):
        r = find(target, "pmem2_deep_flush", library, size)
        return r.get(field) if r else None

    def pair(target, field):
        return (f"{fmt_count(calls(target, 'pmemflush', field))} / "
                f"{fmt_count(calls(target, 'pmdk', field))}")

    md += ["", "Library path per target (64 B deep flush; system calls per "
           "pmem2_deep_flush call, counted over an untimed pass by "
           "interposing libc's ioctl, msync, open, read/pread and "
           "write/pwrite in the bench; PMDK's include those of libndctl "
           "and the sysfs deep_flush file):", "",
           "| target | granularity ours / PMDK | ioctls ours / PMDK | "
           "of them FLUSH by id | msyncs ours / PMDK | "
           "open / read / write ours | open / read / write PMDK | "
           "median ours / PMDK |",
           "|---|---|---|---|---|---|---|---|"]
    for t in TARGETS:
        ours = find(t, "pmem2_deep_flush", "pmemflush", 64) or {}
        pmdk = find(t, "pmem2_deep_flush", "pmdk", 64) or {}

        def orw(r):
            if "opens_per_op" not in r:
                return "-"
            return " / ".join(fmt_count(r.get(f)) for f in
                              ("opens_per_op", "reads_per_op", "writes_per_op"))
        md.append(f"| {t} | {ours.get('granularity', '-')} / "
                  f"{pmdk.get('granularity', '-')} | "
                  f"{pair(t, 'ioctls_per_op')} | "
                  f"{pair(t, 'flush_id_ioctls_per_op')} | "
                  f"{pair(t, 'msyncs_per_op')} | {orw(ours)} | {orw(pmdk)} | "
                  f"{fmt_us(ours.get('median_us'))} / "
                  f"{fmt_us(pmdk.get('median_us'))} |")

    # the goals hold for every size pmemflush deep-flushed, not just 64 B
    def all_sizes(target, field):
        vals = [calls(target, "pmemflush", field, s) for s in SIZES]
        return None if None in vals else vals

    def fmt_sizes(vals):
        if vals is None:
            return "-"
        return ", ".join(f"{s if s < 1 << 20 else '2M'}: {fmt_count(v)}"
                         for s, v in zip(SIZES, vals))

    nfit_io = all_sizes("nfit-devdax", "ioctls_per_op")
    vp_io = all_sizes("virtio-devdax", "ioctls_per_op")
    vp_id = all_sizes("virtio-devdax", "flush_id_ioctls_per_op")
    path_goals = [
        ("nfit-devdax: 0 ioctls per pmemflush deep flush",
         nfit_io, lambda v: all(x == 0 for x in v),
         lambda v: "-" if v is None else f"ioctls per call {fmt_sizes(v)}"),
        ("virtio-devdax: 1 ioctl (FLUSH by id) per deep flush",
         None if vp_io is None or vp_id is None else list(zip(vp_io, vp_id)),
         lambda v: all(io == 1 and by_id == 1 for io, by_id in v),
         lambda v: "-" if v is None else
         f"ioctls per call {fmt_sizes([io for io, _ in v])}; "
         f"FLUSH by id {fmt_sizes([by_id for _, by_id in v])}"),
    ]

    # the floor: what FLUSH costs over an ioctl that does nothing, by fd and
    # by a registered id, timed interleaved in one loop
    floor_goals = [("FLUSH by id / null ioctl", "flush_ioctl_id", 1.3),
                   ("FLUSH by fd / null ioctl", "flush_ioctl", 2.0)]
    floor_verdicts = []
    md += ["", "Floor (raw ioctls, 64 B, no library; null, FLUSH by fd and "
           "FLUSH by id interleaved in one loop):", "",
           "| target | null ioctl | FLUSH by fd | FLUSH by id | "
           "by id / null (target <= 1.3x) | by fd / null (target <= 2x) |",
           "|---|---|---|---|---|---|"]
    for t in TARGETS:
        null = med(t, "null_ioctl")
        cells = []
        for text, op, limit in floor_goals:
            r = ratio(med(t, op), null)
            v = verdict(r, lambda x, lim=limit: x <= lim)
            floor_verdicts.append({"goal": f"{t}: {text} <= {limit}x",
                                   "ratio": r, "verdict": v})
            cells.append("-" if r is None else f"{r:.2f}x {v}")
        absent = find_absent(t, "flush_ioctl_id")
        by_id = fmt_us(med(t, "flush_ioctl_id"))
        if absent:
            by_id = f"absent ({absent.get('error', '?')})"
        md.append(f"| {t} | {fmt_us(null)} | {fmt_us(med(t, 'flush_ioctl'))} | "
                  f"{by_id} | " + " | ".join(cells) + " |")
    md += ["", "On virtio-pmem every FLUSH is a round trip to the host, which "
           "fsync()s the backing file, so there the ratios measure the host, "
           "not the ioctl's overhead."]

    md += ["", "Notes: PMDK deep-flushes nothing at PAGE granularity (it counts on "
           "msync having run in persist), and on virtio-pmem device-dax it walks "
           "every region, finds no deep_flush file and returns 0 without "
           "flushing. libpmemflush writes the CPU caches back at every "
           "granularity, then makes no system call where the kernel's flush "
           "is only a barrier (QEMU's NFIT), one FLUSH ioctl by id where the "
           "device has a flush (virtio-pmem, which QEMU turns into an fsync "
           "of the backing file), and msync for a file mapped without "
           "MAP_SYNC. The sysfs column is "
           "PMDK's per-call access: read the region's deep_flush, write 1 when "
           "it reads 1 (absent on virtio-pmem).",
           "", "Concurrency (pmemflush `pmem2_deep_flush` of 64 B per op, each "
           "thread its own cache line, 3 s):", "",
           "| target | threads | ops/s | host fsync per op |", "|---|---|---|---|"]
    for r in rows:
        if r.get("op") == "threads":
            fs = r["fsync_per_op"]
            md.append(f"| {r['target']} | {r['threads']} | {r['ops_per_s']:,.0f} | "
                      f"{'-' if fs < 0 else f'{fs:.3f}'} |")

    # group commit: N threads, one /dev/pmemflush, one id, raw FLUSH by id
    def idthreads(target, n):
        for r in rows:
            if (r.get("target") == target and r.get("op") == "idthreads" and
                    r.get("threads") == n):
                return r
        return None

    md += ["", "Group commit (raw FLUSH by id of 64 B, N threads sharing one "
           "/dev/pmemflush fd and one id; 3 s per thread count, in slices "
           "that take turns so drift hits every count alike; device flushes "
           "per call from the flush_seq the calls returned):", "",
           "| target | threads | ops/s | vs 1 thread | host fsync per call | "
           "device flushes per call |", "|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("op") == "idthreads":
            one = idthreads(r["target"], 1)
            fs = r["fsync_per_op"]
            df = r.get("dev_flush_per_op", -1)
            md.append(f"| {r['target']} | {r['threads']} | {r['ops_per_s']:,.0f} | "
                      f"{fmt_ratio(ratio(r['ops_per_s'], one and one['ops_per_s']))} | "
                      f"{'-' if fs < 0 else f'{fs:.3f}'} | "
                      f"{'-' if df < 0 else f'{df:.3f}'} |")

    vp1, vp8 = idthreads("virtio-devdax", 1), idthreads("virtio-devdax", 8)
    vp8_fs = vp8["fsync_per_op"] if vp8 and vp8["fsync_per_op"] >= 0 else None
    goals = [
        ("raw FLUSH ioctl on NFIT device-dax <= 1.5x the null ioctl",
         ratio(med("nfit-devdax", "flush_ioctl"), med("nfit-devdax", "null_ioctl")),
         lambda r: r <= 1.5, fmt_ratio),
        ("libpmemflush deep flush on device-dax >= 1000x faster than PMDK (4 KiB)",
         ratio(med("nfit-devdax", "pmem2_deep_flush", "pmdk", 4096),
               med("nfit-devdax", "pmem2_deep_flush", "pmemflush", 4096)),
         lambda r: r >= 1000, fmt_ratio),
        ("fsdax (ext4, MAP_SYNC) 4 KiB deep flush >= 10x faster than PMDK",
         ratio(med("nfit-ext4", "pmem2_deep_flush", "pmdk", 4096),
               med("nfit-ext4", "pmem2_deep_flush", "pmemflush", 4096)),
         lambda r: r >= 10, fmt_ratio),
        ("group commit on virtio-pmem device-dax: 8 threads >= 3x the ops/s of 1",
         ratio(vp8 and vp8["ops_per_s"], vp1 and vp1["ops_per_s"]),
         lambda r: r >= 3,
         lambda r: "-" if r is None else
         f"{r:,.1f}x ({vp1['ops_per_s']:,.0f} -> {vp8['ops_per_s']:,.0f} ops/s)"),
        ("group commit on virtio-pmem device-dax: 8 threads <= 0.4 host fsyncs per call",
         vp8_fs, lambda r: r <= 0.4,
         lambda r: "-" if r is None else
         f"{r:.3f} ({vp8['ops']:,} calls)"),
    ]
    # io_uring (bench/uring_bench): raw commands against the ioctl by id,
    # interleaved in one process
    def uring(target, op, batch=None):
        for r in rows:
            if (r.get("target") == target and r.get("op") == op and
                    (batch is None or r.get("batch") == batch)):
                return r
        return None

    def per_flush(target, op, batch):
        r = uring(target, op, batch)
        return r["per_flush_us"] if r else None

    md += ["", "Deep flush through io_uring (raw FLUSH commands by id on a "
           "SQE128/CQE32 ring, /dev/pmemflush a fixed file; a round is one "
           "batch of commands and as many FLUSH ioctls by id, in alternating "
           "order; time per flush, medians):", "",
           "| target | batch | io_uring per flush | ioctl by id per flush | "
           "io_uring / ioctl |", "|---|---|---|---|---|"]
    io_ops = {"uring_qd1": ("ioctl_id_qd1", " (QD1)"),
              "uring_batch": ("ioctl_id_batch", ""),
              "uring_batch_single": ("ioctl_id_batch_single",
                                     " (SINGLE_ISSUER, DEFER_TASKRUN)")}
    for r in rows:
        if r.get("op") in io_ops:
            io_op, note = io_ops[r["op"]]
            u = r["per_flush_us"]
            i = per_flush(r["target"], io_op, r["batch"])
            md.append(f"| {r['target']} | {r['batch']}{note} | "
                      f"{fmt_us(u)} | {fmt_us(i)} | {fmt_ratio(ratio(u, i))} |")
    sq = uring("nfit-devdax", "uring_sqpoll")
    inf = uring("virtio-devdax", "uring_inflight")
    if sq:
        md += ["", f"SQPOLL on nfit-devdax: {sq['flushes']:,} flushes kept 32 "
               f"deep, {sq['syscalls']} system calls by the submitting thread "
               "(perf counter on raw_syscalls:sys_enter), "
               f"{fmt_us(sq['per_flush_us'])} per flush."]
    if inf:
        md += ["", f"virtio-pmem device-dax, {inf['depth']} commands in flight "
               f"for 3 s: {inf['ops_per_s']:,.0f} flushes/s, "
               f"{inf['fsync_per_op']:.3f} host fsyncs and "
               f"{inf['dev_flush_per_op']:.3f} device flushes per flush."]
    inf_fs = inf["fsync_per_op"] if inf and inf["fsync_per_op"] >= 0 else None
    sq_calls = (sq["syscalls"] / sq["flushes"]
                if sq and sq["syscalls"] >= 0 else None)
    goals += [
        ("io_uring, batch 32, barrier-only region (nfit-devdax): per flush "
         "<= 0.5x a FLUSH ioctl by id",
         ratio(per_flush("nfit-devdax", "uring_batch", 32),
               per_flush("nfit-devdax", "ioctl_id_batch", 32)),
         lambda r: r <= 0.5, fmt_ratio),
        ("the same on a ring set up with SINGLE_ISSUER and DEFER_TASKRUN",
         ratio(per_flush("nfit-devdax", "uring_batch_single", 32),
               per_flush("nfit-devdax", "ioctl_id_batch_single", 32)),
         lambda r: r <= 0.5, fmt_ratio),
        ("io_uring under SQPOLL: 0 system calls per flush in steady state",
         sq_calls, lambda r: r == 0,
         lambda r: "-" if r is None else
         f"{sq['syscalls']} in {sq['flushes']:,} flushes"),
        ("virtio-pmem, 64 commands in flight >= 8 threads of ioctls by id (ops/s)",
         ratio(inf and inf["ops_per_s"], vp8 and vp8["ops_per_s"]),
         lambda r: r >= 1,
         lambda r: "-" if r is None else
         f"{r:,.2f}x ({vp8['ops_per_s']:,.0f} -> {inf['ops_per_s']:,.0f} ops/s)"),
        ("virtio-pmem, 64 commands in flight: <= 0.1 host fsync per flush",
         inf_fs, lambda r: r <= 0.1,
         lambda r: "-" if r is None else f"{r:.3f} ({inf['ops']:,} flushes)"),
    ]
    md += ["", "| target | measured | |", "|---|---|---|"]
    verdicts = []
    for text, r, ok, fmt in goals + path_goals:
        v = verdict(r, ok)
        key = "measured" if isinstance(r, list) else "ratio"
        verdicts.append({"goal": text, key: r, "verdict": v})
        md.append(f"| {text} | {fmt(r)} | {v} |")
    verdicts += floor_verdicts

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    with open(os.path.join(outdir, "report.json"), "w") as f:
        json.dump({"date": date, "versions": versions, "goals": verdicts,
                   "results": rows}, f, indent=1)

    dat = os.path.join(outdir, "chart.dat")
    with open(dat, "w") as f:
        f.write("# target flush_ioctl flush_ioctl_id pmemflush_4K pmdk_4K msync_4K\n")
        for t in TARGETS:
            vals = [med(t, "flush_ioctl"), med(t, "flush_ioctl_id"),
                    med(t, "pmem2_deep_flush", "pmemflush", 4096),
                    med(t, "pmem2_deep_flush", "pmdk", 4096), med(t, "msync")]
            f.write(t + " " + " ".join("NaN" if v is None else str(v) for v in vals) + "\n")
    plot = f"""
set terminal pngcairo size 1000,560 noenhanced
set output '{os.path.join(outdir, "chart.png")}'
set title 'Deep flush median latency, TCG VM boots ({date}, {kernel})'
set ylabel 'microseconds (log)'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside bottom center horizontal
set grid ytics
plot '{dat}' using 2:xtic(1) title 'FLUSH ioctl by fd', \\
     '' using 3 title 'FLUSH ioctl by id', \\
     '' using 4 title 'libpmemflush 4 KiB', \\
     '' using 5 title 'PMDK libpmem2 4 KiB', \\
     '' using 6 title 'msync 4 KiB'
"""
    subprocess.run(["gnuplot"], input=plot, text=True, check=True)
    print("\n".join(md))


if __name__ == "__main__":
    main()
