// SPDX-License-Identifier: GPL-2.0
/*
 * CXL persistent memory (QEMU's cxl-type3 through cxl_pmem; two devices, one
 * region interleaved over both): every target kind on the CXL nd region
 * resolves, DAX files of ext4 and xfs on it among them, QUERY says the region is CXL with no
 * device flush, FLUSH by fd and by id issue only barriers (nvdimm_flush()
 * runs, PMEMFLUSH_FLUSHED_DEVICE stays clear), also as io_uring commands
 * (completed when issued, flush_seq 0), and libpmemflush's deep flush
 * there makes no system call; and, last, that a CXL region replaced under
 * an open /dev/pmemflush (disable/enable, destroy/create: a new nd region of
 * the same number) is a new region to the module. Runs on the cxl stack
 * only; every test says SKIP with the stack's reason when the kernel found
 * no CXL memory device.
 */
#include <dirent.h>
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <libpmemflush.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

/* why this boot has no CXL region, or NULL */
static const char *cxl_skip(void)
{
	return getenv("PMF_CXL_SKIP");
}

FIXTURE(cxl)
{
	int dev;
	int fd;
	int region;
};

FIXTURE_VARIANT(cxl)
{
	const char *env;
	__u32 kind;
	int registers;	/* REGISTER accepts it (DAX-capable) */
};

FIXTURE_VARIANT_ADD(cxl, devdax) {
	.env = "PMF_CXL_DEVDAX", .kind = PMEMFLUSH_TARGET_DEVDAX, .registers = 1,
};

FIXTURE_VARIANT_ADD(cxl, fsdax_block) {
	.env = "PMF_CXL_PMEM", .kind = PMEMFLUSH_TARGET_BLOCK, .registers = 1,
};

/* raw mode has no struct pages, hence no DAX: by fd only */
FIXTURE_VARIANT_ADD(cxl, raw_block) {
	.env = "PMF_CXL_RAW", .kind = PMEMFLUSH_TARGET_BLOCK,
};

FIXTURE_SETUP(cxl)
{
	const char *path = getenv(variant->env), *r = getenv("PMF_CXL_REGION");

	/* the 6.1 harness runs the test after a SKIP here: they check too */
	self->fd = self->dev = -1;
	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_NE(NULL, path);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1, sscanf(r, "region%d", &self->region));
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	/* the region sysfs shows, independently of the module */
	ASSERT_EQ(self->region, pmf_sysfs_region(path));
}

FIXTURE_TEARDOWN(cxl)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev >= 0)
		close(self->dev);
}

static void check_query(struct __test_metadata *_metadata,
			const struct pmemflush_query *q, int region, __u32 kind)
{
	EXPECT_EQ(region, (int)q->region_id);
	EXPECT_EQ(0, q->has_flush);
	EXPECT_EQ(PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, q->persistence_domain);
	EXPECT_EQ(kind, q->target_kind);
	EXPECT_TRUE(q->out_flags & PMEMFLUSH_REGION_CXL);
	EXPECT_FALSE(q->out_flags & PMEMFLUSH_REGION_ASYNC);
	EXPECT_LT(0, q->target_size);
}

TEST_F(cxl, query_and_flush)
{
	struct pmemflush_query q;
	struct pmemflush_flush f;
	struct pmf_probe probe;
	long long id = -1;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	check_query(_metadata, &q, self->region, variant->kind);

	ASSERT_EQ(0, pmf_probe_start(&probe, "nvdimm_flush"));
	ASSERT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f));
	EXPECT_EQ(self->region, (int)f.region_id);
	/* barriers only: no flush hints, no flush callback */
	EXPECT_EQ(0, f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
	EXPECT_EQ(0, f.flush_seq);
	if (variant->registers) {
		id = pmf_register(self->dev, self->fd);
		ASSERT_LT(0, id);
		ASSERT_EQ(0, pmf_query_id(self->dev, id, &q));
		check_query(_metadata, &q, self->region, variant->kind);
		ASSERT_EQ(0, pmf_flush_id(self->dev, id, 0, 4096, &f));
		EXPECT_EQ(0, f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
		EXPECT_EQ(0, pmf_unregister(self->dev, id));
	} else {
		EXPECT_EQ(-1, pmf_register(self->dev, self->fd));
		EXPECT_EQ(EOPNOTSUPP, errno);
	}
	EXPECT_EQ(variant->registers ? 2 : 1, pmf_probe_count(&probe));
	pmf_probe_stop(&probe);
	/* the range is checked against the CXL target's size */
	EXPECT_EQ(-1, pmf_flush(self->dev, self->fd, q.target_size, 1, NULL));
	EXPECT_EQ(ERANGE, errno);
}

/* FLUSH as an io_uring command: the same barriers, completed when issued */
static int cxl_cmd(struct io_uring *ring, int dev, __u32 flags, int target,
		   __u64 offset, __u64 *seq)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = flags, .fd = target,
		.offset = offset, .length = offset ? 1 : 4096,
	};
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int res;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev, NULL, 0, 0);
	sqe->cmd_op = PMEMFLUSH_URING_CMD_FLUSH;
	memset(sqe->cmd, 0, 80);
	memcpy(sqe->cmd, &f, sizeof(f));
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
		return -1000;
	res = cqe->res;
	*seq = cqe->big_cqe[0];
	io_uring_cqe_seen(ring, cqe);
	return res;
}

TEST_F(cxl, uring_flush)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32,
	};
	struct pmemflush_query q;
	struct pmf_probe probe;
	struct io_uring ring;
	long long id = -1;
	__u64 seq;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	ASSERT_EQ(0, io_uring_queue_init_params(8, &ring, &p));
	if (variant->registers) {
		id = pmf_register(self->dev, self->fd);
		ASSERT_LT(0, id);
	}
	ASSERT_EQ(0, pmf_probe_start(&probe, "nvdimm_flush"));
	seq = ~0ULL;
	EXPECT_EQ(0, cxl_cmd(&ring, self->dev, 0, self->fd, 0, &seq));
	EXPECT_EQ(0, seq);
	if (variant->registers) {
		seq = ~0ULL;
		EXPECT_EQ(0, cxl_cmd(&ring, self->dev, PMEMFLUSH_BY_ID, (int)id,
				     0, &seq));
		EXPECT_EQ(0, seq);
	}
	/*
	 * the command by id ran nvdimm_flush() in this thread; the one by fd
	 * was reissued from an io-wq worker (resolving an fd may sleep),
	 * whose pid the probe's filter leaves out
	 */
	EXPECT_EQ(variant->registers ? 1 : 0, pmf_probe_count(&probe));
	pmf_probe_stop(&probe);
	EXPECT_EQ(-ERANGE, cxl_cmd(&ring, self->dev, 0, self->fd,
				   q.target_size, &seq));
	if (variant->registers)
		EXPECT_EQ(0, pmf_unregister(self->dev, id));
	io_uring_queue_exit(&ring);
}

/* the native API reports the provider */
TEST_F(cxl, native_query)
{
	struct pmemflush_info info;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(0, pmemflush_fd_query(self->fd, &info));
	EXPECT_EQ(self->region, (int)info.region_id);
	EXPECT_EQ(0, info.has_flush);
	EXPECT_TRUE(info.flags & PMEMFLUSH_INFO_REGION_CXL);
}

/*
 * libpmemflush on CXL device-dax: CACHE_LINE (MAP_SYNC, ADR), and a deep
 * flush is the CPU's write-back alone, no ioctl and no nvdimm_flush(). A
 * few lines only: each access to emulated CXL memory is slow under TCG.
 */
TEST(library_devdax_no_syscall)
{
	const char *path = getenv("PMF_CXL_DEVDAX");
	struct pmf_probe flush, ioctls;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	char *a, *b;
	int fd, i;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	EXPECT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmf_probe_start(&flush, "nvdimm_flush"));
	ASSERT_EQ(0, pmf_probe_start(&ioctls, "pmemflush:pmemflush_char_ioctl"));
	for (i = 0; i < 3; i++) {
		a[i * 64] = (char)(0x40 + i);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + i * 64, 1));
	}
	EXPECT_EQ(0, pmf_probe_count(&flush));
	EXPECT_EQ(0, pmf_probe_count(&ioctls));
	pmf_probe_stop(&flush);
	pmf_probe_stop(&ioctls);

	/*
	 * The stores are in the device: through this map and a second one.
	 * (QEMU 7.2 dropped them on 6.1, whose single-port host bridge
	 * decoder it never saw committed; QEMU 10 interleaves two ports.)
	 */
	b = mmap(NULL, 2 << 20, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < 3; i++) {
		EXPECT_EQ((char)(0x40 + i), a[i * 64]);
		EXPECT_EQ((char)(0x40 + i), b[i * 64]);
	}
	munmap(b, 2 << 20);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
}

/*
 * DAX files of ext4 and xfs on the CXL region: they resolve as files of a
 * CXL region, flush by fd and by id with barriers only, and libpmemflush
 * maps them CACHE_LINE (MAP_SYNC) and deep-flushes them without a system
 * call. A stack whose CXL block I/O does not read back cannot have made
 * the file systems: that fails here, with setup's reason.
 */
FIXTURE(cxl_fs)
{
	int dev;
	int fd;
	int region;
	char path[PATH_MAX];
};

FIXTURE_VARIANT(cxl_fs)
{
	const char *env;
};

FIXTURE_VARIANT_ADD(cxl_fs, ext4) {
	.env = "PMF_CXL_EXT4",
};

FIXTURE_VARIANT_ADD(cxl_fs, xfs) {
	.env = "PMF_CXL_XFS",
};

FIXTURE_SETUP(cxl_fs)
{
	const char *dir = getenv(variant->env), *r = getenv("PMF_CXL_REGION");

	self->dev = self->fd = -1;
	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(NULL, getenv("PMF_CXL_FS_BROKEN"))
		TH_LOG("%s", getenv("PMF_CXL_FS_BROKEN"));
	ASSERT_NE(NULL, dir);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1, sscanf(r, "region%d", &self->region));
	snprintf(self->path, sizeof(self->path), "%s/pmf-cxl", dir);
	self->fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, 1 << 20));
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(cxl_fs)
{
	if (self->dev >= 0)
		close(self->dev);
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
}

TEST_F(cxl_fs, query_and_flush)
{
	struct pmemflush_query q;
	struct pmemflush_flush f;
	long long id;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	check_query(_metadata, &q, self->region, PMEMFLUSH_TARGET_FSDAX_FILE);
	EXPECT_TRUE(q.out_flags & PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f));
	EXPECT_EQ(self->region, (int)f.region_id);
	EXPECT_EQ(0, f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
	id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, pmf_flush_id(self->dev, id, 0, 4096, &f));
	EXPECT_EQ(self->region, (int)f.region_id);
	EXPECT_EQ(0, f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 1 << 20, 1, NULL));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

TEST_F(cxl_fs, library_map_sync_no_syscall)
{
	struct pmf_probe flush, ioctls;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	char *a, *b;
	int i;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, self->fd));
	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	EXPECT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	/*
	 * Fault the pages in first: a write fault on a MAP_SYNC mapping
	 * commits the file system's allocation before it returns
	 * (dax_finish_sync_fault()), and XFS's log force runs nvdimm_flush()
	 * in the faulting task. That is the fault's, not the deep flush's.
	 */
	for (i = 0; i < 3; i++)
		a[i * 4096] = 0;
	ASSERT_EQ(0, pmf_probe_start(&flush, "nvdimm_flush"));
	ASSERT_EQ(0, pmf_probe_start(&ioctls, "pmemflush:pmemflush_char_ioctl"));
	for (i = 0; i < 3; i++) {
		a[i * 4096] = (char)(0x50 + i);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + i * 4096, 1));
	}
	EXPECT_EQ(0, pmf_probe_count(&flush));
	EXPECT_EQ(0, pmf_probe_count(&ioctls));
	pmf_probe_stop(&flush);
	pmf_probe_stop(&ioctls);
	/* what was stored is in the file, through another map of it */
	b = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < 3; i++)
		EXPECT_EQ((char)(0x50 + i), b[i * 4096]);
	munmap(b, 1 << 20);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
}

/*
 * The region is interleaved over both devices: CXL says 2 ways, the nd
 * region has a mapping per device, and the module resolves it as one CXL
 * region without a device flush (the fixtures above run on it).
 */
TEST(interleave)
{
	const char *r = getenv("PMF_CXL_REGION");
	char p[128], v[64];
	struct pmemflush_query q;
	int region, dev, fd;
	FILE *f;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1, sscanf(r, "region%d", &region));
	snprintf(p, sizeof(p), "/sys/bus/cxl/devices/region%d/interleave_ways", region);
	f = fopen(p, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(v, sizeof(v), f));
	fclose(f);
	EXPECT_EQ(2, atoi(v));
	snprintf(p, sizeof(p), "/sys/bus/nd/devices/region%d/mappings", region);
	f = fopen(p, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(v, sizeof(v), f));
	fclose(f);
	EXPECT_EQ(2, atoi(v));
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open(getenv("PMF_CXL_DEVDAX"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmf_query(dev, fd, &q));
	check_query(_metadata, &q, region, PMEMFLUSH_TARGET_DEVDAX);
	close(fd);
	close(dev);
}

/*
 * Region replacement, last in this file: these take the CXL region away
 * and bring it back. A CXL nd region takes its number from its CXL region
 * (drivers/cxl/pmem.c: ndr_desc.memregion = cxlr->id), which
 * nd_region_release() does not free, so disabling and enabling the CXL
 * region, destroying and creating it again, or unbinding cxl_pmem's region
 * driver and binding it again, makes a new nd region device of the same
 * name, with new namespaces and a new device-dax. An open
 * /dev/pmemflush still holding targets of the old region (a cached by-fd
 * target, an id) must resolve the new device-dax to the new region, and its
 * old id must answer ENXIO: regions are named by their device, not their
 * number. (A module that looked its region objects up by number handed the
 * new device-dax the old region's object, and the flush ran on the unbound
 * nd region: a NULL pointer dereference in generic_nvdimm_flush().)
 *
 * Each test leaves the stack as setup_cxl left it, in its teardown too:
 * the same CXL and nd region and the namespaces and device names of
 * PMF_CXL_DEVDAX, PMF_CXL_PMEM and PMF_CXL_RAW (pmemflush_cmd.cxl runs
 * after this program and uses them).
 */

/* bound on each wait for the region and its devices (TCG is slow) */
#define CXL_WAIT_S	120

/* run a shell command line; its output (stdout, stderr) into @out; its exit status */
static int __attribute__((format(printf, 3, 4)))
sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024], line[256];
	size_t n = 0, l;
	va_list ap;
	FILE *p;
	int rc;

	strcpy(cmd, "{ ");
	va_start(ap, fmt);
	vsnprintf(cmd + 2, sizeof(cmd) - 16, fmt, ap);
	va_end(ap);
	strcat(cmd, "; } 2>&1");
	out[0] = '\0';
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		l = strlen(line);
		if (n + l < len) {
			memcpy(out + n, line, l + 1);
			n += l;
		}
	}
	rc = pclose(p);
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static int cxl_region_exists(int region)
{
	char p[64];

	snprintf(p, sizeof(p), "/sys/bus/cxl/devices/region%d", region);
	return access(p, F_OK) == 0;
}

/* CXL region @region is enabled: bound to the cxl_region driver */
static int cxl_region_enabled(int region)
{
	char p[64];

	snprintf(p, sizeof(p), "/sys/bus/cxl/devices/region%d/driver", region);
	return access(p, F_OK) == 0;
}

/* nd region @region exists with its driver bound */
static int nd_region_up(int region)
{
	char p[64];

	snprintf(p, sizeof(p), "/sys/bus/nd/devices/region%d/driver", region);
	return access(p, F_OK) == 0;
}

static int nd_region_gone(int region)
{
	char p[64];

	snprintf(p, sizeof(p), "/sys/bus/nd/devices/region%d", region);
	return access(p, F_OK) != 0;
}

static int on_region(const char *env, int region)
{
	const char *path = getenv(env);

	return path && pmf_sysfs_region(path) == region;
}

/* setup_cxl's namespaces are there again, under their names */
static int targets_back(int region)
{
	return on_region("PMF_CXL_DEVDAX", region) &&
	       on_region("PMF_CXL_PMEM", region) &&
	       on_region("PMF_CXL_RAW", region) &&
	       on_region("PMF_CXL_PMEM_XFS", region);
}

static int wait_for(int (*cond)(int), int arg, int seconds)
{
	time_t end = time(NULL) + seconds;

	while (!cond(arg)) {
		if (time(NULL) >= end)
			return -1;
		usleep(200 * 1000);
	}
	return 0;
}

/* the /dev node of the device-dax device on nd region @region; 0 or -1 */
static int region_devdax(int region, char *out, size_t len)
{
	char link[PATH_MAX], real[PATH_MAX], tag[32];
	DIR *d = opendir("/sys/bus/dax/devices");
	struct dirent *e;
	struct stat st;
	int rc = -1;

	if (!d)
		return -1;
	snprintf(tag, sizeof(tag), "/region%d/", region);
	while (rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/sys/bus/dax/devices/%s", e->d_name);
		if (!realpath(link, real) || !strstr(real, tag))
			continue;
		snprintf(out, len, "/dev/%s", e->d_name);
		if (!stat(out, &st) && S_ISCHR(st.st_mode))
			rc = 0;
	}
	closedir(d);
	return rc;
}

/* open @path, retrying while its driver is still probing */
static int open_wait(const char *path)
{
	time_t end = time(NULL) + CXL_WAIT_S;
	int fd;

	while ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0 && time(NULL) < end)
		usleep(200 * 1000);
	return fd;
}

static int is_mounted(const char *dir)
{
	char line[512], tag[PATH_MAX + 2];
	int found = 0;
	FILE *f;

	if (!dir)
		return 0;
	f = fopen("/proc/self/mounts", "r");
	if (!f)
		return 0;
	snprintf(tag, sizeof(tag), " %s ", dir);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, tag))
			found = 1;
	fclose(f);
	return found;
}

/* the nd region's seed namespace is there: it is bound, with no labels */
static int region_seeded(int region)
{
	char p[64];

	snprintf(p, sizeof(p), "/sys/bus/nd/devices/region%d/namespace%d.0",
		 region, region);
	return nd_region_up(region) && access(p, F_OK) == 0;
}

/*
 * Mount the file system of type @type on the namespace @dev_env names at
 * the directory @dir_env names, as setup_cxl did, when it is not mounted:
 * made again with @mkfs when the namespace was made again. 0 or -1.
 */
static int remount_fs(struct __test_metadata *_metadata, const char *type,
		      const char *dev_env, const char *dir_env, const char *mkfs)
{
	const char *dev = getenv(dev_env), *dir = getenv(dir_env);
	char out[4096];

	if (!dev || !dir || is_mounted(dir))
		return 0;
	if (!sh(out, sizeof(out), "mount -t %s -o dax,noatime %s %s", type,
		dev, dir))
		return 0;
	if (!sh(out, sizeof(out), "%s %s && mount -t %s -o dax,noatime %s %s",
		mkfs, dev, type, dev, dir))
		return 0;
	TH_LOG("mount %s: %s", dir, out);
	return -1;
}

/*
 * Bring the stack back to what setup_cxl left: CXL region @region (created
 * as setup_cxl does when it is gone, enabled when disabled), nd region
 * @region, and the namespaces of PMF_CXL_DEVDAX, PMF_CXL_PMEM and
 * PMF_CXL_RAW, created again in setup_cxl's order on a region without
 * labels, which gives them their names again. Mounts PMF_CXL_EXT4 again
 * when @remount. 0, or -1 with what failed logged.
 *
 * The labels setup_cxl's namespaces left in the label storage area cannot
 * bring them back: QEMU 7.2's cxl-type3 without "sn" has serial number 0,
 * so the region's interleave-set cookie (drivers/cxl/pmem.c: a checksum of
 * each mapping's DPA offset and device serial) is 0, and an nd region
 * with labels and a zero cookie fails to probe ("invalid
 * interleave-set-cookie", -ENODEV: seen on 6.1 and 6.12). So the labels
 * go first, while no region holds the CXL nvdimm: the first 512 KiB of the
 * label area hold both index blocks (2 x 128 KiB for 256 MiB of it).
 */
static int cxl_restore(struct __test_metadata *_metadata, int region,
		       int remount)
{
	static const char *const ns[][2] = {
		{ "devdax -M mem", "64M" }, { "fsdax -M mem", "64M" },
		{ "raw", "32M" }, { "fsdax -M mem", "384M" },
	};
	char out[4096];
	unsigned int i;

	if (targets_back(region))
		goto mount;
	if (!nd_region_gone(region) &&
	    sh(out, sizeof(out), "cxl disable-region region%d", region)) {
		TH_LOG("cxl disable-region region%d: %s", region, out);
		return -1;
	}
	if (sh(out, sizeof(out),
	       "ndctl disable-dimm -b CXL all && "
	       "ndctl zero-labels -b CXL -s 524288 all && "
	       "ndctl enable-dimm -b CXL all")) {
		TH_LOG("clearing the CXL labels: %s", out);
		return -1;
	}
	if (!cxl_region_exists(region)) {
		if (sh(out, sizeof(out),
		       "cxl create-region -m -d decoder0.0 -t pmem -w 2 mem0 mem1")) {
			TH_LOG("cxl create-region: %s", out);
			return -1;
		}
		if (!cxl_region_exists(region)) {
			TH_LOG("cxl create-region made another region than region%d: %s",
			       region, out);
			return -1;
		}
	} else if (!cxl_region_enabled(region)) {
		if (sh(out, sizeof(out), "cxl enable-region region%d", region)) {
			TH_LOG("cxl enable-region region%d: %s", region, out);
			return -1;
		}
	} else if (nd_region_gone(region) &&
		   sh(out, sizeof(out),
		      "echo pmem_region%d >/sys/bus/cxl/drivers/cxl_pmem_region/bind",
		      region)) {
		TH_LOG("binding pmem_region%d: %s", region, out);
		return -1;
	}
	if (wait_for(region_seeded, region, CXL_WAIT_S)) {
		sh(out, sizeof(out), "ndctl list -RNiu; dmesg | tail -n 20");
		TH_LOG("nd region%d not back after %d s: %s", region,
		       CXL_WAIT_S, out);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		if (!sh(out, sizeof(out),
			"ndctl create-namespace -r region%d -m %s -s %s",
			region, ns[i][0], ns[i][1]))
			continue;
		TH_LOG("ndctl create-namespace -r region%d -m %s: %s", region,
		       ns[i][0], out);
		return -1;
	}
	if (wait_for(targets_back, region, CXL_WAIT_S)) {
		sh(out, sizeof(out), "ndctl list -RNu -r region%d", region);
		TH_LOG("region%d's namespaces have other names than %s, %s, %s: %s",
		       region, getenv("PMF_CXL_DEVDAX"), getenv("PMF_CXL_PMEM"),
		       getenv("PMF_CXL_RAW"), out);
		return -1;
	}
mount:
	if (!remount)
		return 0;
	return remount_fs(_metadata, "ext4", "PMF_CXL_PMEM", "PMF_CXL_EXT4",
			  "mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0") ||
	       remount_fs(_metadata, "xfs", "PMF_CXL_PMEM_XFS", "PMF_CXL_XFS",
			  "mkfs.xfs -q -f -m reflink=0");
}

/*
 * A flusher of the old region's device-dax, by fd (its own open file) or by
 * id, running while the region goes away and comes back. Its calls are
 * counted by the phase the test was in when they returned: before the
 * takedown they succeed; once the nd region is gone only ENXIO may come
 * back, also after the new region of the same number is there: the old
 * file and id name the old device, never the new one.
 */
enum { PH_BEFORE, PH_GOING, PH_GONE, NPH };

struct flusher {
	pthread_t th;
	int dev, fd, by_id;
	__u32 id;
	volatile int *phase;
	volatile int stop;
	long ok[NPH], enxio[NPH], other;
	int other_errno;
};

static void *flusher_run(void *arg)
{
	struct flusher *f = arg;
	int rc, ph;

	while (!f->stop) {
		ph = *f->phase;
		rc = f->by_id ? pmf_flush_id(f->dev, f->id, 0, 4096, NULL) :
				pmf_flush(f->dev, f->fd, 0, 4096, NULL);
		/* a call that returned after the phase moved belongs to the later one */
		if (*f->phase > ph)
			ph = *f->phase;
		if (!rc)
			f->ok[ph]++;
		else if (errno == ENXIO)
			f->enxio[ph]++;
		else if (!f->other++)
			f->other_errno = errno;
		usleep(2000);
	}
	return NULL;
}

FIXTURE(replace)
{
	int dev;
	int dev2;
	int fd;
	int region;
	int taken_down;		/* the teardown must bring the region back */
	int unmounted;		/* and mount PMF_CXL_EXT4 and _XFS again */
	char node[PATH_MAX];	/* our twin of the device-dax node */
	struct flusher fl[2];	/* by fd, by id */
	int nfl;
	volatile int phase;
};

FIXTURE_VARIANT(replace)
{
	const char *down;	/* the command that takes the nd region away */
	const char *needs;	/* a file it writes, when the kernel may lack it */
};

FIXTURE_VARIANT_ADD(replace, disable_enable) {
	.down = "cxl disable-region region%d",
};

FIXTURE_VARIANT_ADD(replace, destroy_create) {
	.down = "cxl destroy-region -f region%d",
};

/*
 * cxl_pmem's region driver let go of the CXL region: its remove
 * unregisters the nd region (unregister_nvdimm_region(), a devm action of
 * cxl_pmem_region_probe() in drivers/cxl/pmem.c, 6.1 and 6.12); bind
 * probes a new one of the same number. 6.12's cxl_pmem drivers suppress
 * their bind attributes (suppress_bind_attrs): no such file there.
 */
FIXTURE_VARIANT_ADD(replace, unbind_bind) {
	.down = "echo pmem_region%d >/sys/bus/cxl/drivers/cxl_pmem_region/unbind",
	.needs = "/sys/bus/cxl/drivers/cxl_pmem_region/unbind",
};

FIXTURE_SETUP(replace)
{
	const char *r = getenv("PMF_CXL_REGION");

	self->dev = self->dev2 = self->fd = -1;
	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	ASSERT_NE(NULL, r);
	ASSERT_EQ(1, sscanf(r, "region%d", &self->region));
	/* the nd region has the CXL region's number */
	ASSERT_TRUE(cxl_region_exists(self->region));
	ASSERT_TRUE(targets_back(self->region));
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
}

FIXTURE_TEARDOWN(replace)
{
	int i;

	for (i = 0; i < self->nfl; i++) {
		self->fl[i].stop = 1;
		pthread_join(self->fl[i].th, NULL);
		if (self->fl[i].fd >= 0)
			close(self->fl[i].fd);
	}
	if (self->fd >= 0)
		close(self->fd);
	if (self->dev2 >= 0)
		close(self->dev2);
	if (self->dev >= 0)
		close(self->dev);
	if (self->node[0])
		unlink(self->node);
	if (cxl_skip())
		return;
	if (self->taken_down || self->unmounted)
		EXPECT_EQ(0, cxl_restore(_metadata, self->region, self->unmounted));
	EXPECT_TRUE(targets_back(self->region));
}

TEST_F_TIMEOUT(replace, new_region_same_number, 900)
{
	const char *fs[] = { getenv("PMF_CXL_EXT4"), getenv("PMF_CXL_XFS") };
	struct pmemflush_flush f;
	struct pmemflush_query q;
	char out[4096], path[PATH_MAX];
	long long id, id2;
	int rc, i, wait;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	if (variant->needs && access(variant->needs, F_OK))
		SKIP(return, "%s: not on this kernel (%s)", variant->needs,
		     strerror(errno));
	/* a cached by-fd target and an id of the old region's device-dax */
	ASSERT_EQ(0, pmf_own_node(getenv("PMF_CXL_DEVDAX"), self->node,
				  sizeof(self->node)));
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f));
	ASSERT_EQ(self->region, (int)f.region_id);
	id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id);

	/* flushers by fd and by id, running from before until the end */
	for (i = 0; i < 2; i++) {
		struct flusher *fl = &self->fl[i];

		fl->dev = self->dev;
		fl->by_id = i;
		fl->id = (__u32)id;
		fl->fd = i ? -1 : open(self->node, O_RDWR | O_CLOEXEC);
		fl->phase = &self->phase;
		ASSERT_TRUE(i || fl->fd >= 0);
		ASSERT_EQ(0, pthread_create(&fl->th, NULL, flusher_run, fl));
		self->nfl++;
	}
	for (wait = 0; wait < 100 * pmf_timeout_scale() &&
	     !(self->fl[0].ok[PH_BEFORE] && self->fl[1].ok[PH_BEFORE]); wait++)
		usleep(100 * 1000);
	close(self->fd);
	self->fd = -1;

	self->phase = PH_GOING;
	for (i = 0; i < 2; i++) {
		if (!is_mounted(fs[i]))
			continue;
		ASSERT_EQ(0, umount(fs[i]));
		self->unmounted = 1;
	}
	self->taken_down = 1;
	rc = sh(out, sizeof(out), variant->down, self->region);
	ASSERT_EQ(0, rc) TH_LOG("%s (region%d): %s", variant->down,
				self->region, out);
	ASSERT_TRUE(nd_region_gone(self->region));
	self->phase = PH_GONE;
	/* devtmpfs dropped the node: drop our twin with it */
	unlink(self->node);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);

	ASSERT_EQ(0, cxl_restore(_metadata, self->region, self->unmounted));
	self->taken_down = self->unmounted = 0;
	ASSERT_EQ(0, region_devdax(self->region, path, sizeof(path)));
	TH_LOG("nd region%d is back, device-dax %s", self->region, path);
	ASSERT_EQ(0, pmf_own_node(path, self->node, sizeof(self->node)));
	self->fd = open_wait(self->node);
	ASSERT_LE(0, self->fd);

	/* the new device-dax, through the file holding the old region's targets */
	ASSERT_EQ(0, pmf_flush(self->dev, self->fd, 0, 4096, &f));
	EXPECT_EQ(0, f.out_flags & PMEMFLUSH_FLUSHED_DEVICE);
	/* the region sysfs shows now, and what a fresh open file resolves */
	EXPECT_EQ(pmf_sysfs_region(path), (int)f.region_id);
	EXPECT_TRUE(nd_region_up(f.region_id));
	self->dev2 = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev2);
	ASSERT_EQ(0, pmf_query(self->dev2, self->fd, &q));
	EXPECT_EQ(q.region_id, f.region_id);
	EXPECT_TRUE(q.out_flags & PMEMFLUSH_REGION_CXL);
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	EXPECT_EQ(q.region_id, f.region_id);

	/* the old id named the old device-dax, which is gone for good */
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(ENXIO, errno);
	/* and a new id of the new one works */
	id2 = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id2);
	EXPECT_NE(id, id2);
	ASSERT_EQ(0, pmf_flush_id(self->dev, id2, 0, 4096, &f));
	EXPECT_EQ(self->region, (int)f.region_id);

	/* the flushers: some flushes before, never one after the region went */
	for (i = 0; i < 2; i++) {
		struct flusher *fl = &self->fl[i];

		fl->stop = 1;
		pthread_join(fl->th, NULL);
		TH_LOG("flusher by %s: before %ld ok; while going %ld ok, %ld ENXIO; gone and back %ld ok, %ld ENXIO; %ld other (first %s)",
		       fl->by_id ? "id" : "fd", fl->ok[PH_BEFORE],
		       fl->ok[PH_GOING], fl->enxio[PH_GOING], fl->ok[PH_GONE],
		       fl->enxio[PH_GONE], fl->other,
		       fl->other ? strerror(fl->other_errno) : "-");
		EXPECT_LT(0, fl->ok[PH_BEFORE]);
		EXPECT_EQ(0, fl->enxio[PH_BEFORE]);
		EXPECT_EQ(0, fl->ok[PH_GONE]);
		EXPECT_LT(0, fl->enxio[PH_GONE]);
		EXPECT_EQ(0, fl->other);
	}
	for (i = 0; i < self->nfl; i++)
		if (self->fl[i].fd >= 0)
			close(self->fl[i].fd);
	self->nfl = 0;
}

TEST_HARNESS_MAIN
