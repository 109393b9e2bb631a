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
#include <time.h>

#include <libpmemflush.h>
#include <libpmemflush/uring.h>

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

/* the rest of the line printed for @key by pmem2_compat, or "(none)" */
static const char *compat_str(const char *out, const char *key, char *buf,
			      size_t len)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s ", key);
	for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, pat, strlen(pat))) {
			p += strlen(pat);
			snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
			return buf;
		}
	return "(none)";
}

/*
 * pmem2_compat source (and, where the pages may be touched, mcsafe) on
 * @target from both builds: the same values. The one difference: a
 * one-byte-short id buffer of a region without DIMMs (virtio-pmem) is
 * PMEM2_E_BUFFER_TOO_SMALL for us, 0 for PMDK (which writes nothing).
 */
static void source_compare(struct __test_metadata *_metadata,
			   const char *target, int mcsafe)
{
	static const char *const keys[] = {
		"source", "size", "size_v", "alignment", "alignment_v",
		"device_id_len", "device_id_len_v", "device_id_small",
		"device_id", "usc", "usc_v", "numa", "numa_v", "pread_past",
		"pwrite_past",
		"pread", "pread_sum", "pwrite",
	};
	static char pmdk[4096], ours[4096];
	char a_id[1024], b_id[1024];
	unsigned int i, n = mcsafe ? 18 : 15;
	struct timespec t0, t1, t2;
	long long a, b;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, run_compat("PMF_COMPAT_PMDK", "source", target, 0, pmdk,
				sizeof(pmdk)));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ASSERT_EQ(0, run_compat("PMF_COMPAT_OURS", "source", target, 0, ours,
				sizeof(ours)));
	clock_gettime(CLOCK_MONOTONIC, &t2);
	TH_LOG("%s: source takes %ld s with PMDK, %ld s with us", target,
	       (long)(t1.tv_sec - t0.tv_sec), (long)(t2.tv_sec - t1.tv_sec));
	if (mcsafe) {
		size_t lp = strlen(pmdk), lo = strlen(ours);

		ASSERT_EQ(0, run_compat("PMF_COMPAT_PMDK", "mcsafe", target, 0,
					pmdk + lp, sizeof(pmdk) - lp));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(0, run_compat("PMF_COMPAT_OURS", "mcsafe", target, 0,
					ours + lo, sizeof(ours) - lo));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		TH_LOG("%s: mcsafe takes %ld s with PMDK, %ld s with us",
		       target, (long)(t0.tv_sec - t2.tv_sec),
		       (long)(t1.tv_sec - t0.tv_sec));
	}
	TH_LOG("%s, PMDK:\n%s", target, pmdk);
	for (i = 0; i < n; i++) {
		a = compat_value(pmdk, keys[i]);
		b = compat_value(ours, keys[i]);
		if (!strcmp(keys[i], "device_id_small") &&
		    compat_value(pmdk, "device_id_len_v") == 1) {
			EXPECT_EQ(0, a);
			EXPECT_EQ(PMEM2_E_BUFFER_TOO_SMALL, b);
			continue;
		}
		EXPECT_EQ(a, b) TH_LOG("%s: PMDK %lld, libpmemflush %lld",
				       keys[i], a, b);
	}
	EXPECT_STREQ(compat_str(pmdk, "device_id_str", a_id, sizeof(a_id)),
		     compat_str(ours, "device_id_str", b_id, sizeof(b_id)));
	EXPECT_EQ(0, compat_value(ours, "source"));
	EXPECT_EQ(0, compat_value(ours, "size"));
	EXPECT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  compat_value(ours, "pread_past"));
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

/*
 * The device flushes of @cmd[0..@n) through a new ring made with @flags:
 * each CQE's res into @res. A ring without IORING_SETUP_SQE128 gets the
 * first 16 bytes of each command area, all that its SQEs hold.
 */
static int uring_run(const struct pmemflush_flush_cmd *cmd, int n,
		     unsigned int flags, int *res)
{
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int i, ret;

	ret = io_uring_queue_init(8, &ring, flags);
	if (ret)
		return ret;
	for (i = 0; i < n && i < 8; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		if (flags & IORING_SETUP_SQE128) {
			pmemflush_prep_flush_cmd(sqe, &cmd[i]);
		} else {
			io_uring_prep_rw(IORING_OP_URING_CMD, sqe, cmd[i].dev_fd,
					 NULL, 0, 0);
			sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
			memcpy(sqe->cmd, cmd[i].area, 16);
		}
		sqe->user_data = i;
	}
	ret = io_uring_submit(&ring);
	for (i = 0; ret == n && i < n; i++) {
		if (io_uring_wait_cqe(&ring, &cqe)) {
			ret = -EIO;
			break;
		}
		res[cqe->user_data] = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret == n ? 0 : ret < 0 ? ret : -EIO;
}

/*
 * Device flushes of @fd's region so far, from the module's group-commit
 * counters: the commands' flushes run in the region's worker, which a
 * probe filtered on this process does not see.
 */
static long long region_flushes(int fd)
{
	unsigned long long issued, completed;
	struct pmemflush_query q;
	int dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC), ret;

	if (dev < 0)
		return -1;
	ret = pmf_query(dev, fd, &q);
	close(dev);
	if (ret || pmf_region_seq(q.region_id, &issued, &completed))
		return -1;
	return completed;
}

/* @fd mapped with these options; 0 or the library's error */
static int vm_map(int fd, enum pmem2_granularity gran, size_t len,
		  enum pmem2_sharing_type sharing, unsigned int prot,
		  struct pmem2_vm_reservation *rsv, size_t rsv_off,
		  struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int ret;

	if (pmem2_config_new(&cfg))
		return -1;
	pmem2_config_set_required_store_granularity(cfg, gran);
	pmem2_config_set_length(cfg, len);
	ret = pmem2_config_set_sharing(cfg, sharing);
	if (!ret)
		ret = pmem2_config_set_protection(cfg, prot);
	if (!ret)
		ret = pmem2_config_set_vm_reservation(cfg, rsv, rsv_off);
	if (!ret)
		ret = pmem2_source_from_fd(&src, fd);
	if (!ret) {
		ret = pmem2_map_new(map, cfg, src);
		pmem2_source_delete(&src);
	}
	pmem2_config_delete(&cfg);
	return ret;
}

#define VM_RW (PMEM2_PROT_READ | PMEM2_PROT_WRITE)

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

/*
 * The same through io_uring: where the deep flush was an ioctl by id
 * (virtio-pmem device-dax) prepare leaves a command and the ring runs it
 * with no ioctl, sharing device flushes among the three; elsewhere prepare
 * completes the deep flush itself and leaves nothing to submit.
 */
TEST_F(lib, deep_flush_through_uring)
{
	struct pmemflush_flush_cmd cmd[3];
	long long fs0, fs1, rf0, rf1;
	int res[3], i, n = 0;
	struct kcount k;

	ASSERT_EQ(0, map_target(_metadata, self));
	rf0 = region_flushes(self->fd);
	ASSERT_EQ(0, kcount_start(&k));
	fs0 = fsync_count(variant);
	for (i = 0; i < 3; i++) {
		memset(self->addr + 4096 * i, i + 5, 64);
		ASSERT_EQ(0, pmemflush_deep_flush_prepare(self->map,
				self->addr + 4096 * i, 64, &cmd[i]));
		n += cmd[i].dev_fd >= 0;
	}
	if (n)
		ASSERT_EQ(0, uring_run(cmd, n, IORING_SETUP_SQE128, res));
	kcount_stop(&k);
	fs1 = fsync_count(variant);
	rf1 = region_flushes(self->fd);
	EXPECT_EQ(0, k.ioctls);
	if (variant->by_id) {
		ASSERT_EQ(3, n);
		for (i = 0; i < 3; i++)
			EXPECT_EQ(0, pmemflush_flush_cmd_result(&cmd[i], res[i]));
		TH_LOG("3 commands: %lld device flushes, %lld host fsyncs",
		       rf1 - rf0, fs1 - fs0);
		/* the region's worker flushed, not this thread */
		EXPECT_EQ(0, k.flushes);
		ASSERT_LE(0, rf0);
		EXPECT_LE(rf0 + 1, rf1);
		EXPECT_GE(rf0 + 3, rf1);
		if (variant->fsync_env)
			EXPECT_LE(fs0 + 1, fs1);
	} else {
		EXPECT_EQ(0, n);
		if (variant->granularity == PMEM2_GRANULARITY_PAGE) {
			EXPECT_LE(1, k.flushes);	/* msync */
		} else {
			EXPECT_EQ(0, k.flushes);
		}
	}
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

/*
 * What the source says about itself (device_id, usc, numa_node, size,
 * alignment) and pread/pwrite_mcsafe, from both libraries: QEMU's NVDIMMs
 * have nfit ids but no dirty shutdown count; virtio-pmem regions no DIMMs.
 */
TEST_F_TIMEOUT(lib, source_same_as_pmdk, 300)
{
	source_compare(_metadata, self->path, 1);
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

#ifdef PMF_STACK_NFIT_TEST
/*
 * Flush hints through io_uring: eight commands, no ioctl, between one and
 * eight device flushes (group commit). Deep flushes of 0 bytes: nothing
 * here touches the mapping (nfit_test DAX faults crash the guest).
 */
TEST(hints_devdax_uring)
{
	const char *path = getenv("PMF_HINTS_DEVDAX");
	struct pmemflush_flush_cmd cmd[8];
	struct pmem2_map *map;
	long long rf0, rf1;
	struct kcount k;
	int fd, i, res[8];

	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm_map(fd, PMEM2_GRANULARITY_PAGE, 0, PMEM2_SHARED, VM_RW,
			    NULL, 0, &map));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pmemflush_deep_flush_prepare(map,
				pmem2_map_get_address(map), 0, &cmd[i]));
		ASSERT_LE(0, cmd[i].dev_fd);
	}
	rf0 = region_flushes(fd);
	ASSERT_LE(0, rf0);
	ASSERT_EQ(0, kcount_start(&k));
	ASSERT_EQ(0, uring_run(cmd, 8, IORING_SETUP_SQE128, res));
	kcount_stop(&k);
	rf1 = region_flushes(fd);
	for (i = 0; i < 8; i++)
		EXPECT_EQ(0, pmemflush_flush_cmd_result(&cmd[i], res[i]));
	TH_LOG("8 commands: %lld device flushes", rf1 - rf0);
	EXPECT_EQ(0, k.ioctls);
	EXPECT_EQ(0, k.flushes);	/* the region's worker's, not ours */
	EXPECT_LE(rf0 + 1, rf1);
	EXPECT_GE(rf0 + 8, rf1);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
}
#endif

#ifdef PMF_STACK_QEMU
/* mapping options and reservations (issue 10) */

/*
 * What io_uring cannot run goes through the ioctl, reported: on virtio-pmem
 * device-dax (a device flush, so a command to submit) a 64-byte SQE
 * (EMSGSIZE) and an IOPOLL ring (EOPNOTSUPP) each end in one ioctl and one
 * device flush, and pmemflush_flush_cmd_result() returns 1.
 */
TEST(uring_refusal_falls_back)
{
	static const unsigned int rings[] = {
		0, IORING_SETUP_SQE128 | IORING_SETUP_IOPOLL,
	};
	static const int why[] = { -EMSGSIZE, -EOPNOTSUPP };
	const char *path = getenv("PMF_VIRTIO_DEVDAX");
	struct pmemflush_flush_cmd cmd;
	struct pmem2_map *map;
	struct kcount k;
	int fd, i, res;
	char *a;

	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vm_map(fd, PMEM2_GRANULARITY_PAGE, 0, PMEM2_SHARED, VM_RW,
			    NULL, 0, &map));
	a = pmem2_map_get_address(map);
	for (i = 0; i < 2; i++) {
		memset(a, 0x60 + i, 64);
		ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a, 64, &cmd));
		ASSERT_LE(0, cmd.dev_fd);
		ASSERT_EQ(0, kcount_start(&k));
		ASSERT_EQ(0, uring_run(&cmd, 1, rings[i], &res));
		EXPECT_EQ(why[i], res);
		EXPECT_EQ(1, pmemflush_flush_cmd_result(&cmd, res));
		kcount_stop(&k);
		TH_LOG("%s", pmem2_errormsg());
		EXPECT_EQ(1, k.ioctls);
		EXPECT_EQ(1, k.flushes);
	}
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
}


/* the perms of the /proc/self/maps line holding @p, "none" if unmapped */
static void vm_perms_at(const void *p, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	strcpy(perms, "none");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char pr[5];

		if (sscanf(line, "%lx-%lx %4s", &a, &b, pr) == 3 &&
		    (uintptr_t)p >= a && (uintptr_t)p < b) {
			memcpy(perms, pr, 5);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* the device-dax alignment, as sysfs tells it (its own or its nd parent's) */
static size_t vm_devdax_align(int fd)
{
	char path[PATH_MAX];
	struct stat st;
	long long v;

	if (fstat(fd, &st))
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/align",
		 major(st.st_rdev), minor(st.st_rdev));
	v = pmf_read_ll(path);
	if (v <= 0) {
		snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device/align",
			 major(st.st_rdev), minor(st.st_rdev));
		v = pmf_read_ll(path);
	}
	return v > 0 ? (size_t)v : 0;
}


/*
 * Device-dax inside a reservation: at an offset that is a multiple of the
 * device's alignment it lands exactly there and reaches the device; at one
 * that is not, PMEM2_E_ADDRESS_UNALIGNED (libpmem2's check), and the
 * placeholder comes back when the map goes.
 */
TEST(devdax_in_reservation)
{
	const char *path = getenv("PMF_NFIT_DEVDAX");
	struct pmem2_map *map, *plain, *f;
	struct pmem2_vm_reservation *rsv;
	size_t align, len = 2 << 20;
	char perms[5], *base, *a;
	int fd;

	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	align = vm_devdax_align(fd);
	ASSERT_NE(0, align);
	TH_LOG("%s alignment %zu", path, align);
	if (len < align)
		len = align;
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 4 * len));
	base = pmem2_vm_reservation_get_address(rsv);

	if (align > 4096) {
		EXPECT_EQ(PMEM2_E_ADDRESS_UNALIGNED,
			  vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED,
				 VM_RW, rsv, align / 2, &map));
	} else {
		TH_LOG("page-aligned device: no misaligned page offset exists");
	}
	EXPECT_EQ(PMEM2_E_OFFSET_UNALIGNED,
		  vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED, VM_RW,
			 rsv, 100, &map));
	EXPECT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED, VM_RW,
			 rsv, 3 * len + align, &map));
	vm_perms_at(base + align, perms);
	EXPECT_STREQ("---p", perms);

	ASSERT_EQ(0, vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED,
			    VM_RW, rsv, len + align, &map));
	a = pmem2_map_get_address(map);
	EXPECT_EQ(base + len + align, a);
	vm_perms_at(a, perms);
	EXPECT_STREQ("rw-s", perms);
	EXPECT_EQ(PMEM2_E_MAPPING_EXISTS,
		  vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED, VM_RW,
			 rsv, len, &f));
	EXPECT_EQ(0, pmem2_vm_reservation_map_find(rsv, 2 * len, 1, &f));
	EXPECT_EQ(map, f);
	memset(a + 64, 0x5a, 64);
	pmem2_get_persist_fn(map)(a + 64, 64);
	EXPECT_EQ(0, pmem2_deep_flush(map, a + 64, 64));
	/* the same bytes through a map outside any reservation */
	ASSERT_EQ(0, vm_map(fd, PMEM2_GRANULARITY_PAGE, len, PMEM2_SHARED,
			    VM_RW, NULL, 0, &plain));
	EXPECT_EQ(0x5a, ((char *)pmem2_map_get_address(plain))[100]);
	EXPECT_EQ(0, pmem2_map_delete(&plain));

	EXPECT_EQ(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
		  pmem2_vm_reservation_delete(&rsv));
	EXPECT_EQ(0, pmem2_map_delete(&map));
	vm_perms_at(a, perms);
	EXPECT_STREQ("---p", perms);
	EXPECT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	vm_perms_at(base, perms);
	EXPECT_STREQ("none", perms);
	close(fd);
}

/* a private map of a DAX file: BYTE, no device traffic, the medium untouched */
TEST(private_dax_file)
{
	const char *dir = getenv("PMF_NFIT_EXT4");
	char path[PATH_MAX], buf[8] = "";
	struct pmem2_map *map;
	struct kcount k;
	char *a;
	int fd;

	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/pmf-private", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 2 << 20));
	ASSERT_EQ(5, pwrite(fd, "orig", 5, 4096));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, vm_map(fd, PMEM2_GRANULARITY_BYTE, 0, PMEM2_PRIVATE,
			    VM_RW, NULL, 0, &map));
	EXPECT_EQ(PMEM2_GRANULARITY_BYTE, pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	EXPECT_STREQ("orig", a + 4096);
	ASSERT_EQ(0, kcount_start(&k));
	memcpy(a + 4096, "priv", 5);
	pmem2_get_persist_fn(map)(a + 4096, 5);
	EXPECT_EQ(0, pmem2_deep_flush(map, a + 4096, 5));
	kcount_stop(&k);
	EXPECT_EQ(0, k.ioctls);
	EXPECT_EQ(0, k.flushes);
	EXPECT_EQ(5, pread(fd, buf, 5, 4096));
	EXPECT_STREQ("orig", buf);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	EXPECT_EQ(5, pread(fd, buf, 5, 4096));
	EXPECT_STREQ("orig", buf);
	close(fd);
	unlink(path);
}

/*
 * A read-only map of an O_RDONLY DAX file: REGISTER by address takes only a
 * writable shared map, so none is tried; the deep flush is msync (no ioctl).
 */
TEST(readonly_dax_file)
{
	const char *dir = getenv("PMF_NFIT_EXT4");
	char path[PATH_MAX], perms[5];
	struct pmem2_map *map;
	struct kcount k;
	int fd, ro;
	char *a;

	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/pmf-readonly", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 2 << 20));
	ASSERT_EQ(6, pwrite(fd, "ronly", 6, 8192));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	EXPECT_EQ(PMEM2_E_NO_ACCESS,
		  vm_map(ro, PMEM2_GRANULARITY_PAGE, 0, PMEM2_SHARED, VM_RW,
			 NULL, 0, &map));
	ASSERT_EQ(0, kcount_start(&k));
	ASSERT_EQ(0, vm_map(ro, PMEM2_GRANULARITY_PAGE, 0, PMEM2_SHARED,
			    PMEM2_PROT_READ, NULL, 0, &map));
	a = pmem2_map_get_address(map);
	TH_LOG("read-only DAX file map: granularity %d",
	       pmem2_map_get_store_granularity(map));
	vm_perms_at(a, perms);
	EXPECT_STREQ("r--s", perms);
	EXPECT_STREQ("ronly", a + 8192);
	EXPECT_EQ(0, pmem2_deep_flush(map, a + 8192, 6));
	EXPECT_EQ(0, pmem2_deep_flush(map, a, 2 << 20));
	kcount_stop(&k);
	/* at most the QUERY of pmem2_map_new(): no REGISTER, no FLUSH */
	EXPECT_GE(1, k.ioctls);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	close(ro);
	unlink(path);
}
#endif

#ifdef PMF_STACK_NFIT_TEST
#include <stdarg.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

/*
 * Bad blocks (issue 10): errors injected through nfit_test's ARS emulation
 * (ndctl inject-error) into namespaces of our own in the hints region, then
 * the same pmem2_compat walk against PMDK and against us.
 */

/* a shell command's stdout into @out; its exit status or -1 */
static int bb_sh(char *out, size_t len, const char *fmt, ...)
	__attribute__((__format__(__printf__, 3, 4)));
static int bb_sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024];
	size_t got = 0, n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (got + 1 < len && (n = fread(out + got, 1, len - 1 - got, p)) > 0)
		got += n;
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* "key":"value" of ndctl's JSON */
static int bb_json(const char *json, const char *key, char *val, size_t len)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(json, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= len)
		return -1;
	snprintf(val, len, "%.*s", (int)(e - p), p);
	return 0;
}

/* a 16 MiB namespace of @mode in the hints region: its name and device */
static int bb_make_ns(const char *mode, char *ns, char *dev, size_t len)
{
	static char out[4096];
	int r = pmf_sysfs_region(getenv("PMF_HINTS_DEVDAX"));

	if (r < 0 || bb_sh(out, sizeof(out),
			   "ndctl create-namespace -b nfit_test.0 -r region%d -m %s -s 16M %s 2>&1",
			   r, mode, strcmp(mode, "devdax") ? "" : "-a 4K"))
		return -1;
	if (bb_json(out, "dev", ns, len) ||
	    bb_json(out, strcmp(mode, "devdax") ? "blockdev" : "chardev", dev,
		    len))
		return -1;
	return 0;
}

static void bb_destroy_ns(const char *ns)
{
	char out[1024];

	bb_sh(out, sizeof(out), "ndctl destroy-namespace -f %s 2>&1", ns);
}

/* inject @count sectors at namespace sector @block (waits for the scrub) */
static int bb_inject(const char *ns, unsigned long long block,
		     unsigned long long count)
{
	static char out[8192];

	return bb_sh(out, sizeof(out),
		     "ndctl inject-error --block=%llu --count=%llu %s 2>&1",
		     block, count, ns);
}

/* both builds' output for @action on @target; equal, and returned in @ours */
static void bb_compare(struct __test_metadata *_metadata, const char *action,
		       const char *target, int as_nobody, char *ours,
		       size_t len)
{
	static char pmdk[8192];

	run_compat("PMF_COMPAT_PMDK", action, target, as_nobody, pmdk,
		   sizeof(pmdk));
	run_compat("PMF_COMPAT_OURS", action, target, as_nobody, ours, len);
	EXPECT_STREQ(pmdk, ours) TH_LOG("%s %s", action, target);
	TH_LOG("%s %s%s:\n%s", action, target, as_nobody ? " (nobody)" : "",
	       ours);
}

/* each ndctl inject-error waits for a scrub: ~10 s under TCG */
FIXTURE(bb)
{
	char ns[64];
	const char *mnt;
};

FIXTURE_SETUP(bb)
{
	self->ns[0] = '\0';
	self->mnt = NULL;
}

FIXTURE_TEARDOWN(bb)
{
	char out[1024];

	if (self->mnt)
		bb_sh(out, sizeof(out), "umount %s 2>&1", self->mnt);
	if (self->ns[0])
		bb_destroy_ns(self->ns);
}

TEST_F_TIMEOUT(bb, devdax, 400)
{
	char *ns = self->ns, dev[64], path[PATH_MAX], want[256];
	static char out[8192];
	long long size;

	ASSERT_EQ(0, bb_make_ns("devdax", ns, dev, sizeof(self->ns)));
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/size", dev);
	size = pmf_read_ll(path);
	ASSERT_LT(4096, size);
	snprintf(path, sizeof(path), "/dev/%s", dev);

	bb_compare(_metadata, "badblocks", path, 0, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext 0\nnext -100029\n", out);

	/* the first sector, 9 inside, the last two */
	ASSERT_EQ(0, bb_inject(ns, 0, 1));
	ASSERT_EQ(0, bb_inject(ns, 40, 9));
	ASSERT_EQ(0, bb_inject(ns, size / 512 - 2, 2));
	bb_compare(_metadata, "badblocks", path, 0, out, sizeof(out));
	snprintf(want, sizeof(want),
		 "source 0\ncontext 0\nbb 0 512\nbb 20480 4608\nbb %lld 1024\nnext -100029\n",
		 size - 1024);
	EXPECT_STREQ(want, out);

	/* the bounds are root-only: both fail the same way for nobody */
	ASSERT_EQ(0, chmod(path, 0666));
	bb_compare(_metadata, "badblocks", path, 1, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext -100028\n", out);
	EXPECT_EQ(0, chmod(path, 0600));

	/* PMDK clears the first two, we the last (CLEAR_ERROR via /dev/ndctl0) */
	run_compat("PMF_COMPAT_OURS", "bbclear", path, 0, out, sizeof(out));
	TH_LOG("ours bbclear:\n%s", out);
	snprintf(want, sizeof(want), "clear %lld 1024 0\n", size - 1024);
	EXPECT_NE(NULL, strstr(out, want));
	EXPECT_NE(NULL, strstr(out, "clear 0 512 0\n"));
	EXPECT_NE(NULL, strstr(out, "next_after -100029\n"));
	ASSERT_EQ(0, bb_inject(ns, 40, 9));
	run_compat("PMF_COMPAT_PMDK", "bbclear", path, 0, out, sizeof(out));
	TH_LOG("PMDK bbclear:\n%s", out);
	EXPECT_NE(NULL, strstr(out, "clear 20480 4608 0\n"));
	EXPECT_NE(NULL, strstr(out, "next_after -100029\n"));
	ASSERT_EQ(0, bb_inject(ns, 8, 8));
	run_compat("PMF_COMPAT_OURS", "bbclear", path, 0, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext 0\nbb 4096 4096\nclear 4096 4096 0\nnext -100029\n"
		     "context_after 0\nnext_after -100029\n", out);
	bb_compare(_metadata, "badblocks", path, 0, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext 0\nnext -100029\n", out);
}

/* a file on ext4 (no DAX: nfit_test DAX faults crash the guest) on fsdax */
TEST_F_TIMEOUT(bb, fsdax_file, 300)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[4];
	} q;
	char *ns = self->ns, dev[64], f[64], g[64], want[256];
	static char out[8192], buf[2 << 20];
	unsigned long long p0, len0;
	const char *mnt = "/mnt/pmf-bb";
	int fd, mounted;

	ASSERT_EQ(0, bb_make_ns("fsdax", ns, dev, sizeof(self->ns)));
	mounted = !bb_sh(out, sizeof(out),
			 "modprobe ext4 && mkfs.ext4 -q -F -b 4096 /dev/%s && "
			 "mkdir -p %s && mount -t ext4 -o noatime /dev/%s %s 2>&1",
			 dev, mnt, dev, mnt);
	ASSERT_TRUE(mounted) TH_LOG("%s", out);
	self->mnt = mnt;
	snprintf(f, sizeof(f), "%s/f", mnt);
	snprintf(g, sizeof(g), "%s/g", mnt);
	memset(buf, 0x5a, sizeof(buf));
	fd = open(f, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(fd));
	memset(&q, 0, sizeof(q));
	q.fm.fm_length = sizeof(buf);
	q.fm.fm_flags = FIEMAP_FLAG_SYNC;
	q.fm.fm_extent_count = 4;
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FIEMAP, &q.fm));
	close(fd);
	ASSERT_LE(1, q.fm.fm_mapped_extents);
	p0 = q.ext[0].fe_physical / 512;
	len0 = q.ext[0].fe_length / 512;
	ASSERT_LE(6 * 8, len0);
	fd = open(g, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3 * 4096, pwrite(fd, buf, 3 * 4096, 0));
	ASSERT_EQ(0, fsync(fd));
	close(fd);

	bb_compare(_metadata, "badblocks", f, 0, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext 0\nnext -100029\n", out);

	/*
	 * 4 sectors across the start of the first extent (the file may end
	 * at the end of the device), 2 in its sixth block
	 */
	ASSERT_LE(2, p0);
	ASSERT_EQ(0, bb_inject(ns, p0 - 2, 4));
	ASSERT_EQ(0, bb_inject(ns, p0 + 5 * 8 + 3, 2));
	bb_compare(_metadata, "badblocks", f, 0, out, sizeof(out));
	snprintf(want, sizeof(want), "source 0\ncontext 0\nbb %llu 4096\nbb %llu 4096\nnext -100029\n",
		 q.ext[0].fe_logical, q.ext[0].fe_logical + 5 * 4096);
	EXPECT_STREQ(want, out);
	bb_compare(_metadata, "badblocks", g, 0, out, sizeof(out));
	/* the block device itself is no source (libpmem2 says so too) */
	snprintf(want, sizeof(want), "/dev/%s", dev);
	bb_compare(_metadata, "badblocks", want, 0, out, sizeof(out));

	/* clear: the blocks are swapped for new ones, the file walks clean */
	run_compat("PMF_COMPAT_OURS", "bbclear", f, 0, out, sizeof(out));
	TH_LOG("ours bbclear:\n%s", out);
	EXPECT_NE(NULL, strstr(out, "clear 0 4096 0\n"));
	EXPECT_NE(NULL, strstr(out, "next_after -100029\n"));
	EXPECT_EQ(NULL, strstr(out, "\nafter "));
	fd = open(f, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 0));
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(0, buf[4095]);
	ASSERT_EQ(4096, pread(fd, buf, 4096, 4096));
	EXPECT_EQ(0x5a, buf[0]);
	close(fd);
	bb_compare(_metadata, "badblocks", f, 0, out, sizeof(out));
	EXPECT_STREQ("source 0\ncontext 0\nnext -100029\n", out);

	EXPECT_EQ(0, bb_sh(out, sizeof(out), "umount %s 2>&1", mnt));
	self->mnt = NULL;
}
/*
 * nfit_test's DIMMs have nfit ids and dirty shutdown counts: device_id, usc
 * and numa_node of the hints region's device-dax and of a file on its fsdax
 * namespace (ext4 without DAX: nothing here maps it), both libraries.
 */
FIXTURE(src) {
	int unused;
};

FIXTURE_SETUP(src)
{
}

FIXTURE_TEARDOWN(src)
{
}

TEST_F_TIMEOUT(src, hints_same_as_pmdk, 300)
{
	const char *dax = getenv("PMF_HINTS_DEVDAX");
	const char *pmem = getenv("PMF_HINTS_PMEM");
	const char *mnt = "/mnt/pmf-src";
	char cmd[512], f[64];
	int fd, ret;

	ASSERT_NE(NULL, dax);
	ASSERT_NE(NULL, pmem);
	source_compare(_metadata, dax, 0);
	TH_LOG("mkfs and mount %s", pmem);
	snprintf(cmd, sizeof(cmd),
		 "modprobe ext4 && mkfs.ext4 -q -F -b 4096 %s && mkdir -p %s && mount -t ext4 -o noatime %s %s",
		 pmem, mnt, pmem, mnt);
	ASSERT_EQ(0, system(cmd));
	snprintf(f, sizeof(f), "%s/f", mnt);
	fd = open(f, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ret = fd >= 0 ? ftruncate(fd, 1 << 20) : -1;
	if (fd >= 0)
		close(fd);
	if (!ret)
		source_compare(_metadata, f, 0);
	snprintf(cmd, sizeof(cmd), "umount %s", mnt);
	EXPECT_EQ(0, system(cmd));
	ASSERT_EQ(0, ret);
}
#endif

TEST_HARNESS_MAIN
