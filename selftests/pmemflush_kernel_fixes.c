// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel bugs the suite found, checked on the sanitizer kernel that carries
 * their fixes (tools/vm/debug-patches/; check.sh runs this only there: on a
 * kernel without the fix and without KASAN the bug reads freed memory and
 * nothing sees it). pmemflush plays no part; the module may be loaded.
 *
 * devdax_node_evicted_after_removal: tools/repro/devdax-evict-uaf.c through the real
 * devtmpfs node of the stack's device-dax device. Without
 * kernel-patches/0001-device-dax-set-only-filp-f_mapping-in-dax_open.patch
 * KASAN reports "use-after-free in shmem_evict_inode" (once per run; seen
 * on this kernel unpatched); with it, nothing.
 */
#define DEVDAX_EVICT_UAF_NO_MAIN
#include "../tools/repro/devdax-evict-uaf.c"

#include <sys/vfs.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC	0x01021994
#endif

/* the nd namespace behind device-dax node @node, into @ns */
static int node_namespace(const char *node, char *ns, size_t len)
{
	char claim[64], region[64], attr[PATH_MAX];

	if (pmf_devdax_topology(node, claim, region))
		return -1;
	snprintf(attr, sizeof(attr), "/sys/bus/nd/devices/%s/namespace", claim);
	return pmf_read_line(attr, ns, len);
}

TEST(devdax_node_evicted_after_removal)
{
	const char *node = getenv("PMF_NFIT_DEVDAX");
	char ns[64];
	struct statfs sf;
	int kmsg, lost, reports;

	ASSERT_NE(NULL, node);
	/* the bug needs the node on devtmpfs (shmem), not a ramfs twin */
	ASSERT_EQ(0, statfs(node, &sf));
	ASSERT_EQ(TMPFS_MAGIC, (unsigned long)sf.f_type);
	ASSERT_EQ(0, node_namespace(node, ns, sizeof(ns)));
	TH_LOG("%s (%s) through devtmpfs", node, ns);

	kmsg = pmf_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, devdax_evict_uaf(node, ns));
	reports = pmf_kmsg_scan(kmsg, &lost);
	close(kmsg);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, reports);
	/* the device is back for the tests after this one */
	EXPECT_EQ(0, access(node, R_OK | W_OK));
}

TEST_HARNESS_MAIN
