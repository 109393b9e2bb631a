// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer for a device_dax use-after-free (README, "Noticed in the
 * kernel"); pmemflush plays no part in it.
 *
 * dax_open() points the opened node's inode->i_mapping at the dax_device's
 * own inode. An O_PATH fd keeps the devtmpfs node's inode after the device
 * is removed and the dax_device freed; closing it evicts the inode, and
 * shmem_evict_inode() reads inode->i_mapping->a_ops from the freed object.
 * A KASAN kernel reports "use-after-free in shmem_evict_inode"; others read
 * freed memory silently. Through a node on ramfs (mknod with the same
 * numbers) nothing is reported: ramfs evicts without looking at i_mapping.
 *
 *   gcc -O2 -Wall -o devdax-evict-uaf devdax-evict-uaf.c
 *   ./devdax-evict-uaf /dev/dax1.0 namespace1.0	# as root, in a VM
 *
 * It disables the namespace and enables it again. The sanitizer kernel's
 * boots run it through selftests/pmemflush_kernel_fixes.c, which includes
 * this file, on a kernel that carries the fix
 * (kernel-patches/0001-device-dax-set-only-filp-f_mapping-in-dax_open.patch).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int ndctl(const char *verb, const char *ns)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ndctl %s-namespace %s", verb, ns);
	return system(cmd);
}

/*
 * The sequence, on device-dax node @node of namespace @ns: 0 when it ran
 * (whatever the kernel then did), -1 with a message when it could not.
 */
static int devdax_evict_uaf(const char *node, const char *ns)
{
	int path_fd, fd;

	path_fd = open(node, O_PATH | O_CLOEXEC);
	fd = open(node, O_RDWR | O_CLOEXEC);	/* dax_open() */
	if (path_fd < 0 || fd < 0) {
		perror(node);
		return -1;
	}
	close(fd);
	if (ndctl("disable", ns))
		return -1;
	/*
	 * devtmpfs unlinked the node: the O_PATH fd holds the last reference
	 * (looked up by name: an fstat() of the fd would itself read the
	 * stale i_mapping, in shmem_getattr())
	 */
	if (!access(node, F_OK)) {
		fprintf(stderr, "%s: still there after disabling %s\n", node, ns);
		return -1;
	}
	sleep(2);	/* the dax_device is freed after an RCU grace period */
	close(path_fd);	/* iput_final() -> evict() -> shmem_evict_inode() */
	return ndctl("enable", ns) ? -1 : 0;
}

#ifndef DEVDAX_EVICT_UAF_NO_MAIN
int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/daxR.N namespaceR.N\n", argv[0]);
		return 2;
	}
	return devdax_evict_uaf(argv[1], argv[2]) ? 1 : 0;
}
#endif
