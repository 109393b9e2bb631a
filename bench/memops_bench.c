// SPDX-License-Identifier: GPL-2.0
/*
 * pmem2 memcpy_fn and memset_fn throughput on anonymous memory behind a
 * CACHE_LINE map (pmem2_map_from_existing), on the host's own instructions.
 * Built twice from this file: against libpmemflush (memops_bench) and
 * against Debian's PMDK libpmem2 (memops_bench.pmdk, -DBENCH_PMDK).
 *
 *   memops_bench [SAMPLES]
 *
 * One line per row: "OP MODE SIZE GBPS", the median of SAMPLES (default 7)
 * samples, each of which copies or fills at least 64 MiB in calls of SIZE
 * bytes (256 B, 4 KiB, 2 MiB), every call with PMEM2_F_MEM_TEMPORAL or
 * PMEM2_F_MEM_NONTEMPORAL and fenced (no NODRAIN). The destination walks a
 * 64 MiB buffer, line-aligned, so the small sizes do not hit one hot line;
 * the source is one SIZE-byte buffer. tools/bench-mem.sh runs both builds
 * in turn and prints the ratio.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifdef BENCH_PMDK
#include <libpmem2.h>
#define LIBRARY "pmdk"
#else
#include <libpmemflush.h>
#define LIBRARY "pmemflush"
#endif

#define ARENA		(64UL << 20)
#define MIN_BYTES	(64UL << 20)
#define MAX_SAMPLES	31

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void die(const char *what, int ret)
{
	fprintf(stderr, "%s: %d: %s\n", what, ret, pmem2_errormsg());
	exit(1);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 256, 4096, 2UL << 20 };
	static const struct {
		const char *name;
		unsigned int flags;
	} modes[] = {
		{ "temporal", PMEM2_F_MEM_TEMPORAL },
		{ "nontemporal", PMEM2_F_MEM_NONTEMPORAL },
	};
	int samples = argc > 1 ? atoi(argv[1]) : 7;
	struct pmem2_source *src;
	struct pmem2_map *map;
	pmem2_memcpy_fn cpy;
	pmem2_memset_fn set;
	char *arena, *from;
	unsigned int op, m, si;
	int ret;

	if (samples < 1 || samples > MAX_SAMPLES)
		samples = 7;
	arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	from = mmap(NULL, sizes[2], PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (arena == MAP_FAILED || from == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(arena, 1, ARENA);
	memset(from, 2, sizes[2]);
	ret = pmem2_source_from_anon(&src, ARENA);
	if (ret)
		die("pmem2_source_from_anon", ret);
	ret = pmem2_map_from_existing(&map, src, arena, ARENA,
				      PMEM2_GRANULARITY_CACHE_LINE);
	if (ret)
		die("pmem2_map_from_existing", ret);
	cpy = pmem2_get_memcpy_fn(map);
	set = pmem2_get_memset_fn(map);

	for (op = 0; op < 2; op++)
		for (m = 0; m < 2; m++)
			for (si = 0; si < 3; si++) {
				size_t size = sizes[si];
				size_t calls = MIN_BYTES / size;
				double gbps[MAX_SAMPLES];
				int s;

				for (s = 0; s < samples; s++) {
					size_t i, off = 0;
					uint64_t t0 = now_ns(), t;

					for (i = 0; i < calls; i++) {
						if (op == 0)
							cpy(arena + off, from,
							    size,
							    modes[m].flags);
						else
							set(arena + off,
							    (int)i, size,
							    modes[m].flags);
						off += size;
						if (off + size > ARENA)
							off = 0;
					}
					t = now_ns() - t0;
					gbps[s] = (double)(calls * size) / t;
				}
				qsort(gbps, samples, sizeof(gbps[0]),
				      cmp_double);
				printf("%s %s %zu %.3f\n",
				       op ? "memset" : "memcpy", modes[m].name,
				       size, gbps[samples / 2]);
				fflush(stdout);
			}
	pmem2_map_delete(&map);
	pmem2_source_delete(&src);
	munmap(arena, ARENA);
	munmap(from, sizes[2]);
	return 0;
}
