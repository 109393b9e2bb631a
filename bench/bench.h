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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

#endif /* PMF_BENCH_H */
