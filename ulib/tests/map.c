// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_map_new() and pmem2_deep_flush() on a regular temp file, with a fake
 * module behind the kops table making it look like fsdax or device-dax.
 */
#include <sys/syscall.h>
#include <sys/wait.h>

#include "pmf_test.h"

#define PG 4096

/*
 * munmap() for the library linked into this test: fails with
 * munmap_errno when set, else the system call (ASan's runtime unmaps with
 * its own system calls)
 */
static int munmap_errno;

int munmap(void *addr, size_t len)
{
	if (munmap_errno) {
		errno = munmap_errno;
		return -1;
	}
	return (int)syscall(SYS_munmap, addr, len);
}

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
	/*
	 * A forced CACHE_LINE on a file mapped without MAP_SYNC: the deep
	 * flush must write the filesystem's metadata too, so msync
	 */
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 10));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(1, fake.msyncs);
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

/* open fds of the file behind @fd, @fd included, from /proc/self/fd */
static int fds_of_file(int fd)
{
	struct stat want, st;
	char path[64];
	int n = 0, i;

	if (fstat(fd, &want))
		return -1;
	for (i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", i);
		if (!stat(path, &st) && st.st_ino == want.st_ino &&
		    st.st_dev == want.st_dev)
			n++;
	}
	return n;
}

/*
 * CACHE_LINE and BYTE on a region with a device flush: the map is
 * registered by its address range, flushed by id at the file offset after
 * the CPU's write-back (BYTE too), and no fd of the file is made or closed.
 */
TEST(deep_flush_by_id)
{
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG), d;
	char *a;

	for (d = 1; d <= 2; d++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, d, PMEMFLUSH_DAX_SYNC);
		fake.reg_offset = PG;
		ASSERT_EQ(1, fds_of_file(fd));
		ASSERT_EQ(0, pmf_test_map(fd, 2, PG, 2 * PG, &map));
		ASSERT_EQ(1, fds_of_file(fd));
		ASSERT_EQ(d == 2 ? PMEM2_GRANULARITY_BYTE :
			  PMEM2_GRANULARITY_CACHE_LINE,
			  pmem2_map_get_store_granularity(map));
		a = pmem2_map_get_address(map);
		ASSERT_EQ(1, fake.regs);
		ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
		ASSERT_EQ((uintptr_t)a, fake.reg.addr);
		ASSERT_EQ(2 * PG, fake.reg.length);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + 100, 300));
		ASSERT_EQ(1, fake.flushes);
		ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
		ASSERT_EQ((int)fake.reg.id, fake.flush_target);
		ASSERT_EQ(fake.reg_dev, fake.flush_dev);
		ASSERT_EQ(PG + 100, fake.flush_offset);
		ASSERT_EQ(300, fake.flush_length);
		/* the write-back of exactly the range, BYTE included */
		ASSERT_EQ(1, fake.cpu_flushes);
		ASSERT_EQ((uintptr_t)a + 100, fake.cpu_flush_addr);
		ASSERT_EQ(300, fake.cpu_flush_len);
		ASSERT_EQ(0, fake.msyncs);
		ASSERT_EQ(0, pmem2_map_delete(&map));
		ASSERT_EQ(1, fake.unregs);
		ASSERT_EQ(fake.reg.id, fake.unreg_id);
		ASSERT_EQ(0, fake.live_ids);
		ASSERT_EQ(1, fds_of_file(fd));
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * The CPU write-back of a deep flush covers every map the process can store
 * through: a PMEM2_PROT_WRITE map is readable on x86 and written back like a
 * readable one; a PMEM2_PROT_NONE map, which the write-back would fault on,
 * is not.
 */
TEST(deep_flush_writes_back_write_only_maps)
{
	static const struct {
		unsigned int prot;
		int cpu_flushes;
	} cases[] = {
		{ PMEM2_PROT_WRITE, 1 },
		{ PMEM2_PROT_READ | PMEM2_PROT_WRITE, 1 },
		{ PMEM2_PROT_NONE, 0 },
	};
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	size_t i;
	char *a;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
		ASSERT_EQ(0, pmf_test_map_prot(fd, PMEM2_GRANULARITY_PAGE, 0, 0,
					       cases[i].prot, &map));
		a = pmem2_map_get_address(map);
		if (cases[i].prot & PMEM2_PROT_WRITE)
			a[PG + 5] = 1;
		ASSERT_EQ(0, pmem2_deep_flush(map, a + PG, 64));
		TH_LOG("prot %#x: %d write-backs, %d FLUSH, %d msync",
		       cases[i].prot, fake.cpu_flushes, fake.flushes,
		       fake.msyncs);
		EXPECT_EQ(cases[i].cpu_flushes, fake.cpu_flushes);
		if (cases[i].cpu_flushes) {
			EXPECT_EQ((uintptr_t)a + PG, fake.cpu_flush_addr);
			EXPECT_EQ(64, fake.cpu_flush_len);
		}
		ASSERT_EQ(0, pmem2_map_delete(&map));
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/* a map whose munmap fails stays mapped: the caller keeps its handle */
TEST(map_delete_keeps_map_when_munmap_fails)
{
	struct pmem2_map *map, *kept;
	int fd = tmp_file(2 * PG);
	char *a;

	fake_no_module();
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	a = pmem2_map_get_address(map);
	kept = map;
	munmap_errno = ENOMEM;
	ASSERT_EQ(-ENOMEM, pmem2_map_delete(&map));
	munmap_errno = 0;
	ASSERT_EQ(kept, map);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "munmap"));
	ASSERT_EQ(a, pmem2_map_get_address(map));
	a[PG] = 7;
	ASSERT_EQ(0, pmem2_deep_flush(map, a + PG, 1));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(NULL, map);
	close(fd);
	PMF_LEAK_CHECK();
}

/* the application may close its fd right after pmem2_map_new() */
TEST(deep_flush_after_source_fd_closed)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), PG));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_NE(fd, fake.flush_target);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	PMF_LEAK_CHECK();
}

/*
 * A POSIX record lock survives the map: closing any fd of a file drops the
 * process's locks on it, so the library must never close one.
 */
TEST(posix_lock_survives_map_delete)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct pmem2_map *map;
	int fd = tmp_file(PG), status;
	pid_t pid;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl));
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 64));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (fcntl(fd, F_GETLK, &q))
			_exit(2);
		_exit(q.l_type == F_WRLCK && q.l_pid == getppid() ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
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

/*
 * QUERY outcomes at map time: a page-cache file is msync's; any other
 * failure (no region, a device going away, an older module, ENOMEM) lets
 * sysfs and MAP_SYNC decide, and nothing is registered.
 */
TEST(query_errors_at_map)
{
	static const int fallback[] = { ENODEV, ENXIO, EIO, ENOMEM, ENOTTY,
					EINVAL, EBADF };
	struct pmem2_map *map;
	int fd = tmp_file(PG);
	size_t i;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	/* a non-DAX file on pmem: page cache, msync */
	fake.query_ret = -EOPNOTSUPP;
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.sync_tries);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_EQ(1, fake.msyncs);
	pmem2_map_delete(&map);
	pmf_test_set_sysfs("/nonexistent");
	for (i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		fake.query_ret = -fallback[i];
		fake.sync_tries = fake.msyncs = 0;
		ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map))
			TH_LOG("QUERY %s", strerror(fallback[i]));
		ASSERT_EQ(1, fake.sync_tries);
		ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
			  pmem2_map_get_store_granularity(map));
		ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
		ASSERT_EQ(1, fake.msyncs);
		pmem2_map_delete(&map);
	}
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, fake.regs);
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
