// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one place that talks to the kernel for a map: /dev/pmemflush and its
 * ioctls, mmap and msync, behind a table the host tests replace.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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

/*
 * The slots hold fd + 1, so that 0 (static initialisation) is "not open".
 * Lock-free: a slot goes from 0 to an fd once per generation, and only the
 * fork child handler (single-threaded by then) sets it back to 0. Nothing
 * here can be held across fork(), so nothing deadlocks in a child.
 */
static _Atomic int pmf_dev_slot[PMF_DEV_SLOTS];
static _Atomic uint32_t pmf_gen;

int pmf_dev_get(unsigned int slot)
{
	int v = atomic_load_explicit(&pmf_dev_slot[slot], memory_order_acquire);
	int fd, expect = 0;

	if (v)
		return v - 1;
	fd = pmf_kops->dev_open();
	if (fd < 0)
		return fd;
	if (!atomic_compare_exchange_strong_explicit(&pmf_dev_slot[slot],
			&expect, fd + 1, memory_order_acq_rel,
			memory_order_acquire)) {
		/* another thread opened it first: use theirs */
		pmf_kops->dev_close(fd);
		return expect - 1;
	}
	return fd;
}

uint32_t pmf_dev_gen(void)
{
	return atomic_load_explicit(&pmf_gen, memory_order_acquire);
}

/*
 * In the child: the inherited files are shared with the parent, which may
 * drop an id and get the same number back for another target at any time.
 * Close them; the child registers again on files of its own.
 */
void pmf_dev_fork_child(void)
{
	unsigned int i;

	for (i = 0; i < PMF_DEV_SLOTS; i++) {
		int v = atomic_exchange(&pmf_dev_slot[i], 0);

		if (v)
			pmf_kops->dev_close(v - 1);
	}
	atomic_fetch_add(&pmf_gen, 1);
}

#ifdef PMF_TEST_HOOKS
void pmf_test_atfork_child(void)
{
	pmf_dev_fork_child();
}
#endif

/* state: gen << 32 | slot << 16 | id */
static uint64_t pmf_reg_state(uint32_t gen, unsigned int slot, uint32_t id)
{
	return (uint64_t)gen << 32 | (uint64_t)slot << 16 | id;
}

/* REGISTER on the first slot with room: the new state, 0 or -errno */
static int pmf_reg_register(const struct pmf_reg *r, uint64_t *state,
			    uint64_t *offset)
{
	uint32_t gen = pmf_dev_gen();
	unsigned int slot;
	int ret = -ENOSPC;

	for (slot = 0; slot < PMF_DEV_SLOTS && ret == -ENOSPC; slot++) {
		struct pmemflush_register arg;
		int dev = pmf_dev_get(slot);

		if (dev < 0)
			return dev;
		memset(&arg, 0, sizeof(arg));
		if (r->addr) {
			arg.flags = PMEMFLUSH_BY_ADDR;
			arg.addr = (uintptr_t)r->addr;
			arg.length = r->length;
		} else {
			arg.fd = r->fd;
		}
		ret = pmf_kops->reg(dev, &arg);
		if (!ret) {
			*offset = arg.offset;
			*state = pmf_reg_state(gen, slot, arg.id);
		}
	}
	return ret;
}

static bool pmf_same_file(const struct pmf_reg *r)
{
	struct stat st;

	return !fstat(r->fd, &st) && st.st_dev == r->st_dev &&
	       st.st_ino == r->st_ino && st.st_rdev == r->st_rdev;
}

int pmf_reg_init(struct pmf_reg *r, const void *addr, size_t length, int fd)
{
	uint64_t state = 0;
	int ret;

	memset(r, 0, sizeof(*r));
	r->addr = addr;
	r->length = length;
	r->fd = addr ? -1 : fd;
	if (!addr) {
		struct stat st;

		if (fstat(fd, &st))
			return -errno;
		r->st_dev = st.st_dev;
		r->st_rdev = st.st_rdev;
		r->st_ino = st.st_ino;
	}
	ret = pmf_reg_register(r, &state, &r->offset);
	if (ret)
		return ret;
	atomic_store_explicit(&r->state, state, memory_order_release);
	return 0;
}

/*
 * The slot's fd and the id, registering again first when the id is of an
 * earlier fork generation (we are a child). Threads of a child racing here
 * each register; one state wins, the others drop their id.
 */
static int pmf_reg_current(struct pmf_reg *r, int *dev, uint32_t *id)
{
	uint64_t s = atomic_load_explicit(&r->state, memory_order_acquire);
	uint64_t fresh, offset;
	int ret;

	if ((uint32_t)(s >> 32) != pmf_dev_gen() || !(s & 0xffff)) {
		if (!r->addr && !pmf_same_file(r))
			return -EBADF;
		ret = pmf_reg_register(r, &fresh, &offset);
		if (ret)
			return ret;
		if (atomic_compare_exchange_strong(&r->state, &s, fresh)) {
			s = fresh;
		} else {
			/* lost the race; s now holds the winner's state */
			int d = pmf_dev_get((fresh >> 16) & 0xffff);

			if (d >= 0)
				pmf_kops->unreg(d, fresh & 0xffff);
		}
	}
	ret = pmf_dev_get((s >> 16) & 0xffff);
	if (ret < 0)
		return ret;
	*dev = ret;
	*id = s & 0xffff;
	return 0;
}

/*
 * The flush and the query by id return this library's error (the kernel's
 * errno through the table) with the thread's message set, naming the
 * REGISTER when it was the registration again in a child that failed.
 */
int pmf_reg_flush(struct pmf_reg *r, uint64_t offset, uint64_t length)
{
	uint32_t id;
	int dev, ret;

	ret = pmf_reg_current(r, &dev, &id);
	if (ret)
		return pmf_kernel_err(ret, "PMEMFLUSH_REGISTER in a forked child");
	ret = pmf_kops->flush(dev, PMEMFLUSH_BY_ID, (int)id, offset, length);
	return ret ? pmf_kernel_err(ret, "PMEMFLUSH_FLUSH") : 0;
}

int pmf_reg_query(struct pmf_reg *r, struct pmemflush_query *q)
{
	uint32_t id;
	int dev, ret;

	ret = pmf_reg_current(r, &dev, &id);
	if (ret)
		return pmf_kernel_err(ret, "PMEMFLUSH_REGISTER in a forked child");
	ret = pmf_kops->query(dev, PMEMFLUSH_BY_ID, (int)id, q);
	return ret ? pmf_kernel_err(ret, "PMEMFLUSH_QUERY") : 0;
}

void pmf_reg_drop(struct pmf_reg *r)
{
	uint64_t s = atomic_exchange(&r->state, 0);
	int dev;

	/* an id of an earlier generation is the parent's: leave it */
	if (!(s & 0xffff) || (uint32_t)(s >> 32) != pmf_dev_gen())
		return;
	dev = pmf_dev_get((s >> 16) & 0xffff);
	if (dev >= 0)
		pmf_kops->unreg(dev, s & 0xffff);
}
