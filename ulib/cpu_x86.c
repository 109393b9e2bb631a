// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * x86-64's write-backs for cpu.c's dispatcher: CLWB > CLFLUSHOPT > CLFLUSH
 * by CPUID, less what PMEM_NO_CLWB=1 / PMEM_NO_CLFLUSHOPT=1 rule out, as
 * libpmem2 does; SFENCE drains.
 */
#if defined(__x86_64__)

#include <cpuid.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "pmf.h"

#define PMF_CPUID1_EDX_CLFLUSH		(1U << 19)
#define PMF_CPUID7_EBX_CLFLUSHOPT	(1U << 23)
#define PMF_CPUID7_EBX_CLWB		(1U << 24)
#define PMF_CPUID7_ECX_OSPKE		(1U << 4)

void pmf_cpuid_read(struct pmf_cpuid *id)
{
	unsigned int a, b, c, d;

	memset(id, 0, sizeof(*id));
	if (__get_cpuid(1, &a, &b, &c, &d))
		id->clflush = d & PMF_CPUID1_EDX_CLFLUSH;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		id->clflushopt = b & PMF_CPUID7_EBX_CLFLUSHOPT;
		id->clwb = b & PMF_CPUID7_EBX_CLWB;
	}
}

/*
 * Whether the CPU may write back the cache lines of a map with @prot
 * (PMEM2_PROT_*): CLWB, CLFLUSHOPT and CLFLUSH check access as a load does.
 * On x86 a present page is readable, a writable one included, except with
 * no access at all (PROT_NONE) and execute-only, which Linux makes unreadable
 * with a protection key where the OS has enabled them (CPUID OSPKE).
 */
bool pmf_cpu_can_write_back(unsigned int prot)
{
	unsigned int a, b, c = 0, d;

	if (prot & (PMEM2_PROT_READ | PMEM2_PROT_WRITE))
		return true;
	if (!(prot & PMEM2_PROT_EXEC))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return true;
	return !(c & PMF_CPUID7_ECX_OSPKE);
}

/*
 * CLFLUSH is the floor even when CPUID denies it: SSE2, which every x86-64
 * CPU has, includes it.
 */
enum pmf_cpu_flush pmf_cpu_select(const struct pmf_cpuid *id,
				  char *(*env)(const char *))
{
	enum pmf_cpu_flush kind = PMF_CPU_CLFLUSH;

	if (id->clflushopt && !pmf_env_is(env, "PMEM_NO_CLFLUSHOPT", "1"))
		kind = PMF_CPU_CLFLUSHOPT;
	if (id->clwb && !pmf_env_is(env, "PMEM_NO_CLWB", "1"))
		kind = PMF_CPU_CLWB;
	return kind;
}

const char *pmf_cpu_flush_name(enum pmf_cpu_flush kind)
{
	switch (kind) {
	case PMF_CPU_CLWB:
		return "clwb";
	case PMF_CPU_CLFLUSHOPT:
		return "clflushopt";
	default:
		return "clflush";
	}
}

static inline __attribute__((target("clwb")))
void pmf_line_clwb(const void *p)
{
	_mm_clwb((void *)p);
}

static inline __attribute__((target("clflushopt")))
void pmf_line_clflushopt(const void *p)
{
	_mm_clflushopt((void *)p);
}

static inline
void pmf_line_clflush(const void *p)
{
	_mm_clflush(p);
}

static __attribute__((target("clwb")))
void pmf_flush_clwb(const void *ptr, size_t size)
{
	pmf_for_each_line(ptr, size, pmf_line_clwb);
}

static __attribute__((target("clflushopt")))
void pmf_flush_clflushopt(const void *ptr, size_t size)
{
	pmf_for_each_line(ptr, size, pmf_line_clflushopt);
}

static void pmf_flush_clflush(const void *ptr, size_t size)
{
	pmf_for_each_line(ptr, size, pmf_line_clflush);
}

void pmf_cpu_drain(void)
{
	_mm_sfence();
}

static __attribute__((target("clwb")))
void pmf_persist_clwb(const void *ptr, size_t size)
{
	pmf_flush_clwb(ptr, size);
	_mm_sfence();
}

static __attribute__((target("clflushopt")))
void pmf_persist_clflushopt(const void *ptr, size_t size)
{
	pmf_flush_clflushopt(ptr, size);
	_mm_sfence();
}

static void pmf_persist_clflush(const void *ptr, size_t size)
{
	pmf_flush_clflush(ptr, size);
	_mm_sfence();
}

void pmf_cpu_fns_of(enum pmf_cpu_flush kind, struct pmf_cpu_fns *fns)
{
	fns->drain = pmf_cpu_drain;
	switch (kind) {
	case PMF_CPU_CLWB:
		fns->flush = pmf_flush_clwb;
		fns->persist = pmf_persist_clwb;
		break;
	case PMF_CPU_CLFLUSHOPT:
		fns->flush = pmf_flush_clflushopt;
		fns->persist = pmf_persist_clflushopt;
		break;
	default:
		fns->flush = pmf_flush_clflush;
		fns->persist = pmf_persist_clflush;
	}
}

#endif /* __x86_64__ */
