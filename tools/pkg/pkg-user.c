// SPDX-License-Identifier: GPL-2.0
/*
 * A program as a user of the packages writes it: built against the installed
 * libpmemflush-dev with nothing but `pkg-config --cflags --libs libpmemflush`.
 * It maps PATH, writes a line at its start, persists and deep-flushes it,
 * and prints what it did. Its exit code is 0 only if every call succeeded.
 * Usage: pkg-user PATH
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libpmemflush.h>
#include <linux/pmemflush.h>	/* the ioctl header, from the same package */

int main(int argc, char **argv)
{
	struct pmem2_config *cfg = NULL;
	struct pmem2_source *src = NULL;
	struct pmemflush_info info;
	struct pmem2_map *map = NULL;
	char line[64];
	char *addr;
	int fd, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: pkg-user PATH\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	ret = pmemflush_fd_query(fd, &info);
	printf("query %d region %u kind %u flags %#x\n", ret, info.region_id,
	       info.target_kind, info.flags);
	if (ret)
		return 1;
	/* _IOWR(0xF7, ...): the uapi header resolved through pkg-config */
	printf("ioctl_type %#x\n", (unsigned int)_IOC_TYPE(PMEMFLUSH_FLUSH));

	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd) ||
	    pmem2_config_set_required_store_granularity(cfg,
							PMEM2_GRANULARITY_PAGE) ||
	    pmem2_config_set_length(cfg, 4096) ||
	    pmem2_map_new(&map, cfg, src)) {
		pmem2_perror("map %s", argv[1]);
		return 1;
	}
	addr = pmem2_map_get_address(map);
	snprintf(line, sizeof(line), "written by pkg-user %d\n", (int)getpid());
	memcpy(addr, line, strlen(line) + 1);
	pmem2_get_persist_fn(map)(addr, strlen(line) + 1);
	ret = pmem2_deep_flush(map, addr, strlen(line) + 1);
	printf("deep_flush %d\n", ret);
	if (ret)
		pmem2_perror("deep flush %s", argv[1]);
	pmem2_map_delete(&map);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
	return ret ? 1 : 0;
}
