/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the benchmark programs share: the clock, the sort for medians, the
 * target (a device, or a DAX file created and filled to FILE_SIZE), and
 * QEMU's fsync count of a virtio-pmem backing file (BENCH_FSYNC_COUNT).
 */
#ifndef PMF_BENCH_H
#define PMF_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>

#define FILE_SIZE	(4UL << 20)

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* @path opened for writing, a file created and filled when missing */
static inline int bench_open_target(const char *path, int *is_file)
{
	static char zero[1 << 16];
	struct stat st;
	size_t off;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		for (off = 0; fd >= 0 && off < FILE_SIZE; off += sizeof(zero))
			if (pwrite(fd, zero, sizeof(zero), off) != sizeof(zero))
				return -1;
		if (fd >= 0 && fsync(fd))
			return -1;
	}
	if (fd < 0 || fstat(fd, &st))
		return -1;
	if (is_file)
		*is_file = S_ISREG(st.st_mode);
	return fd;
}

/* the host's fsync count of the target's backing file, or -1 */
static inline long long read_count(void)
{
	const char *path = getenv("BENCH_FSYNC_COUNT");
	long long v = -1;
	FILE *f;

	if (!path)
		return -1;
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * A counter of this thread's system calls (raw_syscalls:sys_enter),
 * created disabled; -1 when tracefs or perf is unavailable.
 */
static inline int bench_syscall_counter(void)
{
	struct perf_event_attr a;
	long long id_ev;
	FILE *f;

	f = fopen("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id", "r");
	if (!f)
		f = fopen("/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id", "r");
	if (!f || fscanf(f, "%lld", &id_ev) != 1) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = id_ev;
	a.disabled = 1;
	a.exclude_hv = 1;
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* system calls counted by @pfd between ENABLE and DISABLE, or -1 */
static inline long long bench_syscalls_read(int pfd)
{
	long long n;

	if (pfd < 0 || read(pfd, &n, sizeof(n)) != sizeof(n))
		return -1;
	return n;
}

#endif /* PMF_BENCH_H */
