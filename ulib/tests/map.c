// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_map_new() and pmem2_deep_flush() on a regular temp file, with a fake
 * module behind the kops table making it look like fsdax or device-dax.
 */
#include <sys/wait.h>

#include "pmf_test.h"

#define PG 4096

TEST(range_rules)
{
	struct pmem2_map *map = (void *)1;
	int fd = tmp_file(4 * PG), empty = tmp_file(0);

	fake_no_module();
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SET, pmf_test_map(fd, -1, 0, 0, &map));
	ASSERT_EQ(NULL, map);
	ASSERT_EQ(PMEM2_E_SOURCE_EMPTY, pmf_test_map(empty, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED, pmf_test_map(fd, 2, 100, 0, &map));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED, pmf_test_map(fd, 2, 0, 100, &map));
	ASSERT_EQ(PMEM2_E_MAP_RANGE, pmf_test_map(fd, 2, PG, 4 * PG, &map));
	ASSERT_EQ(PMEM2_E_MAP_RANGE, pmf_test_map(fd, 2, 4 * PG, 0, &map));
	ASSERT_EQ(PMEM2_E_MAP_RANGE,
		  pmf_test_map(fd, 2, 8 * PG, SIZE_MAX - 4095, &map));
	ASSERT_EQ(0, fake.mmaps);
	ASSERT_EQ(0, pmf_test_map(fd, 2, PG, 2 * PG, &map));
	ASSERT_EQ(2 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(NULL, map);
	ASSERT_EQ(0, pmf_test_map(fd, 2, PG, 0, &map));
	ASSERT_EQ(3 * PG, pmem2_map_get_size(map));
	pmem2_map_delete(&map);
	close(fd);
	close(empty);
	PMF_LEAK_CHECK();
}

TEST(mmap_errors)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG), ro;
	char path[64];

	fake_no_module();
	fake.mmap_errno = ENOMEM;
	ASSERT_EQ(-ENOMEM, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "mmap"));
	/* a read-only fd cannot be mapped writable (real mmap: EACCES) */
	fake.mmap_errno = 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	ASSERT_EQ(PMEM2_E_NO_ACCESS, pmf_test_map(ro, 2, 0, 0, &map));
	close(ro);
	close(fd);
	PMF_LEAK_CHECK();
}

/* granularity as libpmem2 decides it, from what QUERY says */
TEST(granularity_from_query)
{
	static const struct {
		__u32 kind, domain, flags;
		int want;
		bool sync_tried;
	} t[] = {
		{ PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC,
		  PMEM2_GRANULARITY_CACHE_LINE, true },
		{ PMEMFLUSH_TARGET_FSDAX_FILE, 2, PMEMFLUSH_DAX_SYNC,
		  PMEM2_GRANULARITY_BYTE, true },
		{ PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0,
		  PMEM2_GRANULARITY_PAGE, false },
		/* virtio-pmem: MAP_SYNC accepted but proves nothing */
		{ PMEMFLUSH_TARGET_FSDAX_FILE, 0,
		  PMEMFLUSH_DAX_SYNC | PMEMFLUSH_REGION_ASYNC,
		  PMEM2_GRANULARITY_PAGE, false },
		{ PMEMFLUSH_TARGET_FSDAX_FILE, 2,
		  PMEMFLUSH_DAX_SYNC | PMEMFLUSH_REGION_ASYNC,
		  PMEM2_GRANULARITY_PAGE, false },
	};
	struct pmem2_map *map;
	size_t i;
	int fd = tmp_file(PG);

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(t[i].kind, t[i].domain, t[i].flags);
		ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
		ASSERT_EQ(t[i].want, pmem2_map_get_store_granularity(map))
			TH_LOG("case %zu", i);
		ASSERT_EQ(t[i].sync_tried, fake.sync_tries == 1);
		pmem2_map_delete(&map);
	}
	/* QUERY said DAX_SYNC but MAP_SYNC failed after all: PAGE */
	memset(&fake, 0, sizeof(fake));
	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.sync_ok = false;
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(2, fake.mmaps);
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(granularity_not_supported)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED, pmf_test_map(fd, 1, 0, 0, &map));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PAGE"));
	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED, pmf_test_map(fd, 0, 0, 0, &map));
	ASSERT_EQ(0, pmf_test_map(fd, 1, 0, 0, &map));
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(force_granularity)
{
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmf_min_granularity(false, false, "byte"));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmf_min_granularity(false, false, "Cache_Line"));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmf_min_granularity(false, true, "CACHELINE"));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmf_min_granularity(true, true, "page"));
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmf_min_granularity(true, true, "junk"));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmf_min_granularity(true, false, "CACHE_LINE_TOO_LONG"));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmf_min_granularity(false, true, NULL));
}

TEST(force_granularity_env_in_map)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	setenv("PMEM2_FORCE_GRANULARITY", "cache_line", 1);
	ASSERT_EQ(0, pmf_test_map(fd, 1, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	/* a forced CACHE_LINE on fsdax flushes CPU caches, then the ioctl */
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 10));
	ASSERT_EQ(1, fake.flushes);
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

static void check_persist_fns(struct __test_metadata *_metadata,
			      struct pmem2_map *map, int gran)
{
	char *a = pmem2_map_get_address(map);

	fake.msyncs = 0;
	pmem2_get_persist_fn(map)(a + 5000, 10);
	pmem2_get_flush_fn(map)(a + 5000, 10);
	pmem2_get_drain_fn(map)();
	if (gran == PMEM2_GRANULARITY_PAGE) {
		ASSERT_EQ(2, fake.msyncs);
		ASSERT_EQ((uintptr_t)a + PG, fake.msync_addr);
		ASSERT_EQ(5000 + 10 - PG, fake.msync_len);
	} else {
		ASSERT_EQ(0, fake.msyncs);
	}
}

TEST(persist_functions)
{
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG), g;

	for (g = 0; g < 3; g++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, g == 0 ? 2 : 1,
			    g == 2 ? 0 : PMEMFLUSH_DAX_SYNC);
		ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
		ASSERT_EQ(g, (int)pmem2_map_get_store_granularity(map));
		check_persist_fns(_metadata, map, g);
		pmem2_map_delete(&map);
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/* a PAGE map whose msync fails must not go on: libpmem2 aborts too */
TEST(persist_pages_failure_aborts)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG), status;
	pid_t pid;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	/* the harness takes SIGABRT for a failed assertion: fork again */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		fake.msync_ret = EIO;
		pmem2_get_persist_fn(map)(pmem2_map_get_address(map), 1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGABRT, WTERMSIG(status));
	/* in this process msync still works */
	fake.msync_ret = 0;
	pmem2_get_persist_fn(map)(pmem2_map_get_address(map), 1);
	pmem2_map_delete(&map);
	close(fd);
}

TEST(deep_flush_range)
{
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE, pmem2_deep_flush(map, a - 1, 1));
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE, pmem2_deep_flush(map, a, 2 * PG + 1));
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE, pmem2_deep_flush(map, a + 1, 2 * PG));
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(map, a + 2 * PG, 1));
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(map, a + PG, SIZE_MAX));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "not within"));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 2 * PG, 0));
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 2 * PG));
	ASSERT_EQ(2, fake.flushes);
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

/* CACHE_LINE and BYTE: the ioctl on a dup of the fd, at the file offset */
TEST(deep_flush_ioctl)
{
	struct pmem2_map *map;
	struct stat st1, st2;
	int fd = tmp_file(4 * PG), d;

	for (d = 1; d <= 2; d++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, d, PMEMFLUSH_DAX_SYNC);
		ASSERT_EQ(0, pmf_test_map(fd, 2, PG, 2 * PG, &map));
		ASSERT_EQ(d == 2 ? PMEM2_GRANULARITY_BYTE :
			  PMEM2_GRANULARITY_CACHE_LINE,
			  pmem2_map_get_store_granularity(map));
		ASSERT_EQ(0, pmem2_deep_flush(map,
				(char *)pmem2_map_get_address(map) + 100, 300));
		ASSERT_EQ(1, fake.flushes);
		ASSERT_EQ(PG + 100, fake.flush_offset);
		ASSERT_EQ(300, fake.flush_length);
		ASSERT_NE(fd, fake.flush_fd);
		ASSERT_EQ(0, fstat(fd, &st1));
		ASSERT_EQ(0, fstat(fake.flush_fd, &st2));
		ASSERT_EQ(st1.st_ino, st2.st_ino);
		ASSERT_EQ(FD_CLOEXEC, fcntl(fake.flush_fd, F_GETFD) & FD_CLOEXEC);
		ASSERT_EQ(0, fake.msyncs);
		pmem2_map_delete(&map);
		/* the dup is closed with the map */
		ASSERT_EQ(-1, fcntl(fake.flush_fd, F_GETFD));
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/* every kernel errno of FLUSH comes back through the table */
TEST(deep_flush_ioctl_errors)
{
	const struct pmf_errno_case *t = pmf_kernel_errnos;
	struct pmem2_map *map;
	int fd = tmp_file(PG);
	size_t i;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	for (i = 0; i < PMF_NR_KERNEL_ERRNOS; i++) {
		fake.flush_ret = -t[i].err;
		ASSERT_EQ(t[i].want, pmem2_deep_flush(map,
					pmem2_map_get_address(map), 1));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), strerror(t[i].err)));
	}
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

/* PAGE: msync of the page-aligned range, its errno returned */
TEST(deep_flush_page_msync)
{
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG);
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + PG + 10, PG));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ((uintptr_t)a + PG, fake.msync_addr);
	ASSERT_EQ(PG + 10, fake.msync_len);
	ASSERT_EQ(0, fake.flushes);
	fake.msync_ret = EIO;
	ASSERT_EQ(-EIO, pmem2_deep_flush(map, a, 1));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "msync"));
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

/* QUERY outcomes at map time */
TEST(query_errors_at_map)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.query_ret = -ENXIO;
	ASSERT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND, pmf_test_map(fd, 2, 0, 0, &map));
	fake.query_ret = -EIO;
	ASSERT_EQ(-EIO, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(0, fake.mmaps);
	/* a non-DAX file on pmem: page cache, msync */
	fake.query_ret = -EOPNOTSUPP;
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.sync_tries);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_EQ(1, fake.msyncs);
	pmem2_map_delete(&map);
	/* no nd region (tmpfs, dm): sysfs and MAP_SYNC decide, msync flushes */
	fake.query_ret = -ENODEV;
	pmf_test_set_sysfs("/nonexistent");
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(1, fake.sync_tries);
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(2, fake.msyncs);
	pmem2_map_delete(&map);
	close(fd);
	PMF_LEAK_CHECK();
}

/* the real kernel: a tmp file maps PAGE, deep flush is a real msync */
TEST(real_kernel_tmp_file)
{
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	char *a;

	if (access("/dev/pmemflush", F_OK) == 0)
		SKIP(return, "the module is loaded on this host");
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	memcpy(a + 100, "hello", 5);
	pmem2_get_persist_fn(map)(a + 100, 5);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 100, 5));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	{
		char buf[6] = "";

		ASSERT_EQ(5, pread(fd, buf, 5, 100));
		ASSERT_STREQ("hello", buf);
	}
	close(fd);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
