/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pat.h: what the libpmem2 usage patterns (selftests/patterns/NAME.c) share:
 * the library header (PMDK's libpmem2 with -DPAT_PMDK, else libpmemflush),
 * error reporting, the FNV-1a checksum, mapping the first WINDOW bytes of a
 * target and the "write|read TARGET" command line.
 *
 * Define PAT_NAME, the program's name (a string literal), before including.
 */
#ifndef PAT_H
#define PAT_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef PAT_PMDK
#include <libpmem2.h>
/* libpmem2 1.12.1 declares pmem2_err_to_errno() but does not export it */
static inline int err_to_errno(int err)
{
	if (err == PMEM2_E_NOSUPP)
		return ENOTSUP;
	return err <= PMEM2_E_UNKNOWN ? EINVAL : -err;
}
#else
#include <libpmemflush.h>
#define err_to_errno pmem2_err_to_errno
#endif

#ifndef PAT_NAME
#error "define PAT_NAME before including pat.h"
#endif

/* the range of a target a program uses */
#define WINDOW		(4UL << 20)

/* a libpmem2 call failed with @ret: report it and exit */
static inline void fail(const char *what, int ret)
{
	fprintf(stderr, PAT_NAME ": %s: %d (errno %d): %s\n", what, ret,
		err_to_errno(ret), pmem2_errormsg());
	exit(1);
}

static inline const char *gran_name(struct pmem2_map *map)
{
	static const char *const names[] = { "byte", "cache_line", "page" };

	return names[pmem2_map_get_store_granularity(map)];
}

#define FNV0 0xcbf29ce484222325ULL

/* FNV-1a: @h continued over @len bytes at @buf */
static inline uint64_t fnv_add(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

static inline uint64_t fnv(const void *buf, size_t len)
{
	return fnv_add(FNV0, buf, len);
}

static inline void deep_flush(struct pmem2_map *map, void *ptr, size_t len)
{
	int ret = pmem2_deep_flush(map, ptr, len);

	if (ret)
		fail("pmem2_deep_flush", ret);
}

/*
 * Map the first WINDOW bytes of @src with @sharing. PAGE granularity, the
 * coarsest, so that a non-DAX file maps too. A failure of pmem2_map_new
 * goes to *@err (NULL returned) if @err is given, else exits.
 */
static inline struct pmem2_map *map_window_src(struct pmem2_source *src,
		enum pmem2_sharing_type sharing, int *err)
{
	struct pmem2_config *cfg;
	struct pmem2_map *map = NULL;
	int ret;

	ret = pmem2_config_new(&cfg);
	if (ret)
		fail("pmem2_config_new", ret);
	ret = pmem2_config_set_required_store_granularity(cfg,
			PMEM2_GRANULARITY_PAGE);
	if (ret)
		fail("set_required_store_granularity", ret);
	ret = pmem2_config_set_length(cfg, WINDOW);
	if (ret)
		fail("pmem2_config_set_length", ret);
	ret = pmem2_config_set_sharing(cfg, sharing);
	if (ret)
		fail("pmem2_config_set_sharing", ret);
	ret = pmem2_map_new(&map, cfg, src);
	if (ret && !err)
		fail("pmem2_map_new", ret);
	if (err)
		*err = ret;
	pmem2_config_delete(&cfg);
	return map;
}

/* map_window_src() with a source made from @fd for the call */
static inline struct pmem2_map *map_window(int fd,
		enum pmem2_sharing_type sharing, int *err)
{
	struct pmem2_source *src;
	struct pmem2_map *map;
	int ret;

	ret = pmem2_source_from_fd(&src, fd);
	if (ret)
		fail("pmem2_source_from_fd", ret);
	map = map_window_src(src, sharing, err);
	pmem2_source_delete(&src);
	return map;
}

/*
 * The command line "write|read TARGET", or up to @maxt targets: exits 2
 * with the usage if it is not that. Returns 1 for write, 0 for read.
 */
static inline int pat_args(int argc, char **argv, int maxt)
{
	if (argc < 3 || argc - 2 > maxt ||
	    (strcmp(argv[1], "write") && strcmp(argv[1], "read"))) {
		if (maxt == 1)
			fprintf(stderr, "usage: %s write|read TARGET\n",
				argv[0]);
		else
			fprintf(stderr, "usage: %s write|read TARGET "
				"[TARGET...] (at most %d)\n", argv[0], maxt);
		exit(2);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return !strcmp(argv[1], "write");
}

/* open target @path for reading and writing, or exit */
static inline int pat_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, PAT_NAME ": %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

#endif /* PAT_H */
