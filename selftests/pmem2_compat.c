// SPDX-License-Identifier: GPL-2.0
/*
 * One libpmem2 program, built twice: against Debian's PMDK libpmem2
 * (-DCOMPAT_PMDK) and against libpmemflush, by changing only the include and
 * the library. It prints "key value" lines that libpmemflush_vm compares.
 *
 *   pmem2_compat map TARGET     mapping, granularity, range errors, a flush
 *   pmem2_compat flush0 TARGET  map, then pmem2_deep_flush of 0 bytes (no
 *                               page is ever touched: safe on nfit_test)
 *   pmem2_compat badblocks TARGET  "bb OFFSET LENGTH" per bad block, then
 *                               "next RET" (the call that ended the walk)
 *   pmem2_compat bbclear TARGET   clear each bad block ("clear OFF LEN RET"),
 *                               then walk again ("after OFF LEN", "next RET")
 *   pmem2_compat source TARGET  size, alignment, device_id (and its buffer
 *                               protocol), usc, numa_node; out-of-range
 *                               mcsafe calls (nothing is mapped or touched)
 *   pmem2_compat mcsafe TARGET  pread_mcsafe of 64 bytes at 4096 (a sum),
 *                               and pwrite_mcsafe of the same bytes back
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef COMPAT_PMDK
#include <libpmem2.h>
#else
#include <libpmemflush.h>
#endif

static int map_new(int fd, enum pmem2_granularity g, size_t offset,
		   struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int ret;

	if (pmem2_config_new(&cfg))
		return -1;
	ret = pmem2_source_from_fd(&src, fd);
	if (ret) {
		pmem2_config_delete(&cfg);
		return ret;
	}
	pmem2_config_set_required_store_granularity(cfg, g);
	if (offset)
		pmem2_config_set_offset(cfg, offset);
	ret = pmem2_map_new(map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	return ret;
}

static int run_map(int fd)
{
	struct pmem2_map *map, *other;
	pmem2_persist_fn persist;
	char *addr;
	size_t size;
	int ret;

	ret = map_new(fd, PMEM2_GRANULARITY_PAGE, 0, &map);
	printf("map %d\n", ret);
	if (ret)
		return 1;
	addr = pmem2_map_get_address(map);
	size = pmem2_map_get_size(map);
	printf("size %zu\n", size);
	printf("granularity %d\n", pmem2_map_get_store_granularity(map));

	memset(addr + 4096, 0x5a, 64);
	persist = pmem2_get_persist_fn(map);
	persist(addr + 4096, 64);
	printf("deep_flush %d\n", pmem2_deep_flush(map, addr + 4096, 64));
	memset(addr, 0xa5, 2 << 20);
	printf("deep_flush_2m %d\n", pmem2_deep_flush(map, addr, 2 << 20));
	printf("deep_flush_below %d\n", pmem2_deep_flush(map, addr - 1, 2));
	printf("deep_flush_past %d\n", pmem2_deep_flush(map, addr + size - 1, 2));
	pmem2_map_delete(&map);
	printf("map_deleted %d\n", map == NULL);

	ret = map_new(fd, PMEM2_GRANULARITY_BYTE, 0, &other);
	printf("map_byte %d\n", ret);
	if (!ret)
		pmem2_map_delete(&other);
	ret = map_new(fd, PMEM2_GRANULARITY_PAGE, 1, &other);
	printf("map_offset_1 %d\n", ret);
	if (!ret)
		pmem2_map_delete(&other);
	return 0;
}

static int run_flush0(int fd)
{
	struct pmem2_map *map;
	int ret;

	ret = map_new(fd, PMEM2_GRANULARITY_PAGE, 0, &map);
	printf("map %d\n", ret);
	if (ret)
		return 1;
	printf("deep_flush0 %d\n",
	       pmem2_deep_flush(map, pmem2_map_get_address(map), 0));
	pmem2_map_delete(&map);
	return 0;
}

/* walk the bad blocks; @clear: clear each one, then walk again */
static int run_badblocks(int fd, int clear)
{
	struct pmem2_badblock_context *ctx;
	struct pmem2_source *src;
	struct pmem2_badblock bb;
	int ret;

	ret = pmem2_source_from_fd(&src, fd);
	printf("source %d\n", ret);
	if (ret)
		return 1;
	ret = pmem2_badblock_context_new(&ctx, src);
	printf("context %d\n", ret);
	if (ret) {
		fprintf(stderr, "context: %s\n", pmem2_errormsg());
		pmem2_source_delete(&src);
		return 1;
	}
	while (!(ret = pmem2_badblock_next(ctx, &bb))) {
		printf("bb %zu %zu\n", bb.offset, bb.length);
		if (clear) {
			int r = pmem2_badblock_clear(ctx, &bb);

			printf("clear %zu %zu %d\n", bb.offset, bb.length, r);
			if (r)
				fprintf(stderr, "clear: %s\n", pmem2_errormsg());
		}
	}
	printf("next %d\n", ret);
	pmem2_badblock_context_delete(&ctx);
	if (clear) {
		ret = pmem2_badblock_context_new(&ctx, src);
		printf("context_after %d\n", ret);
		if (!ret) {
			while (!(ret = pmem2_badblock_next(ctx, &bb)))
				printf("after %zu %zu\n", bb.offset, bb.length);
			printf("next_after %d\n", ret);
			pmem2_badblock_context_delete(&ctx);
		}
	}
	pmem2_source_delete(&src);
	return 0;
}

/* what the source says about itself; no page of the target is touched */
static int run_source(int fd)
{
	struct pmem2_source *src;
	size_t size = 0, align = 0, len = 0, small;
	uint64_t usc = 0;
	char id[4096] = "", buf[1];
	int ret, numa = -100;

	ret = pmem2_source_from_fd(&src, fd);
	printf("source %d\n", ret);
	if (ret)
		return 1;
	printf("size %d\n", pmem2_source_size(src, &size));
	printf("size_v %zu\n", size);
	printf("alignment %d\n", pmem2_source_alignment(src, &align));
	printf("alignment_v %zu\n", align);
	printf("device_id_len %d\n", pmem2_source_device_id(src, NULL, &len));
	printf("device_id_len_v %zu\n", len);
	if (len && len <= sizeof(id)) {
		/* one byte short: libpmem2 may write part of it; we do not */
		small = len - 1;
		printf("device_id_small %d\n",
		       pmem2_source_device_id(src, id, &small));
		memset(id, 0, sizeof(id));
		printf("device_id %d\n", pmem2_source_device_id(src, id, &len));
		printf("device_id_str %s\n", id);
	}
	ret = pmem2_source_device_usc(src, &usc);
	printf("usc %d\n", ret);
	if (!ret)
		printf("usc_v %llu\n", (unsigned long long)usc);
	else
		fprintf(stderr, "usc: %s\n", pmem2_errormsg());
	ret = pmem2_source_numa_node(src, &numa);
	printf("numa %d\n", ret);
	printf("numa_v %d\n", numa);
	printf("pread_past %d\n",
	       pmem2_source_pread_mcsafe(src, buf, 2, size - 1));
	printf("pwrite_past %d\n",
	       pmem2_source_pwrite_mcsafe(src, buf, 2, size - 1));
	pmem2_source_delete(&src);
	return 0;
}

/* a read and a write of the same bytes through the source */
static int run_mcsafe(int fd)
{
	struct pmem2_source *src;
	unsigned char buf[64];
	unsigned long sum = 0;
	unsigned int i;
	int ret;

	ret = pmem2_source_from_fd(&src, fd);
	printf("source %d\n", ret);
	if (ret)
		return 1;
	ret = pmem2_source_pread_mcsafe(src, buf, sizeof(buf), 4096);
	printf("pread %d\n", ret);
	for (i = 0; i < sizeof(buf); i++)
		sum = sum * 31 + buf[i];
	printf("pread_sum %lu\n", ret ? 0 : sum);
	printf("pwrite %d\n",
	       ret ? ret : pmem2_source_pwrite_mcsafe(src, buf, sizeof(buf),
						       4096));
	pmem2_source_delete(&src);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 3) {
		fprintf(stderr,
			"usage: %s map|flush0|badblocks|bbclear|source|mcsafe TARGET\n",
			argv[0]);
		return 2;
	}
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[2]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "map"))
		return run_map(fd);
	if (!strcmp(argv[1], "flush0"))
		return run_flush0(fd);
	if (!strcmp(argv[1], "badblocks"))
		return run_badblocks(fd, 0);
	if (!strcmp(argv[1], "bbclear"))
		return run_badblocks(fd, 1);
	if (!strcmp(argv[1], "source"))
		return run_source(fd);
	if (!strcmp(argv[1], "mcsafe"))
		return run_mcsafe(fd);
	return 2;
}
