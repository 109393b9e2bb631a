// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that talks to the kernel for a map: /dev/pmemflush and its
 * ioctls, mmap and msync, behind a table the host tests replace.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pmf.h"

#define PMF_DEV_PATH "/dev/pmemflush"
#define PMF_MISC_MAJOR 10

const char *pmf_sysfs = "/sys";

/*
 * The /dev/pmemflush fd is process-wide: it is opened on first use and
 * kept, as one open per call would cost more than the flush itself. It is
 * written once under pthread_once and only read afterwards.
 */
static pthread_once_t pmf_dev_once = PTHREAD_ONCE_INIT;
static int pmf_dev_fd = -1;
static int pmf_dev_error;

/*
 * The node must be the misc device the module registered: a char device of
 * major 10 whose minor is the one sysfs lists for "pmemflush". Anything else
 * at that path gets no ioctls.
 */
int pmf_dev_check(int fd, const char *sysfs)
{
	unsigned int major, minor;
	char path[256];
	struct stat st;
	FILE *f;
	int n;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != PMF_MISC_MAJOR)
		return -ENODEV;
	snprintf(path, sizeof(path), "%s/class/misc/pmemflush/dev", sysfs);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fscanf(f, "%u:%u", &major, &minor);
	fclose(f);
	if (n != 2 || major != PMF_MISC_MAJOR || minor != minor(st.st_rdev))
		return -ENODEV;
	return 0;
}

static void pmf_dev_open_once(void)
{
	int fd = open(PMF_DEV_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		pmf_dev_error = -errno;
		return;
	}
	ret = pmf_dev_check(fd, pmf_sysfs);
	if (ret) {
		close(fd);
		pmf_dev_error = ret;
		return;
	}
	pmf_dev_fd = fd;
}

static int pmf_real_dev_open(void)
{
	pthread_once(&pmf_dev_once, pmf_dev_open_once);
	return pmf_dev_fd < 0 ? pmf_dev_error : 0;
}

static int pmf_real_query(int fd, struct pmemflush_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->fd = fd;
	return ioctl(pmf_dev_fd, PMEMFLUSH_QUERY, q) ? -errno : 0;
}

static int pmf_real_flush(int fd, uint64_t offset, uint64_t length)
{
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .fd = fd, .offset = offset, .length = length,
	};

	return ioctl(pmf_dev_fd, PMEMFLUSH_FLUSH, &arg) ? -errno : 0;
}

static const struct pmf_kops pmf_kops_real = {
	.dev_open = pmf_real_dev_open,
	.query = pmf_real_query,
	.flush = pmf_real_flush,
	.mmap = mmap,
	.msync = msync,
};

const struct pmf_kops *pmf_kops = &pmf_kops_real;

const struct pmf_kops *pmf_real_kops(void)
{
	return &pmf_kops_real;
}

void pmf_test_set_kops(const struct pmf_kops *ops)
{
	pmf_kops = ops ? ops : &pmf_kops_real;
}

void pmf_test_set_sysfs(const char *root)
{
	pmf_sysfs = root ? root : "/sys";
}
