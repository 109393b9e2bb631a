// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that talks to the kernel for a map: /dev/pmemflush and its
 * ioctls, mmap and msync, behind a table the host tests replace. The
 * process's /dev/pmemflush files are in dev.c, registrations in reg.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

static int pmf_real_dev_open(void)
{
	int fd = open(PMF_DEV_PATH, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = pmf_dev_check(fd, pmf_sysfs);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

static void pmf_real_dev_close(int dev)
{
	close(dev);
}

static int pmf_real_query(int dev, unsigned int flags, int target,
			  struct pmemflush_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->flags = flags;
	q->fd = target;
	return ioctl(dev, PMEMFLUSH_QUERY, q) ? -errno : 0;
}

static int pmf_real_flush(int dev, unsigned int flags, int target,
			  uint64_t offset, uint64_t length)
{
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .flags = flags, .fd = target,
		.offset = offset, .length = length,
	};

	return ioctl(dev, PMEMFLUSH_FLUSH, &arg) ? -errno : 0;
}

static int pmf_real_reg(int dev, struct pmemflush_register *r)
{
	r->size = sizeof(*r);
	return ioctl(dev, PMEMFLUSH_REGISTER, r) ? -errno : 0;
}

static int pmf_real_unreg(int dev, uint32_t id)
{
	struct pmemflush_unregister arg = { .size = sizeof(arg), .id = id };

	return ioctl(dev, PMEMFLUSH_UNREGISTER, &arg) ? -errno : 0;
}

/*
 * Whether every mapping of [addr, addr + len) in the smaps text @f has
 * VM_SYNC, which smaps' VmFlags shows as "sf": 1 when all do and they
 * cover the range without a hole, else 0. A caller's own mapping says what
 * it is only here; its claimed granularity proves nothing.
 */
int pmf_smaps_map_sync(FILE *f, const void *addr, size_t len)
{
	uintptr_t lo = (uintptr_t)addr, hi = lo + len, covered = lo;
	unsigned long start, end;
	bool in = false, sync = true;
	size_t cap = 0;
	char *line = NULL;

	while (sync && getline(&line, &cap, f) > 0) {
		/*
		 * a mapping's line starts with its address, a field's
		 * with an upper-case name
		 */
		if (isxdigit((unsigned char)line[0]) &&
		    !isupper((unsigned char)line[0]) &&
		    sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = start < hi && end > lo;
			if (in && start > covered)
				sync = false;	/* a hole */
			if (in && end > covered)
				covered = end;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = ' ';
			if (!strstr(line + 8, " sf "))
				sync = false;
		}
	}
	free(line);
	return sync && covered >= hi;
}

static int pmf_real_map_sync(const void *addr, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	int ret;

	if (!f)
		return -errno;
	ret = pmf_smaps_map_sync(f, addr, len);
	fclose(f);
	return ret;
}

static const struct pmf_kops pmf_kops_real = {
	.dev_open = pmf_real_dev_open,
	.dev_close = pmf_real_dev_close,
	.query = pmf_real_query,
	.flush = pmf_real_flush,
	.reg = pmf_real_reg,
	.unreg = pmf_real_unreg,
	.mmap = mmap,
	.msync = msync,
	.map_sync = pmf_real_map_sync,
};

const struct pmf_kops *pmf_kops = &pmf_kops_real;

#ifdef PMF_TEST_HOOKS
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
#endif
