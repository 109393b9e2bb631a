// SPDX-License-Identifier: GPL-2.0
/*
 * CXL persistent memory (QEMU's cxl-type3 through cxl_pmem): every target
 * kind on the CXL nd region resolves, QUERY says the region is CXL with no
 * device flush, FLUSH by fd and by id issue only barriers (nvdimm_flush()
 * runs, PMEMFLUSH_FLUSHED_DEVICE stays clear), and libpmemflush's deep flush
 * there makes no system call. Runs on the cxl stack only; every test says
 * SKIP with the stack's reason when the kernel found no CXL memory device.
 */
#include <sys/mman.h>

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
	 * Not asserted: with QEMU 7.2's cxl-type3 the stores read back on
	 * 6.12 but not on 6.1 (and block I/O reads back on neither: see
	 * PMF_CXL_FS_SKIP). That is the emulated memory's, not something a
	 * deep flush decides.
	 */
	b = mmap(NULL, 2 << 20, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	TH_LOG("stores read back: same map %s, second map %s",
	       a[64] == 0x41 ? "yes" : "no", b[64] == 0x41 ? "yes" : "no");
	munmap(b, 2 << 20);
	EXPECT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
}

/* fsdax with a file system: only when the stack could make one */
TEST(dax_file_system)
{
	const char *skip = getenv("PMF_CXL_FS_SKIP");
	const char *dir = getenv("PMF_CXL_EXT4");
	struct pmemflush_query q;
	char path[PATH_MAX];
	int dev, fd;

	if (cxl_skip())
		SKIP(return, "%s", cxl_skip());
	if (skip)
		SKIP(return, "%s", skip);
	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/pmf-cxl", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, pmf_query(dev, fd, &q));
	EXPECT_EQ(PMEMFLUSH_TARGET_FSDAX_FILE, q.target_kind);
	EXPECT_TRUE(q.out_flags & PMEMFLUSH_REGION_CXL);
	EXPECT_EQ(0, pmf_flush(dev, fd, 0, 4096, NULL));
	close(dev);
	close(fd);
	unlink(path);
}

TEST_HARNESS_MAIN
