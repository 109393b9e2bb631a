// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Registered targets (struct pmf_reg): REGISTER on the first slot with room,
 * FLUSH and QUERY by id, and registering again in a forked child.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "pmf.h"

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

/* the FLUSH by id of [@offset, @offset + @length), for the caller's ring */
int pmf_reg_cmd(struct pmf_reg *r, uint64_t offset, uint64_t length, int *dev,
		struct pmemflush_flush *f)
{
	uint32_t id;
	int ret;

	ret = pmf_reg_current(r, dev, &id);
	if (ret)
		return pmf_kernel_err(ret, "PMEMFLUSH_REGISTER in a forked child");
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	f->flags = PMEMFLUSH_BY_ID;
	f->id = id;
	f->offset = offset;
	f->length = length;
	return 0;
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
