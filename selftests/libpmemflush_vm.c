// SPDX-License-Identifier: GPL-2.0
/*
 * libpmemflush on real (emulated) pmem: pmem2_deep_flush reaches
 * nvdimm_flush() (and the virtio-pmem host) with the module where a device
 * flush exists and makes no system call where the region's flush is only a
 * barrier, takes the sysfs/msync path without the module, keeps no fd of
 * the application's, and behaves like Debian's PMDK libpmem2 except where we
 * differ on purpose. Built per VM stack like pmemflush_targets.
 */
#include <grp.h>
#include <sys/wait.h>

#include <libpmemflush.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

/* run a pmem2_compat build, optionally as nobody; its stdout into @out */
static int run_compat(const char *bin_env, const char *action, const char *target,
		      int as_nobody, char *out, size_t len)
{
	const char *bin = getenv(bin_env);
	int pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (!bin || pipe(pipefd))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		if (as_nobody && (setgroups(0, NULL) || setgid(65534) ||
				  setuid(65534)))
			_exit(3);
		execl(bin, bin, action, target, (char *)NULL);
		_exit(4);
	}
	close(pipefd[1]);
	while (got + 1 < len && (n = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* the value printed for @key by pmem2_compat, or LLONG_MIN */
static long long compat_value(const char *out, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s ", key);
	for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, pat, strlen(pat)))
			return strtoll(p + strlen(pat), NULL, 0);
	return LLONG_MIN;
}

/*
 * Counts of nvdimm_flush() and of the module's ioctl entry point across
 * a stretch of the test: the library's kernel traffic, seen from the kernel.
 */
struct kcount {
	struct pmf_probe flush, ioctl;
	int flushes, ioctls;
};

static int kcount_start(struct kcount *k)
{
	if (pmf_probe_start(&k->flush, "nvdimm_flush"))
		return -1;
	if (pmf_probe_start(&k->ioctl, "pmemflush:pmemflush_char_ioctl")) {
		pmf_probe_stop(&k->flush);
		return -1;
	}
	return 0;
}

static void kcount_stop(struct kcount *k)
{
	k->flushes = pmf_probe_count(&k->flush);
	k->ioctls = pmf_probe_count(&k->ioctl);
	pmf_probe_stop(&k->flush);
	pmf_probe_stop(&k->ioctl);
}

/* does a child process see a write lock on the first byte of @fd's file? */
static int lock_seen_by_child(int fd)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				   .l_len = 1 };

		if (fcntl(fd, F_GETLK, &q))
			_exit(2);
		_exit(q.l_type == F_WRLCK && q.l_pid == getppid() ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 0;
}

static int module_set(int loaded)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;
	int ret;

	mod = pmf_kmod_module(&ctx);
	if (!mod)
		return -1;
	if (loaded == pmf_module_live(mod))
		ret = 0;
	else if (loaded)
		ret = kmod_module_insert_module(mod, 0, NULL);
	else
		ret = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

#ifdef PMF_STACK_QEMU
FIXTURE(lib)
{
	char path[PATH_MAX];
	int fd;
	struct pmem2_map *map;
	char *addr;
};

FIXTURE_VARIANT(lib)
{
	const char *env;
	int in_dir;
	enum pmem2_granularity granularity;
	const char *fsync_env;
	/* pmem2_deep_flush without the module: the sysfs/msync path */
	int ret_no_module;
	/* a file on an asynchronous region: we never trust MAP_SYNC there */
	int async_file;
	/* a device flush exists: the map is registered and flushed by id */
	int by_id;
};

FIXTURE_VARIANT_ADD(lib, nfit_devdax) {
	.env = "PMF_NFIT_DEVDAX",
	.granularity = PMEM2_GRANULARITY_CACHE_LINE,
};

FIXTURE_VARIANT_ADD(lib, nfit_ext4_file) {
	.env = "PMF_NFIT_EXT4", .in_dir = 1,
	.granularity = PMEM2_GRANULARITY_CACHE_LINE,
};

FIXTURE_VARIANT_ADD(lib, nfit_xfs_file) {
	.env = "PMF_NFIT_XFS", .in_dir = 1,
	.granularity = PMEM2_GRANULARITY_CACHE_LINE,
};

FIXTURE_VARIANT_ADD(lib, virtio_ext4_file) {
	.env = "PMF_VIRTIO_EXT4", .in_dir = 1, .async_file = 1,
	.granularity = PMEM2_GRANULARITY_PAGE,
	.fsync_env = "PMF_VIRTIO_EXT4_FSYNC",
};

/*
 * A CPU cache flush reaches only the host's page cache: PAGE, and persist is
 * the write-back plus the device flush. Without the module nothing could make
 * it durable (the region has no deep_flush file; PMDK maps it CACHE_LINE and
 * its deep flush returns 0 having done nothing): we refuse to map it.
 */
FIXTURE_VARIANT_ADD(lib, virtio_devdax) {
	.env = "PMF_VIRTIO_DEVDAX",
	.granularity = PMEM2_GRANULARITY_PAGE,
	.fsync_env = "PMF_VIRTIO_DEVDAX_FSYNC",
	.ret_no_module = PMEM2_E_NOSUPP,
	.by_id = 1,
};

FIXTURE_SETUP(lib)
{
	const char *p = getenv(variant->env);

	ASSERT_NE(NULL, p);
	if (variant->in_dir) {
		snprintf(self->path, sizeof(self->path), "%s/pmf-lib", p);
		self->fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_LE(0, self->fd);
		ASSERT_EQ(0, ftruncate(self->fd, 4 << 20));
		ASSERT_EQ(0, fsync(self->fd));
	} else {
		snprintf(self->path, sizeof(self->path), "%s", p);
		self->fd = open(self->path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fd);
	}
}

FIXTURE_TEARDOWN(lib)
{
	if (self->map)
		pmem2_map_delete(&self->map);
	if (self->fd >= 0)
		close(self->fd);
	if (variant->in_dir)
		unlink(self->path);
	module_set(1);
}

/*
 * Map the target and fault in the lines the test will flush: a first write
 * to a MAP_SYNC file page may flush the filesystem's metadata itself.
 * The library opens /dev/pmemflush once per process and keeps it, which
 * pins the module: a test that unloads it must do so before mapping.
 */
static int map_target(struct __test_metadata *_metadata,
		      FIXTURE_DATA(lib) *self)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int i, ret;

	if (pmem2_config_new(&cfg))
		return -1;
	ret = pmem2_source_from_fd(&src, self->fd);
	if (!ret)
		ret = pmem2_config_set_required_store_granularity(cfg,
					PMEM2_GRANULARITY_PAGE);
	if (!ret)
		ret = pmem2_map_new(&self->map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	if (ret) {
		TH_LOG("pmem2_map_new: %d %s", ret, pmem2_errormsg());
		return ret;
	}
	self->addr = pmem2_map_get_address(self->map);
	for (i = 0; i < 4; i++) {
		memset(self->addr + 4096 * i, 0x11, 64);
		pmem2_get_persist_fn(self->map)(self->addr + 4096 * i, 64);
	}
	return 0;
}

static long long fsync_count(const struct _fixture_variant_lib *v)
{
	const char *f = v->fsync_env ? getenv(v->fsync_env) : NULL;

	return f ? pmf_read_ll(f) : 0;
}

/*
 * QEMU's NFIT has no flush hints: nvdimm_flush() would only be a barrier,
 * so a deep flush is the CPU's write-back and SFENCE, with no system call.
 * virtio-pmem device-dax: one ioctl by id and one host fsync per call.
 */
TEST_F(lib, deep_flush_with_module)
{
	struct kcount k;
	long long fs0, fs1;
	int i;

	ASSERT_EQ(0, map_target(_metadata, self));
	EXPECT_EQ(variant->granularity, pmem2_map_get_store_granularity(self->map));
	ASSERT_EQ(0, kcount_start(&k));
	fs0 = fsync_count(variant);
	for (i = 0; i < 3; i++) {
		memset(self->addr + 4096 * i, i + 1, 64);
		ASSERT_EQ(0, pmem2_deep_flush(self->map, self->addr + 4096 * i, 64));
	}
	kcount_stop(&k);
	fs1 = fsync_count(variant);

	if (variant->by_id) {
		EXPECT_EQ(3, k.flushes);
		EXPECT_EQ(3, k.ioctls);
		if (variant->fsync_env)
			EXPECT_EQ(fs0 + 3, fs1);
	} else if (variant->granularity == PMEM2_GRANULARITY_PAGE) {
		/* msync: the filesystem decides how often it flushes */
		EXPECT_LE(1, k.flushes);
		EXPECT_EQ(0, k.ioctls);
		if (variant->fsync_env)
			EXPECT_LE(fs0 + 1, fs1);
	} else {
		TH_LOG("barriers only: %d nvdimm_flush, %d ioctls", k.flushes,
		       k.ioctls);
		EXPECT_EQ(0, k.flushes);
		EXPECT_EQ(0, k.ioctls);
	}

	EXPECT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(self->map, self->addr - 1, 2));
	EXPECT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(self->map, self->addr +
				   pmem2_map_get_size(self->map) - 1, 2));
}

/* PAGE on virtio-pmem device-dax: persist alone reaches the host */
TEST_F(lib, persist_is_durable)
{
	struct kcount k;
	long long fs0, fs1;

	ASSERT_EQ(0, map_target(_metadata, self));
	ASSERT_EQ(0, kcount_start(&k));
	fs0 = fsync_count(variant);
	memset(self->addr + 4096, 0x42, 64);
	pmem2_get_persist_fn(self->map)(self->addr + 4096, 64);
	memset(self->addr + 8192, 0x43, 64);
	pmem2_get_flush_fn(self->map)(self->addr + 8192, 64);
	pmem2_get_drain_fn(self->map)();
	kcount_stop(&k);
	fs1 = fsync_count(variant);
	if (variant->by_id) {
		EXPECT_EQ(2, k.ioctls);
		EXPECT_EQ(2, k.flushes);
		EXPECT_EQ(fs0 + 2, fs1);
	} else if (variant->granularity != PMEM2_GRANULARITY_PAGE) {
		/* CACHE_LINE: the CPU's job alone */
		EXPECT_EQ(0, k.ioctls);
		EXPECT_EQ(0, k.flushes);
	}
}

/*
 * Closing any fd of a file drops the process's POSIX locks on it: the
 * library must neither close nor duplicate one. Lock, map, deep flush,
 * delete the map: a child still sees the lock.
 */
TEST_F(lib, posix_lock_kept)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };

	ASSERT_EQ(0, fcntl(self->fd, F_SETLK, &fl));
	ASSERT_EQ(1, lock_seen_by_child(self->fd));
	ASSERT_EQ(0, map_target(_metadata, self));
	memset(self->addr, 0x99, 64);
	ASSERT_EQ(0, pmem2_deep_flush(self->map, self->addr, 64));
	ASSERT_EQ(0, pmem2_map_delete(&self->map));
	EXPECT_EQ(1, lock_seen_by_child(self->fd));
}

/* libpmem2 lets the application close its fd once the map exists */
TEST_F(lib, source_fd_closed)
{
	struct kcount k;
	long long fs0, fs1;

	ASSERT_EQ(0, map_target(_metadata, self));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, kcount_start(&k));
	fs0 = fsync_count(variant);
	memset(self->addr + 4096, 0x31, 64);
	EXPECT_EQ(0, pmem2_deep_flush(self->map, self->addr + 4096, 64));
	kcount_stop(&k);
	fs1 = fsync_count(variant);
	if (variant->by_id) {
		EXPECT_EQ(1, k.flushes);
		EXPECT_EQ(fs0 + 1, fs1);
	}
}

/*
 * The native handles: registered by fd and by range, each flush one ioctl
 * reaching nvdimm_flush(), barriers-only region or not (an explicit request
 * always reaches the kernel); QUERY by handle says what QUERY by fd says.
 */
TEST_F(lib, native_handles)
{
	struct pmemflush_handle *hfd, *hrange;
	struct pmemflush_info a, b;
	uint64_t off = 1;
	struct kcount k;

	ASSERT_EQ(0, map_target(_metadata, self));
	ASSERT_EQ(0, pmemflush_register_fd(&hfd, self->fd, 0));
	ASSERT_EQ(0, pmemflush_register_range(&hrange, self->addr + 8192, 4096,
					      &off, 0));
	EXPECT_EQ(8192, off);
	ASSERT_EQ(0, pmemflush_fd_query(self->fd, &a));
	ASSERT_EQ(0, pmemflush_handle_query(hrange, &b));
	EXPECT_EQ(a.region_id, b.region_id);
	EXPECT_EQ(a.target_size, b.target_size);
	EXPECT_EQ(a.flags, b.flags);
	ASSERT_EQ(0, kcount_start(&k));
	EXPECT_EQ(0, pmemflush_handle_deep_flush(hfd, 0, 64, 0));
	EXPECT_EQ(0, pmemflush_handle_deep_flush(hrange, off, 64, 0));
	kcount_stop(&k);
	EXPECT_EQ(2, k.ioctls);
	EXPECT_EQ(2, k.flushes);
	EXPECT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmemflush_handle_deep_flush(hfd, a.target_size, 1, 0));
	EXPECT_EQ(0, pmemflush_unregister(&hfd));
	EXPECT_EQ(NULL, hfd);
	EXPECT_EQ(0, pmemflush_unregister(&hrange));
}

/*
 * A forked child shares the parent's /dev/pmemflush file and so its ids: the
 * library registers again in the child on a file of its own, and the child's
 * map delete leaves the parent's id alone. Both flushes reach the device.
 */
TEST_F(lib, fork_child_flushes)
{
	long long fs0, fs1;
	int status;
	pid_t pid;

	ASSERT_EQ(0, map_target(_metadata, self));
	fs0 = fsync_count(variant);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int ret;

		alarm(60);
		self->addr[64] = 1;
		ret = pmem2_deep_flush(self->map, self->addr + 64, 1);
		if (!ret)
			ret = pmem2_map_delete(&self->map);
		_exit(ret ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	self->addr[128] = 2;
	EXPECT_EQ(0, pmem2_deep_flush(self->map, self->addr + 128, 1));
	fs1 = fsync_count(variant);
	if (variant->by_id)
		EXPECT_EQ(fs0 + 2, fs1);
}

TEST_F(lib, deep_flush_without_module)
{
	struct kcount k;
	long long fs0, fs1;
	int ret;

	ASSERT_EQ(0, module_set(0));
	ret = map_target(_metadata, self);
	if (variant->ret_no_module == PMEM2_E_NOSUPP) {
		EXPECT_EQ(PMEM2_E_NOSUPP, ret);
		EXPECT_NE(NULL, strstr(pmem2_errormsg(), "pmemflush module"));
		return;
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(variant->granularity, pmem2_map_get_store_granularity(self->map));

	ASSERT_EQ(0, pmf_probe_start(&k.flush, "nvdimm_flush"));
	fs0 = fsync_count(variant);
	memset(self->addr + 8192, 0x77, 64);
	ret = pmem2_deep_flush(self->map, self->addr + 8192, 64);
	k.flushes = pmf_probe_count(&k.flush);
	fs1 = fsync_count(variant);
	pmf_probe_stop(&k.flush);

	EXPECT_EQ(variant->ret_no_module, ret);
	if (!variant->in_dir) {
		/* deep_flush reads 0 on QEMU's NFIT: nothing to write */
		EXPECT_EQ(0, k.flushes);
		EXPECT_EQ(fs0, fs1);
	} else {
		/* msync reaches nvdimm_flush through the filesystem */
		EXPECT_LE(1, k.flushes);
		if (variant->fsync_env)
			EXPECT_LE(fs0 + 1, fs1);
	}
}

/* the same program against Debian's PMDK and against us, same target */
TEST_F(lib, same_as_pmdk)
{
	static const char *const keys[] = {
		"map", "size", "granularity", "deep_flush", "deep_flush_2m",
		"deep_flush_below", "deep_flush_past", "map_deleted",
		"map_byte", "map_offset_1",
	};
	static char pmdk[4096], ours[4096];
	long long a, b, fs0, fs1, fs2;
	unsigned int i;

	fs0 = fsync_count(variant);
	ASSERT_EQ(0, run_compat("PMF_COMPAT_PMDK", "map", self->path, 0,
				pmdk, sizeof(pmdk)));
	fs1 = fsync_count(variant);
	ASSERT_EQ(0, run_compat("PMF_COMPAT_OURS", "map", self->path, 0,
				ours, sizeof(ours)));
	fs2 = fsync_count(variant);

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		a = compat_value(pmdk, keys[i]);
		b = compat_value(ours, keys[i]);
		EXPECT_NE(LLONG_MIN, a) TH_LOG("PMDK printed no %s", keys[i]);
		/*
		 * Whether the kernel accepts MAP_SYNC on virtio-pmem fsdax
		 * depends on a stale DAXDEV_SYNC bit in a recycled struct
		 * dax_device (drivers/dax/super.c never clears flags), so it
		 * varies from boot to boot. PMDK follows it; we map PAGE.
		 */
		/*
		 * virtio-pmem device-dax: PMDK says CACHE_LINE, but a CPU
		 * flush reaches only the host's page cache; we say PAGE.
		 */
		if (variant->by_id && !strcmp(keys[i], "granularity")) {
			TH_LOG("differs on purpose: PMDK granularity %lld, ours %lld",
			       a, b);
			EXPECT_EQ(PMEM2_GRANULARITY_CACHE_LINE, a);
			EXPECT_EQ(PMEM2_GRANULARITY_PAGE, b);
			continue;
		}
		if (variant->async_file && !strcmp(keys[i], "granularity")) {
			int sync = pmf_map_sync_works(self->fd);

			TH_LOG("MAP_SYNC %s here: PMDK granularity %lld, ours %lld",
			       sync ? "works" : "fails", a, b);
			EXPECT_EQ(sync ? PMEM2_GRANULARITY_CACHE_LINE :
				  PMEM2_GRANULARITY_PAGE, a);
			EXPECT_EQ(PMEM2_GRANULARITY_PAGE, b);
			continue;
		}
		EXPECT_EQ(a, b) TH_LOG("%s: PMDK %lld, libpmemflush %lld",
				       keys[i], a, b);
	}
	/* PMDK never reaches a virtio-pmem device-dax host: we do */
	if (variant->fsync_env && !variant->in_dir) {
		TH_LOG("differs on purpose: host fsyncs PMDK %lld, ours %lld",
		       fs1 - fs0, fs2 - fs1);
		EXPECT_EQ(fs0, fs1);
		EXPECT_LT(fs1, fs2);
	}
}
#endif

#ifdef PMF_STACK_NFIT_TEST
/*
 * A region with flush hints: deep_flush reads 1 and only root may write it.
 * Without the module a non-root deep flush cannot happen: we say -EACCES,
 * PMDK says 0 (pmem/pmdk#5992). With the module it just works.
 * Nothing here touches the mapping (nfit_test DAX faults crash the guest).
 */
TEST(nonroot_deep_flush)
{
	const char *path = getenv("PMF_HINTS_DEVDAX");
	static char out[4096];
	struct stat st;

	ASSERT_NE(NULL, path);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(0, chown(path, 65534, 65534));

	ASSERT_EQ(0, module_set(0));
	ASSERT_EQ(0, run_compat("PMF_COMPAT_OURS", "flush0", path, 1, out, sizeof(out)));
	EXPECT_EQ(0, compat_value(out, "map"));
	EXPECT_EQ(-EACCES, compat_value(out, "deep_flush0"));
	ASSERT_EQ(0, run_compat("PMF_COMPAT_PMDK", "flush0", path, 1, out, sizeof(out)));
	EXPECT_EQ(0, compat_value(out, "map"));
	TH_LOG("differs on purpose: PMDK returns %lld without flushing",
	       compat_value(out, "deep_flush0"));
	EXPECT_EQ(0, compat_value(out, "deep_flush0"));

	ASSERT_EQ(0, module_set(1));
	ASSERT_EQ(0, run_compat("PMF_COMPAT_OURS", "flush0", path, 1, out, sizeof(out)));
	EXPECT_EQ(0, compat_value(out, "deep_flush0"));

	EXPECT_EQ(0, chown(path, st.st_uid, st.st_gid));
}

/*
 * Flush hints: the map is registered and each deep flush is one ioctl by id
 * reaching nvdimm_flush(), with no fd of the application's kept: a POSIX lock
 * survives the map, and the source fd may be closed. Deep flushes of 0 bytes:
 * nothing here touches the mapping (nfit_test DAX faults crash the guest).
 */
TEST(hints_devdax_by_id)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1 };
	const char *path = getenv("PMF_HINTS_DEVDAX");
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	struct kcount k;
	int fd, i;

	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETLK, &fl));
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_PAGE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	EXPECT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, kcount_start(&k));
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 0));
	kcount_stop(&k);
	EXPECT_EQ(3, k.flushes);
	EXPECT_EQ(3, k.ioctls);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	EXPECT_EQ(1, lock_seen_by_child(fd));

	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, kcount_start(&k));
	EXPECT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 0));
	kcount_stop(&k);
	EXPECT_EQ(1, k.flushes);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
}
#endif

TEST_HARNESS_MAIN
