// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The process's /dev/pmemflush files (pmf.h: PMF_DEV_SLOTS), and what a
 * forked child does with the ones it inherited.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "pmf.h"

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
