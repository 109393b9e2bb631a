// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind of target on every flush provider: QUERY describes it as sysfs
 * does, and each FLUSH reaches nvdimm_flush() exactly once, in the region
 * QUERY named, through the provider's own flush mechanism. Built once per VM
 * stack (PMF_STACK_QEMU, PMF_STACK_NFIT_TEST), with that stack's targets.
 */
#include <stddef.h>
#include <linux/fs.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#define NR_FLUSHES 5

FIXTURE(target)
{
	int dev;
	int fd;
	char path[PATH_MAX];
	__u64 size;
};

FIXTURE_VARIANT(target)
{
	const char *env;	/* names a device node, or a DAX mount */
	int in_dir;		/* env is a mount: flush a file made there */
	__u32 kind;
	int has_flush;
	__u32 domain;
	__u32 query_flags;
	__u32 flush_flags;
	int generic_flush;	/* generic_nvdimm_flush() runs per flush */
	const char *fsync_env;	/* virtio-pmem: QEMU's fsync count file */
	int reg_errno;		/* PMEMFLUSH_REGISTER refuses it so */
};

#define NFIT(e, d, k, qf)						\
	.env = e, .in_dir = d, .kind = k, .has_flush = 0,		\
	.domain = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,			\
	.query_flags = qf, .flush_flags = 0, .generic_flush = 1

#define VIRTIO(e, d, k, qf, f)						\
	.env = e, .in_dir = d, .kind = k, .has_flush = -ENXIO,		\
	.domain = PMEMFLUSH_PERSIST_UNKNOWN,				\
	.query_flags = PMEMFLUSH_REGION_ASYNC | (qf),			\
	.flush_flags = PMEMFLUSH_FLUSHED_DEVICE, .generic_flush = 0,	\
	.fsync_env = f

#define HINTS(e, k, qf)							\
	.env = e, .kind = k, .has_flush = 1,				\
	.domain = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,			\
	.query_flags = qf, .flush_flags = PMEMFLUSH_FLUSHED_DEVICE,	\
	.generic_flush = 1

#ifdef PMF_STACK_QEMU
FIXTURE_VARIANT_ADD(target, nfit_devdax) {
	NFIT("PMF_NFIT_DEVDAX", 0, PMEMFLUSH_TARGET_DEVDAX, PMEMFLUSH_DAX_SYNC),
};
FIXTURE_VARIANT_ADD(target, nfit_ext4_file) {
	NFIT("PMF_NFIT_EXT4", 1, PMEMFLUSH_TARGET_FSDAX_FILE, PMEMFLUSH_DAX_SYNC),
};
FIXTURE_VARIANT_ADD(target, nfit_xfs_file) {
	NFIT("PMF_NFIT_XFS", 1, PMEMFLUSH_TARGET_FSDAX_FILE, PMEMFLUSH_DAX_SYNC),
};
FIXTURE_VARIANT_ADD(target, nfit_fsdax_bdev) {
	NFIT("PMF_NFIT_PMEM", 0, PMEMFLUSH_TARGET_BLOCK, 0),
};
/* no dax_device to register: a raw namespace has no struct pages here */
FIXTURE_VARIANT_ADD(target, nfit_raw_bdev) {
	NFIT("PMF_NFIT_RAW", 0, PMEMFLUSH_TARGET_BLOCK, 0),
	.reg_errno = EOPNOTSUPP,
};
FIXTURE_VARIANT_ADD(target, nfit_partition) {
	NFIT("PMF_NFIT_PART", 0, PMEMFLUSH_TARGET_BLOCK, 0),
	.reg_errno = EOPNOTSUPP,
};
FIXTURE_VARIANT_ADD(target, nfit_btt) {
	NFIT("PMF_NFIT_BTT", 0, PMEMFLUSH_TARGET_BTT, 0),
	.reg_errno = EOPNOTSUPP,
};
FIXTURE_VARIANT_ADD(target, virtio_ext4_file) {
	VIRTIO("PMF_VIRTIO_EXT4", 1, PMEMFLUSH_TARGET_FSDAX_FILE, 0,
	       "PMF_VIRTIO_EXT4_FSYNC"),
};
FIXTURE_VARIANT_ADD(target, virtio_devdax) {
	VIRTIO("PMF_VIRTIO_DEVDAX", 0, PMEMFLUSH_TARGET_DEVDAX,
	       PMEMFLUSH_DAX_SYNC, "PMF_VIRTIO_DEVDAX_FSYNC"),
};
#endif

#ifdef PMF_STACK_NFIT_TEST
FIXTURE_VARIANT_ADD(target, hints_devdax) {
	HINTS("PMF_HINTS_DEVDAX", PMEMFLUSH_TARGET_DEVDAX, PMEMFLUSH_DAX_SYNC),
};
FIXTURE_VARIANT_ADD(target, hints_bdev) {
	HINTS("PMF_HINTS_PMEM", PMEMFLUSH_TARGET_BLOCK, 0),
};
#endif

/* the size the kernel should bound the range by, found without the module */
static __u64 expected_size(const char *path, int fd)
{
	char attr[128];
	struct stat st;
	__u64 size = 0;

	if (fstat(fd, &st))
		return 0;
	if (S_ISREG(st.st_mode))
		return st.st_size;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, &size) ? 0 : size;
	snprintf(attr, sizeof(attr), "/sys/dev/char/%u:%u/size",
		 major(st.st_rdev), minor(st.st_rdev));
	(void)path;
	return pmf_read_ll(attr);
}

FIXTURE_SETUP(target)
{
	const char *p = getenv(variant->env);
	static char zero[1 << 16];
	int i;

	ASSERT_NE(NULL, p) TH_LOG("%s is not set by guest-setup.sh", variant->env);
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	if (variant->in_dir) {
		snprintf(self->path, sizeof(self->path), "%s/pmf-target", p);
		self->fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_LE(0, self->fd);
		for (i = 0; i < 32; i++)
			ASSERT_EQ(sizeof(zero), pwrite(self->fd, zero, sizeof(zero),
						       (off_t)i * sizeof(zero)));
		/* nothing left for the filesystem to flush behind our back */
		ASSERT_EQ(0, fsync(self->fd));
		sync();
	} else {
		snprintf(self->path, sizeof(self->path), "%s", p);
		self->fd = open(self->path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->fd);
	}
	self->size = expected_size(self->path, self->fd);
	ASSERT_LT(0, self->size);
}

FIXTURE_TEARDOWN(target)
{
	close(self->fd);
	close(self->dev);
	if (variant->in_dir)
		unlink(self->path);
}

static __u32 sysfs_domain(int region)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path),
		 "/sys/bus/nd/devices/region%d/persistence_domain", region);
	if (pmf_read_line(path, buf, sizeof(buf)))
		return PMEMFLUSH_PERSIST_UNKNOWN;	/* hidden */
	if (!strcmp(buf, "cpu_cache"))
		return PMEMFLUSH_PERSIST_CPU_CACHE;
	if (!strcmp(buf, "memory_controller"))
		return PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	return PMEMFLUSH_PERSIST_UNKNOWN;
}

/* nvdimm_has_flush() as the region's deep_flush attribute shows it */
static int sysfs_has_flush(int region)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/nd/devices/region%d/deep_flush",
		 region);
	if (access(path, F_OK))
		return -ENXIO;	/* hidden when the region cannot tell */
	return pmf_read_ll(path);
}

TEST_F(target, query)
{
	struct pmemflush_query q;
	int region = pmf_sysfs_region(self->path);
	__u32 expect_flags = variant->query_flags;

	/* for files, ask the kernel's mmap rather than the table */
	if (variant->in_dir) {
		expect_flags &= ~PMEMFLUSH_DAX_SYNC;
		if (pmf_map_sync_works(self->fd))
			expect_flags |= PMEMFLUSH_DAX_SYNC;
		if ((expect_flags ^ variant->query_flags) & PMEMFLUSH_DAX_SYNC)
			TH_LOG("note: MAP_SYNC %s here", pmf_map_sync_works(self->fd) ?
			       "works" : "fails");
	}

	ASSERT_LE(0, region);
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	EXPECT_EQ(region, q.region_id);
	EXPECT_EQ(variant->kind, q.target_kind);
	EXPECT_EQ(self->size, q.target_size);
	EXPECT_EQ(variant->has_flush, q.has_flush);
	EXPECT_EQ(sysfs_has_flush(region), q.has_flush);
	EXPECT_EQ(variant->domain, q.persistence_domain);
	EXPECT_EQ(sysfs_domain(region), q.persistence_domain);
	EXPECT_EQ(expect_flags, q.out_flags);
}

/* NR_FLUSHES flushes of the target, by fd or by a registered id */
static void flushes_reach_region(struct __test_metadata *_metadata,
				 FIXTURE_DATA(target) *self,
				 const FIXTURE_VARIANT(target) *variant,
				 int by_id)
{
	struct pmf_probe nvdimm_flush, generic_flush;
	struct pmemflush_flush out;
	struct pmemflush_query q;
	long long fsyncs = 0, id = 0;
	const char *count = variant->fsync_env ? getenv(variant->fsync_env) : NULL;
	int i, rc;

	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	if (by_id) {
		id = pmf_register(self->dev, self->fd);
		ASSERT_LT(0, id);
	}
	ASSERT_EQ(0, pmf_probe_start(&nvdimm_flush, "nvdimm_flush"));
	ASSERT_EQ(0, pmf_probe_start(&generic_flush, "generic_nvdimm_flush"));
	if (variant->fsync_env) {
		ASSERT_NE(NULL, count);
		fsyncs = pmf_read_ll(count);
		ASSERT_LE(0, fsyncs);
	}

	for (i = 0; i < NR_FLUSHES; i++) {
		memset(&out, 0xff, sizeof(out));
		rc = by_id ? pmf_flush_id(self->dev, id, 4096 * i, 4096, &out) :
			     pmf_flush(self->dev, self->fd, 4096 * i, 4096, &out);
		ASSERT_EQ(0, rc);
		EXPECT_EQ(q.region_id, out.region_id);
		EXPECT_EQ(variant->flush_flags, out.out_flags);
	}

	EXPECT_EQ(NR_FLUSHES, pmf_probe_count(&nvdimm_flush));
	EXPECT_EQ(NR_FLUSHES * variant->generic_flush,
		  pmf_probe_count(&generic_flush));
	if (variant->fsync_env)
		EXPECT_EQ(fsyncs + NR_FLUSHES, pmf_read_ll(count));
	pmf_probe_stop(&nvdimm_flush);
	pmf_probe_stop(&generic_flush);
	if (by_id)
		EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

/*
 * Two kprobes and a registration per test: on the sanitizer kernel's one
 * vCPU beside other guests the XFS file's by_id once passed the harness's
 * default 30 s, while the same test on Debian's kernels takes seconds.
 */
TEST_F_TIMEOUT(target, flush_reaches_region, 120)
{
	flushes_reach_region(_metadata, self, variant, 0);
}

/* an id flushes exactly what its fd does; QUERY by id says the same */
TEST_F_TIMEOUT(target, by_id, 120)
{
	struct pmemflush_query q, qid;
	long long id;

	if (variant->reg_errno) {
		EXPECT_EQ(-1, pmf_register(self->dev, self->fd));
		EXPECT_EQ(variant->reg_errno, errno);
		return;
	}
	flushes_reach_region(_metadata, self, variant, 1);
	id = pmf_register(self->dev, self->fd);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &q));
	ASSERT_EQ(0, pmf_query_id(self->dev, id, &qid));
	EXPECT_EQ(0, memcmp(&q.region_id, &qid.region_id,
			    sizeof(q) - offsetof(struct pmemflush_query, region_id)));
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, self->size - 1, 1, NULL));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, self->size - 1, 2, NULL));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

TEST_F(target, range_end)
{
	EXPECT_EQ(0, pmf_flush(self->dev, self->fd, self->size - 1, 1, NULL));
	EXPECT_EQ(-1, pmf_flush(self->dev, self->fd, self->size - 1, 2, NULL));
	EXPECT_EQ(ERANGE, errno);
}

#ifdef PMF_STACK_QEMU
/* a file on pmem whose data goes through the page cache: fsync's job */
TEST(non_dax_file)
{
	const char *dir = getenv("PMF_NFIT_BTT_EXT4");
	char path[PATH_MAX];
	int dev, fd;

	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/pmf-non-dax", dir);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 8192));
	EXPECT_EQ(-1, pmf_flush(dev, fd, 0, 4096, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	close(fd);
	unlink(path);
	close(dev);
}
#endif

TEST_HARNESS_MAIN
