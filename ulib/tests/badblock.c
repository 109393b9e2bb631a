// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Bad blocks from a fake sysfs tree: which list a source reads (the block
 * device's for fsdax, the region's clipped to the namespace otherwise),
 * libpmem2's walk over a file's extents, malformed lists, the errors, and
 * clearing a real file.
 */
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include "pmf_test.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define BUS "platform/nfit_test.0/ndbus0"
#define REGION BUS "/region1"
#define DAX_MAJ 250
#define DAX_MIN 3

/* the extents the fake FIEMAP answers with */
static struct fiemap_extent fake_ext[8];
static unsigned int fake_nr_ext;
static int fake_fiemap_errno;

static int fake_fiemap(int fd, struct fiemap *fm)
{
	unsigned int i;

	(void)fd;
	if (fake_fiemap_errno) {
		errno = fake_fiemap_errno;
		return -1;
	}
	fm->fm_mapped_extents = fake_nr_ext;
	if (!fm->fm_extent_count)
		return 0;
	if (fm->fm_extent_count < fake_nr_ext)
		fm->fm_mapped_extents = fm->fm_extent_count;
	for (i = 0; i < fm->fm_mapped_extents; i++)
		fm->fm_extents[i] = fake_ext[i];
	return 0;
}

static void add_ext(uint64_t logical, uint64_t physical, uint64_t length)
{
	fake_ext[fake_nr_ext].fe_logical = logical;
	fake_ext[fake_nr_ext].fe_physical = physical;
	fake_ext[fake_nr_ext].fe_length = length;
	fake_nr_ext++;
}

FIXTURE(bb) {
	char root[64];
	char file[64];
	int fd;
	struct pmem2_source src;	/* filled by each test */
	struct pmem2_badblock_context *ctx;
};

FIXTURE_SETUP(bb)
{
	strcpy(self->root, "/tmp/pmf-bb-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	mkdirs("%s/dev/char", self->root);
	mkdirs("%s/dev/block", self->root);
	pmf_test_set_sysfs(self->root);
	/* a real ext4 file (/tmp): fallocate and, when asked, FIEMAP */
	snprintf(self->file, sizeof(self->file), "%s.file", self->root);
	self->fd = open(self->file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, self->fd);
	self->ctx = NULL;
	fake_nr_ext = 0;
	fake_fiemap_errno = 0;
	pmf_test_fiemap = fake_fiemap;
}

FIXTURE_TEARDOWN(bb)
{
	pmem2_badblock_context_delete(&self->ctx);
	close(self->fd);
	unlink(self->file);
	rm_tree(self->root);
	pmf_test_fiemap = NULL;
}

/* @text into devices/@dir/@name */
static void put(const char *root, const char *dir, const char *name,
		const char *text)
{
	char path[PATH_MAX];

	mkdirs("%s/devices/%s", root, dir);
	snprintf(path, sizeof(path), "%s/devices/%s/%s", root, dir, name);
	write_file(path, text, 0644);
}

/* /sys/dev/{char,block}/M:m -> devices/@dir */
static void link_dev(const char *root, bool chr, dev_t dev, const char *dir)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(target, sizeof(target), "%s/devices/%s", root, dir);
	mkdirs("%s", target);
	snprintf(link, sizeof(link), "%s/dev/%s/%u:%u", root,
		 chr ? "char" : "block", major(dev), minor(dev));
	unlink(link);
	if (symlink(target, link))
		abort();
}

/*
 * nfit_test's region1 as the 6.1 guest shows it: 64 MiB at 0x108000000,
 * namespace1.0 devdax (data at 0x108200000, 14 MiB), namespace1.1 fsdax
 * (pfn1.0, block device pmem1.1).
 */
static void region1(const char *root)
{
	put(root, REGION, "resource", "0x108000000\n");
	put(root, REGION, "badblocks", "");
	put(root, BUS, "commands", "ars_cap ars_start ars_status clear_error cmd_call \n");
	put(root, REGION "/namespace1.0", "mode", "dax\n");
	put(root, REGION "/namespace1.0", "resource", "0x108000000\n");
	put(root, REGION "/namespace1.0", "size", "16777216\n");
	put(root, REGION "/dax1.0", "namespace", "namespace1.0\n");
	put(root, REGION "/dax1.0", "resource", "0x108200000\n");
	put(root, REGION "/dax1.0", "size", "14680064\n");
	put(root, REGION "/namespace1.1", "mode", "memory\n");
	put(root, REGION "/namespace1.1", "resource", "0x109000000\n");
	put(root, REGION "/namespace1.1", "size", "16777216\n");
	put(root, REGION "/pfn1.0", "namespace", "namespace1.1\n");
	put(root, REGION "/pfn1.0", "resource", "0x109200000\n");
	put(root, REGION "/pfn1.0", "size", "14680064\n");
	put(root, REGION "/pfn1.0/block/pmem1.1", "badblocks", "");
}

static void devdax_src(FIXTURE_DATA(bb) *self, const char *leaf)
{
	self->src.fd = self->fd;
	self->src.ftype = PMF_FTYPE_DEVDAX;
	self->src.dev = makedev(DAX_MAJ, DAX_MIN);
	link_dev(self->root, true, self->src.dev, leaf);
}

static void file_src(FIXTURE_DATA(bb) *self, const char *disk)
{
	struct stat st;

	if (fstat(self->fd, &st))
		abort();
	self->src.fd = self->fd;
	self->src.ftype = PMF_FTYPE_REG;
	self->src.dev = st.st_dev;
	if (disk)
		link_dev(self->root, false, st.st_dev, disk);
}

/* the walk, as "off+len " pairs (bytes), then the return that ended it */
static int walk(struct pmem2_badblock_context *ctx, char *out, size_t len)
{
	struct pmem2_badblock bb;
	size_t used = 0;
	int ret, n = 0;

	out[0] = '\0';
	while (!(ret = pmem2_badblock_next(ctx, &bb)) && n++ < 64)
		used += (size_t)snprintf(out + used, len - used, "%zu+%zu ",
					 bb.offset, bb.length);
	return ret;
}

TEST_F(bb, null_and_anon)
{
	struct pmem2_badblock bb = { 0, 512 };

	EXPECT_EQ(-EINVAL, pmem2_badblock_context_new(NULL, &self->src));
	EXPECT_EQ(-EINVAL, pmem2_badblock_context_new(&self->ctx, NULL));
	EXPECT_EQ(-EINVAL, pmem2_badblock_next(NULL, &bb));
	EXPECT_EQ(-EINVAL, pmem2_badblock_clear(NULL, &bb));
	pmem2_badblock_context_delete(NULL);
	pmem2_badblock_context_delete(&self->ctx);

	self->src.fd = -1;
	self->src.ftype = PMF_FTYPE_ANON;
	self->ctx = (void *)1;
	EXPECT_EQ(PMEM2_E_NOSUPP,
		  pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(NULL, self->ctx);
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "anonymous"));
	PMF_LEAK_CHECK();
}

/* not on an nd namespace: a context without bad blocks, and no FIEMAP */
TEST_F(bb, not_on_pmem)
{
	struct pmem2_badblock bb;
	char out[256];

	fake_fiemap_errno = EIO;
	file_src(self, NULL);
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("", out);
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, pmem2_badblock_next(self->ctx, &bb));
	pmem2_badblock_context_delete(&self->ctx);
	EXPECT_EQ(NULL, self->ctx);

	/* a partition: libpmem2 matches whole disks only */
	region1(self->root);
	put(self->root, REGION "/pfn1.0/block/pmem1.1", "badblocks", "0 8\n");
	file_src(self, REGION "/pfn1.0/block/pmem1.1/pmem1.1p1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	pmem2_badblock_context_delete(&self->ctx);

	/* CXL's own regionN, not below an ndbus */
	devdax_src(self, "platform/ACPI0017:00/root0/decoder0.0/region1/dax1.0/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	/* and nothing to clear there */
	bb.offset = 0;
	bb.length = 512;
	EXPECT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND,
		  pmem2_badblock_clear(self->ctx, &bb));
	PMF_LEAK_CHECK();
}

/*
 * Device-dax: the region's list, clipped to the data of the namespace
 * (sector 4096 to 32768 of the region) and made relative to it.
 */
TEST_F(bb, devdax_clipped)
{
	char out[512];

	region1(self->root);
	put(self->root, REGION, "badblocks",
	    "10 5\n4090 10\n4136 9\n4096 1\n32760 16\n32768 1\n40000 1\n");
	devdax_src(self, REGION "/dax1.0/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("0+2048 20480+4608 0+512 14675968+4096 ", out);
	/* the walk stays ended */
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("", out);
	pmem2_badblock_context_delete(&self->ctx);

	/* one bad block over all of it; the old dax class directory */
	put(self->root, REGION, "badblocks", "0 40000\n");
	devdax_src(self, REGION "/dax1.0/dax/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("0+14680064 ", out);
	PMF_LEAK_CHECK();
}

/* the list is read by the first next(), not by context_new() */
TEST_F(bb, list_read_late)
{
	char out[256];

	region1(self->root);
	devdax_src(self, REGION "/dax1.0/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	put(self->root, REGION, "badblocks", "4100 2\n");
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("2048+1024 ", out);
	PMF_LEAK_CHECK();
}

/* as libndctl: a line that is not "sector count" ends the walk */
TEST_F(bb, malformed_lines)
{
	static const char *const lists[] = {
		"4100 2\nfoo\n4200 1\n", "4100 2\n4200 0\n4300 1\n",
		"4100 2\n4200\n4300 1\n", "4100 2\n-4200 1\n4300 1\n",
		"4100 2\n4200 1 7\n4300 1\n", "4100 2\n 4200 1\n4300 1\n",
		"4100 2\n99999999999999999999 1\n4300 1\n",
		"4100 2\n36028797018963967 2\n4300 1\n",
		"4100 2\n4200 4294967296\n4300 1\n",
		"4100 2\n\n4300 1\n",
	};
	char out[256], path[PATH_MAX];
	unsigned int i;

	region1(self->root);
	devdax_src(self, REGION "/dax1.0/dax1.0");
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		put(self->root, REGION, "badblocks", lists[i]);
		ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
		EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND,
			  walk(self->ctx, out, sizeof(out))) TH_LOG("%u", i);
		EXPECT_STREQ("2048+1024 ", out) TH_LOG("list %u", i);
		EXPECT_NE(NULL, strstr(pmem2_errormsg(), "malformed"))
			TH_LOG("list %u: %s", i, pmem2_errormsg());
		pmem2_badblock_context_delete(&self->ctx);
	}

	/* no list, an empty one, one without the last newline */
	put(self->root, REGION, "badblocks", "");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("", out);
	pmem2_badblock_context_delete(&self->ctx);
	put(self->root, REGION, "badblocks", "4100 2\n4101 1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("2048+1024 2560+512 ", out);
	pmem2_badblock_context_delete(&self->ctx);
	snprintf(path, sizeof(path), "%s/devices/%s/badblocks", self->root,
		 REGION);
	ASSERT_EQ(0, unlink(path));
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "cannot read"));
	PMF_LEAK_CHECK();
}

/* a long list (more than a page, as no real sysfs file is) is read whole */
TEST_F(bb, long_list)
{
	char list[16384], out[256];
	struct pmem2_badblock bb;
	size_t used = 0;
	int i, n = 0;

	for (i = 0; i < 1000; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used,
					 "%d 1\n", 4096 + 2 * i);
	region1(self->root);
	put(self->root, REGION, "badblocks", list);
	devdax_src(self, REGION "/dax1.0/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	while (!pmem2_badblock_next(self->ctx, &bb)) {
		EXPECT_EQ((size_t)n * 1024, bb.offset);
		EXPECT_EQ(512, bb.length);
		n++;
	}
	EXPECT_EQ(1000, n);
	(void)out;
	PMF_LEAK_CHECK();
}

/* the bounds are root-only in sysfs: libpmem2's errors when unreadable */
TEST_F(bb, devdax_bounds_errors)
{
	char path[PATH_MAX];

	region1(self->root);
	devdax_src(self, REGION "/dax1.0/dax1.0");
	snprintf(path, sizeof(path), "%s/devices/%s/dax1.0/resource",
		 self->root, REGION);
	ASSERT_EQ(0, unlink(path));
	EXPECT_EQ(PMEM2_E_CANNOT_READ_BOUNDS,
		  pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(NULL, self->ctx);
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "offset"));

	put(self->root, REGION "/dax1.0", "resource", "0x108200000\n");
	put(self->root, REGION "/dax1.0", "size", "14M\n");
	EXPECT_EQ(PMEM2_E_CANNOT_READ_BOUNDS,
		  pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "size"));

	put(self->root, REGION "/dax1.0", "size", "14680064\n");
	snprintf(path, sizeof(path), "%s/devices/%s/resource", self->root,
		 REGION);
	ASSERT_EQ(0, unlink(path));
	EXPECT_EQ(-ENOENT, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "region"));

	/* a region above its namespace */
	put(self->root, REGION, "resource", "0x109000000\n");
	EXPECT_EQ(PMEM2_E_CANNOT_READ_BOUNDS,
		  pmem2_badblock_context_new(&self->ctx, &self->src));

	/* a dax device whose namespace attribute is empty: not listed */
	put(self->root, REGION, "resource", "0x108000000\n");
	put(self->root, REGION "/dax1.0", "namespace", "\n");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND,
		  pmem2_badblock_next(self->ctx, &(struct pmem2_badblock){0}));
	PMF_LEAK_CHECK();
}

/*
 * fsdax: the block device's list, unclipped (no bounds are read), mapped
 * through the extents. Extents 0 and 1 are physically adjacent, 2 is apart.
 */
TEST_F(bb, fsdax_file_extents)
{
	char out[512];

	region1(self->root);
	/* root-only bounds missing: the fsdax walk does not need them */
	put(self->root, REGION "/pfn1.0", "resource", "");
	add_ext(0, 1 << 20, 64 << 10);
	add_ext(64 << 10, (1 << 20) + (64 << 10), 64 << 10);
	add_ext(1 << 20, 8 << 20, 4096);
	put(self->root, REGION "/pfn1.0/block/pmem1.1", "badblocks",
	    "0 8\n"		/* outside every extent */
	    "2057 1\n"		/* 1M + 4K + 512: in extent 0 */
	    "2174 4\n"		/* 1M + 63K .. 1M + 65K: extents 0 and 1 */
	    "16383 2\n"		/* 8M - 512 .. 8M + 512: extent 2 */
	    "16392 1\n"		/* 8M + 4K: past extent 2 */
	    "2047 600\n");	/* 1M - 512 ..: all of 0 and 1 */
	file_src(self, REGION "/pfn1.0/block/pmem1.1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("4096+4096 61440+4096 65536+4096 1048576+4096 "
		     "0+65536 65536+65536 ", out);
	PMF_LEAK_CHECK();
}

/*
 * A bad block running past an extent is held and tried against the extents
 * after it in file order, wherever they lie physically.
 */
TEST_F(bb, fsdax_held_block_next_extents)
{
	char out[512];

	region1(self->root);
	add_ext(0, 1 << 20, 4096);			/* 1M */
	add_ext(4096, 4 << 20, 4096);			/* 4M */
	add_ext(8192, (1 << 20) + 4096, 4096);		/* 1M + 4K */
	put(self->root, REGION "/pfn1.0/block/pmem1.1", "badblocks",
	    "2048 16\n");	/* 1M .. 1M + 8K */
	file_src(self, REGION "/pfn1.0/block/pmem1.1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("0+4096 8192+4096 ", out);
	PMF_LEAK_CHECK();
}

/*
 * libpmem2's quirk, kept: only the extents after the first one hit are
 * tried, so the part of a bad block in an extent earlier in the file but
 * physically before it is never reported.
 */
TEST_F(bb, fsdax_earlier_extent_missed)
{
	char out[512];

	region1(self->root);
	add_ext(0, (1 << 20) + 4096, 4096);		/* 1M + 4K */
	add_ext(4096, 1 << 20, 4096);			/* 1M */
	put(self->root, REGION "/pfn1.0/block/pmem1.1", "badblocks",
	    "2048 16\n");	/* 1M .. 1M + 8K */
	file_src(self, REGION "/pfn1.0/block/pmem1.1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("0+4096 ", out);
	PMF_LEAK_CHECK();
}

/* a raw namespace: the region's list, clipped to the namespace */
TEST_F(bb, raw_file_region_list)
{
	char out[256];

	region1(self->root);
	put(self->root, REGION "/namespace1.2", "mode", "raw\n");
	put(self->root, REGION "/namespace1.2", "resource", "0x10a000000\n");
	put(self->root, REGION "/namespace1.2", "size", "33554432\n");
	/* namespace1.2 starts at sector 65536 of the region */
	put(self->root, REGION, "badblocks", "65530 10\n65600 1\n");
	add_ext(0, 0, 64 << 10);
	file_src(self, REGION "/namespace1.2/block/pmem1.2");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	EXPECT_STREQ("0+4096 32768+4096 ", out);
	PMF_LEAK_CHECK();
}

/* FIEMAP errors come back from context_new, as libpmem2's -errno */
TEST_F(bb, fiemap_errors)
{
	char shm[] = "/dev/shm/pmf-bb-XXXXXX";
	int fd;

	region1(self->root);
	file_src(self, REGION "/pfn1.0/block/pmem1.1");
	fake_fiemap_errno = EBADF;
	EXPECT_EQ(-EBADF, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(NULL, self->ctx);
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "FIEMAP"));

	/* tmpfs has no FIEMAP */
	pmf_test_fiemap = NULL;
	fd = mkstemp(shm);
	ASSERT_LE(0, fd);
	unlink(shm);
	ASSERT_EQ(0, ftruncate(fd, 8192));
	self->src.fd = fd;
	EXPECT_EQ(-EOPNOTSUPP, pmem2_badblock_context_new(&self->ctx,
							  &self->src));
	close(fd);
	PMF_LEAK_CHECK();
}

/* the real FIEMAP of an ext4 file (/tmp on the build host) */
TEST_F(bb, real_fiemap)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[4];
	} q;
	char buf[4096 * 3], list[64], out[256];
	uint64_t sec;

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(self->fd));
	memset(&q, 0, sizeof(q));
	q.fm.fm_length = sizeof(buf);
	q.fm.fm_flags = FIEMAP_FLAG_SYNC;
	q.fm.fm_extent_count = 4;
	if (ioctl(self->fd, FS_IOC_FIEMAP, &q.fm) || !q.fm.fm_mapped_extents)
		SKIP(return, "no FIEMAP extents for a file in /tmp");
	/* the second block of the file's first extent, one sector of it */
	sec = (q.ext[0].fe_physical + 4096 + 1024) / 512;
	snprintf(list, sizeof(list), "%llu 1\n", (unsigned long long)sec);
	region1(self->root);
	put(self->root, REGION "/pfn1.0/block/pmem1.1", "badblocks", list);
	pmf_test_fiemap = NULL;
	file_src(self, REGION "/pfn1.0/block/pmem1.1");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	EXPECT_EQ(PMEM2_E_NO_BAD_BLOCK_FOUND, walk(self->ctx, out, sizeof(out)));
	if (q.ext[0].fe_length >= 8192)
		EXPECT_STREQ("4096+4096 ", out);
	PMF_LEAK_CHECK();
}

/* libpmem2's file clear: punched out and allocated again, size kept */
TEST_F(bb, clear_file)
{
	char buf[4096 * 4], back[4096 * 4], zero[4096];
	struct pmem2_badblock bb = { 4096, 4096 };
	struct stat st;

	memset(buf, 0x77, sizeof(buf));
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ((ssize_t)sizeof(buf), pwrite(self->fd, buf, sizeof(buf), 0));
	file_src(self, NULL);
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));
	ASSERT_EQ(0, pmem2_badblock_clear(self->ctx, &bb));
	ASSERT_EQ((ssize_t)sizeof(back), pread(self->fd, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(back, buf, 4096));
	EXPECT_EQ(0, memcmp(back + 4096, zero, 4096));
	EXPECT_EQ(0, memcmp(back + 8192, buf, 8192));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)sizeof(buf), st.st_size);
	/* allocated again: 4 blocks of 4K, in 512-byte units */
	EXPECT_LE(32, st.st_blocks);

	/* past the end: allocated, the size stays */
	bb.offset = 1 << 20;
	EXPECT_EQ(0, pmem2_badblock_clear(self->ctx, &bb));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ((off_t)sizeof(buf), st.st_size);

	bb.offset = (size_t)INT64_MAX + 1;
	EXPECT_EQ(PMEM2_E_OFFSET_OUT_OF_RANGE,
		  pmem2_badblock_clear(self->ctx, &bb));
	bb.offset = 0;
	bb.length = (size_t)INT64_MAX + 1;
	EXPECT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_badblock_clear(self->ctx, &bb));
	bb.length = 0;
	EXPECT_EQ(-EINVAL, pmem2_badblock_clear(self->ctx, &bb));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "fallocate"));
	PMF_LEAK_CHECK();
}

/* device-dax clear: what is checked before the bus is asked */
TEST_F(bb, clear_devdax_errors)
{
	struct pmem2_badblock bb = { 0, 512 };
	char path[PATH_MAX], target[PATH_MAX];

	region1(self->root);
	mkdirs("%s/bus/nd/devices", self->root);
	snprintf(path, sizeof(path), "%s/bus/nd/devices/ndbus0", self->root);
	snprintf(target, sizeof(target), "%s/devices/%s", self->root, BUS);
	ASSERT_EQ(0, symlink(target, path));
	devdax_src(self, REGION "/dax1.0/dax1.0");
	ASSERT_EQ(0, pmem2_badblock_context_new(&self->ctx, &self->src));

	put(self->root, BUS, "commands", "ars_cap ars_start ars_status cmd_call\n");
	EXPECT_EQ(PMEM2_E_NOSUPP, pmem2_badblock_clear(self->ctx, &bb));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "cannot clear errors"));
	put(self->root, BUS, "commands", "ars_capx clear_error\n");
	EXPECT_EQ(PMEM2_E_NOSUPP, pmem2_badblock_clear(self->ctx, &bb));

	snprintf(path, sizeof(path), "%s/devices/%s/commands", self->root, BUS);
	ASSERT_EQ(0, unlink(path));
	EXPECT_EQ(-ENOENT, pmem2_badblock_clear(self->ctx, &bb));
	EXPECT_NE(NULL, strstr(pmem2_errormsg(), "commands"));

	bb.offset = SIZE_MAX - 10;
	EXPECT_EQ(PMEM2_E_OFFSET_OUT_OF_RANGE,
		  pmem2_badblock_clear(self->ctx, &bb));
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
