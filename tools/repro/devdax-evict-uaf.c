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
 * It disables the namespace and enables it again.
 */
#define _GNU_SOURCE
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

int main(int argc, char **argv)
{
	int path_fd, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/daxR.N namespaceR.N\n", argv[0]);
		return 2;
	}
	path_fd = open(argv[1], O_PATH | O_CLOEXEC);
	fd = open(argv[1], O_RDWR | O_CLOEXEC);	/* dax_open() */
	if (path_fd < 0 || fd < 0) {
		perror(argv[1]);
		return 1;
	}
	close(fd);
	if (ndctl("disable", argv[2]))
		return 1;
	sleep(2);	/* the dax_device is freed after an RCU grace period */
	close(path_fd);	/* iput_final() -> evict() -> shmem_evict_inode() */
	return ndctl("enable", argv[2]) ? 1 : 0;
}
