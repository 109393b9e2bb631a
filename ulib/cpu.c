// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The one CPU-flush dispatcher: the architecture's file (cpu_x86.c,
 * cpu_ppc64.c) reads what the CPU offers and picks a kind of write-back;
 * this file makes that choice once per process and hands it out.
 */
#include <pthread.h>
#include <stdlib.h>

#include "pmf.h"

#ifdef PMF_TEST_HOOKS
const struct pmf_cpuid *pmf_test_cpuid;
#endif

/*
 * The choice is process-wide, made once: CPU features and the environment
 * do not change under a running process, and the flush path must not pay
 * for a lookup. Written under pthread_once, read-only afterwards.
 */
static pthread_once_t pmf_cpu_once = PTHREAD_ONCE_INIT;
static enum pmf_cpu_flush pmf_cpu_kind;
static struct pmf_cpu_fns pmf_cpu_fns;

static void pmf_cpu_init(void)
{
	struct pmf_cpuid id;

#ifdef PMF_TEST_HOOKS
	if (pmf_test_cpuid)
		id = *pmf_test_cpuid;
	else
#endif
		pmf_cpuid_read(&id);
	pmf_cpu_kind = pmf_cpu_select(&id, secure_getenv);
	pmf_cpu_fns_of(pmf_cpu_kind, &pmf_cpu_fns);
}

enum pmf_cpu_flush pmf_cpu_flush_kind(void)
{
	pthread_once(&pmf_cpu_once, pmf_cpu_init);
	return pmf_cpu_kind;
}

pmem2_flush_fn pmf_cpu_flush_get(void)
{
	pthread_once(&pmf_cpu_once, pmf_cpu_init);
	return pmf_cpu_fns.flush;
}

pmem2_persist_fn pmf_cpu_persist_get(void)
{
	pthread_once(&pmf_cpu_once, pmf_cpu_init);
	return pmf_cpu_fns.persist;
}

#ifdef PMF_TEST_HOOKS
/* sees every write-back a deep flush or a PAGE persist asks for */
pmem2_flush_fn pmf_test_cpu_flush_spy;
#endif

void pmf_cpu_flush(const void *ptr, size_t size)
{
	if (pmf_test_cpu_flush_spy)
		pmf_test_cpu_flush_spy(ptr, size);
	pmf_cpu_flush_get()(ptr, size);
}
