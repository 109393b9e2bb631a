// SPDX-License-Identifier: GPL-2.0
/*
 * make demo, in the guest: for each target (a device-dax node or a file on a
 * DAX filesystem), say what pmemflush sees behind it, then map it with
 * libpmemflush, write, persist and deep-flush, and time the deep flush.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpmemflush.h>

#define ROUNDS 200

static const char *const kinds[] = {
	[PMEMFLUSH_INFO_DEVDAX] = "device-dax",
	[PMEMFLUSH_INFO_FSDAX_FILE] = "fsdax file",
	[PMEMFLUSH_INFO_BLOCK] = "block device",
	[PMEMFLUSH_INFO_BTT] = "BTT",
};

static const char *const domains[] = {
	[PMEMFLUSH_INFO_PERSIST_UNKNOWN] = "unknown",
	[PMEMFLUSH_INFO_PERSIST_MEMORY_CONTROLLER] = "memory_controller (ADR)",
	[PMEMFLUSH_INFO_PERSIST_CPU_CACHE] = "cpu_cache (eADR)",
};

static const char *const grans[] = {
	[PMEM2_GRANULARITY_BYTE] = "BYTE",
	[PMEM2_GRANULARITY_CACHE_LINE] = "CACHE_LINE",
	[PMEM2_GRANULARITY_PAGE] = "PAGE",
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int demo(const char *path)
{
	static double t[ROUNDS];
	struct pmemflush_info info;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	struct stat st;
	char *addr;
	int fd, ret, i;

	printf("%s\n", path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) ||
	    (S_ISREG(st.st_mode) && !st.st_size && ftruncate(fd, 4 << 20))) {
		printf("  cannot open: %s\n", strerror(errno));
		return 1;
	}
	ret = pmemflush_fd_query(fd, &info);
	if (ret) {
		printf("  query: %d (%s)\n", ret, pmem2_errormsg());
	} else {
		printf("  region%u, %s, %llu bytes; persistence domain %s\n",
		       info.region_id, kinds[info.target_kind],
		       (unsigned long long)info.target_size,
		       domains[info.persistence_domain]);
		printf("  device flush: %s%s%s%s\n",
		       info.has_flush == 1 ? "flush hints (WPQ flush)" :
		       info.flags & PMEMFLUSH_INFO_REGION_CXL ?
				"none needed (CXL: Global Persistent Flush)" :
		       info.has_flush == 0 ? "none needed (ADR covers the WPQ)" :
					     "cannot tell (no DIMMs)",
		       info.flags & PMEMFLUSH_INFO_REGION_ASYNC ?
				"; asynchronous host flush (virtio-pmem)" : "",
		       info.flags & PMEMFLUSH_INFO_REGION_CXL ?
				"; CXL persistent memory" : "",
		       info.flags & PMEMFLUSH_INFO_DAX_SYNC ?
				"; MAP_SYNC accepted" : "");
	}

	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd))
		return 1;
	pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	ret = pmem2_map_new(&map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	if (ret) {
		printf("  pmem2_map_new: %s\n", pmem2_errormsg());
		return 1;
	}
	addr = pmem2_map_get_address(map);
	printf("  mapped %zu bytes, store granularity %s\n",
	       pmem2_map_get_size(map), grans[pmem2_map_get_store_granularity(map)]);

	for (i = 0; i < ROUNDS; i++) {
		double t0;

		snprintf(addr, 4096, "pmemflush demo, round %d", i);
		pmem2_get_persist_fn(map)(addr, 4096);
		t0 = now_us();
		ret = pmem2_deep_flush(map, addr, 4096);
		t[i] = now_us() - t0;
		if (ret) {
			printf("  pmem2_deep_flush: %d (%s)\n", ret, pmem2_errormsg());
			break;
		}
	}
	if (!ret) {
		char text[64];

		qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
		snprintf(text, sizeof(text), "pmemflush demo, round %d",
			 ROUNDS - 1);
		printf("  wrote \"%s\", persisted, deep-flushed 4 KiB %d times: "
		       "median %.1f us; reads back %s\n", text, ROUNDS,
		       t[ROUNDS / 2], strcmp(addr, text) ? "something else "
		       "(the emulated memory kept no store)" : "the same");
	}
	pmem2_map_delete(&map);
	close(fd);
	return ret != 0;
}

int main(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++)
		bad |= demo(argv[i]);
	return bad;
}
