// SPDX-License-Identifier: GPL-2.0
/*
 * One libpmem2 program, built twice: against Debian's PMDK libpmem2
 * (-DCOMPAT_PMDK) and against libpmemflush, by changing only the include and
 * the library. It prints "key value" lines that libpmemflush_vm compares.
 *
 *   pmem2_compat map TARGET     mapping, granularity, range errors, a flush
 *   pmem2_compat flush0 TARGET  map, then pmem2_deep_flush of 0 bytes (no
 *                               page is ever touched: safe on nfit_test)
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

int main(int argc, char **argv)
{
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s map|flush0 TARGET\n", argv[0]);
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
	return 2;
}
