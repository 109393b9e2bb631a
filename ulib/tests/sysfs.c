// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The sysfs fallback: which directory above a device is its nd region (only a
 * regionN right below an ndbusN; CXL names its own devices regionN too), what
 * the region's attributes say, and the decimal-only size parser.
 */
#include "pmf_test.h"

/* the tree lives under a short mkdtemp() path */
#pragma GCC diagnostic ignored "-Wformat-truncation"

FIXTURE(tree) {
	char root[64];
	int fd;		/* /dev/null: its rdev names the device */
	dev_t rdev;
};

FIXTURE_SETUP(tree)
{
	struct stat st;

	strcpy(self->root, "/tmp/pmf-tree-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	self->fd = open("/dev/null", O_RDWR);
	ASSERT_EQ(0, fstat(self->fd, &st));
	self->rdev = st.st_rdev;
	mkdirs("%s/dev/char", self->root);
	pmf_test_set_sysfs(self->root);
}

FIXTURE_TEARDOWN(tree)
{
	close(self->fd);
	rm_tree(self->root);
}

static void put(const char *root, const char *dir, const char *name,
		const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/devices/%s/%s", root, dir, name);
	write_file(path, val, 0644);
}

/* /sys/dev/char/M:m of the fixture's device -> devices/@dir, made */
static int link_dev(const char *root, dev_t rdev, const char *dir)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(target, sizeof(target), "%s/devices/%s", root, dir);
	mkdirs("%s", target);
	snprintf(link, sizeof(link), "%s/dev/char/%u:%u", root, major(rdev),
		 minor(rdev));
	unlink(link);
	return symlink(target, link);
}

#define CXL "platform/ACPI0017:00/root0/decoder0.0/region0"

/*
 * CXL: .../decoder0.0/region0/ndbus1/region1/dax1.0/dax/dax1.0. region0 is
 * CXL's own (its attributes here say the opposite of region1's); the nd
 * region is region1, right below ndbus1.
 */
TEST_F(tree, region_below_ndbus_only)
{
	struct pmf_region r;

	ASSERT_EQ(0, link_dev(self->root, self->rdev,
			      CXL "/ndbus1/region1/dax1.0/dax/dax1.0"));
	put(self->root, CXL, "persistence_domain", "cpu_cache\n");
	put(self->root, CXL, "deep_flush", "0\n");
	put(self->root, CXL, "provider", "virtio-pmem\n");
	put(self->root, CXL "/ndbus1/region1", "persistence_domain",
	    "memory_controller\n");
	put(self->root, CXL "/ndbus1/region1", "deep_flush", "1\n");
	put(self->root, CXL "/ndbus1", "provider", "ACPI.NFIT\n");
	memset(&r, 0xff, sizeof(r));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_TRUE(r.found);
	ASSERT_EQ(1, r.id);
	ASSERT_FALSE(r.cpu_cache);
	ASSERT_FALSE(r.no_flush);
	ASSERT_FALSE(r.async);

	/* CXL's regionN with no ndbus above: no nd region */
	ASSERT_EQ(0, link_dev(self->root, self->rdev, CXL "/dax0.0"));
	memset(&r, 0xff, sizeof(r));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_FALSE(r.found);

	/* an ndbus, but the regionN is not right below it */
	ASSERT_EQ(0, link_dev(self->root, self->rdev,
			      "ndbus0/other/region3/dax3.0"));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_FALSE(r.found);

	/* not "regionN" (no number, or not a number) */
	ASSERT_EQ(0, link_dev(self->root, self->rdev, "ndbus0/region/dax3.0"));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_FALSE(r.found);
	ASSERT_EQ(0, link_dev(self->root, self->rdev, "ndbus0/region4x/d"));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_FALSE(r.found);

	/* the plain NFIT layout */
	ASSERT_EQ(0, link_dev(self->root, self->rdev,
			      "LNXSYSTM:00/ndbus0/region12/dax12.0/dax/dax12.0"));
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_TRUE(r.found);
	ASSERT_EQ(12, r.id);

	/* nothing at /sys/dev/char/M:m */
	ASSERT_EQ(-ENOENT, pmf_region_find(false, self->rdev, &r));
	ASSERT_FALSE(r.found);
}

/* deep_flush "0": barriers only; provider virtio-pmem: asynchronous */
TEST_F(tree, region_attributes)
{
	static const char *const region = "ndbus0/region2";
	struct pmf_region r;
	char path[PATH_MAX];

	ASSERT_EQ(0, link_dev(self->root, self->rdev,
			      "ndbus0/region2/dax2.0/dax/dax2.0"));
	/* none of the files: the conservative answers */
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_TRUE(r.found);
	ASSERT_FALSE(r.no_flush);
	ASSERT_FALSE(r.async);
	ASSERT_FALSE(r.cpu_cache);

	put(self->root, region, "deep_flush", "0\n");
	put(self->root, region, "persistence_domain", "cpu_cache\n");
	put(self->root, "ndbus0", "provider", "virtio-pmem\n");
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_TRUE(r.no_flush);
	ASSERT_TRUE(r.cpu_cache);
	ASSERT_TRUE(r.async);

	put(self->root, region, "deep_flush", "1\n");
	put(self->root, region, "persistence_domain", "memory_controller\n");
	put(self->root, "ndbus0", "provider", "ACPI.NFIT\n");
	ASSERT_EQ(0, pmf_region_find(true, self->rdev, &r));
	ASSERT_FALSE(r.no_flush);
	ASSERT_FALSE(r.cpu_cache);
	ASSERT_FALSE(r.async);

	/* the path of the deep flush, below bus/nd/devices */
	pmf_region_path(path, sizeof(path), 2);
	ASSERT_NE(NULL, strstr(path, self->root));
	ASSERT_NE(NULL, strstr(path, "/bus/nd/devices/region2/deep_flush"));
}

TEST(parse_size_decimal_only)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1\n", "0x10", "0X10", "x", "1k",
		"12a", "18446744073709551616", "99999999999999999999999",
	};
	size_t v, i;

	ASSERT_EQ(0, pmf_parse_size("123", &v));
	ASSERT_EQ(123, v);
	ASSERT_EQ(0, pmf_parse_size("0", &v));
	ASSERT_EQ(0, v);
	/* not octal */
	ASSERT_EQ(0, pmf_parse_size("010", &v));
	ASSERT_EQ(10, v);
	ASSERT_EQ(0, pmf_parse_size("18446744073709551615", &v));
	ASSERT_EQ(SIZE_MAX, v);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ASSERT_EQ(-1, pmf_parse_size(bad[i], &v))
			TH_LOG("\"%s\" accepted", bad[i]);
	}
}

TEST_HARNESS_MAIN
