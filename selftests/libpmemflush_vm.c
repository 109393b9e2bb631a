// SPDX-License-Identifier: GPL-2.0
/*
 * libpmemflush on real (emulated) pmem: pmem2_deep_flush reaches
 * nvdimm_flush() (and the virtio-pmem host) with the module, takes the
 * sysfs/msync path without it, and behaves like Debian's PMDK libpmem2 except
 * where we differ on purpose. Built per VM stack like pmemflush_targets.
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

FIXTURE_VARIANT_ADD(lib, virtio_devdax) {
	.env = "PMF_VIRTIO_DEVDAX",
	.granularity = PMEM2_GRANULARITY_CACHE_LINE,
	.fsync_env = "PMF_VIRTIO_DEVDAX_FSYNC",
	/* the region has no deep_flush file: PMDK returns 0 having done nothing */
	.ret_no_module = -ENOENT,
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

TEST_F(lib, deep_flush_with_module)
{
	struct pmf_probe probe;
	long long fs0, fs1;
	int i, calls;

	ASSERT_EQ(0, map_target(_metadata, self));
	EXPECT_EQ(variant->granularity, pmem2_map_get_store_granularity(self->map));
	ASSERT_EQ(0, pmf_probe_start(&probe, "nvdimm_flush"));
	fs0 = fsync_count(variant);
	for (i = 0; i < 3; i++) {
		memset(self->addr + 4096 * i, i + 1, 64);
		ASSERT_EQ(0, pmem2_deep_flush(self->map, self->addr + 4096 * i, 64));
	}
	calls = pmf_probe_count(&probe);
	fs1 = fsync_count(variant);
	pmf_probe_stop(&probe);

	if (variant->granularity == PMEM2_GRANULARITY_PAGE) {
		/* msync: the filesystem decides how often it flushes */
		EXPECT_LE(1, calls);
		if (variant->fsync_env)
			EXPECT_LE(fs0 + 1, fs1);
	} else {
		/* CPU flush + one ioctl each */
		EXPECT_EQ(3, calls);
		if (variant->fsync_env)
			EXPECT_EQ(fs0 + 3, fs1);
	}

	EXPECT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(self->map, self->addr - 1, 2));
	EXPECT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmem2_deep_flush(self->map, self->addr +
				   pmem2_map_get_size(self->map) - 1, 2));
}

TEST_F(lib, deep_flush_without_module)
{
	struct pmf_probe probe;
	long long fs0, fs1;
	int calls, ret;

	ASSERT_EQ(0, module_set(0));
	ASSERT_EQ(0, map_target(_metadata, self));
	EXPECT_EQ(variant->granularity, pmem2_map_get_store_granularity(self->map));

	ASSERT_EQ(0, pmf_probe_start(&probe, "nvdimm_flush"));
	fs0 = fsync_count(variant);
	memset(self->addr + 8192, 0x77, 64);
	ret = pmem2_deep_flush(self->map, self->addr + 8192, 64);
	calls = pmf_probe_count(&probe);
	fs1 = fsync_count(variant);
	pmf_probe_stop(&probe);

	EXPECT_EQ(variant->ret_no_module, ret);
	if (!variant->in_dir) {
		/* deep_flush reads 0 on QEMU's NFIT: nothing to write */
		EXPECT_EQ(0, calls);
		EXPECT_EQ(fs0, fs1);
	} else {
		/* msync reaches nvdimm_flush through the filesystem */
		EXPECT_LE(1, calls);
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
#endif

TEST_HARNESS_MAIN
