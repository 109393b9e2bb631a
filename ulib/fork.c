// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What fork() does to the library. A child has only the thread that forked:
 * every lock another thread of the parent held would stay held in it. So
 * each lock that can be taken from more than one thread is taken around
 * fork() and made new in the child, in one order, here, that nests as the
 * library does: a reservation's lock (pmem2_map_new() holds it while it adds
 * the map to maps.c), then the map list's, then the machine-check copy's
 * (source.c, held alone). The child also drops the parent's /dev/pmemflush
 * files and ids (kops.c).
 */
#include <pthread.h>

#include "pmf.h"

static void pmf_fork_prepare(void)
{
	pmf_vmr_fork_prepare();
	pmf_maps_fork_prepare();
	pmf_mc_fork_prepare();
}

static void pmf_fork_parent(void)
{
	pmf_mc_fork_parent();
	pmf_maps_fork_parent();
	pmf_vmr_fork_parent();
}

static void pmf_fork_child(void)
{
	pmf_mc_fork_child();
	pmf_maps_fork_child();
	pmf_vmr_fork_child();
	pmf_dev_fork_child();
}

__attribute__((constructor)) static void pmf_fork_init(void)
{
	pthread_atfork(pmf_fork_prepare, pmf_fork_parent, pmf_fork_child);
}
