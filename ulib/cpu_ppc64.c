// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 64-bit POWER's write-backs for cpu.c's dispatcher.
 *
 * Power ISA 3.1 (POWER10) has write-backs and a fence made for persistent
 * storage: dcbstps (dcbf with L=6: write the block back, keep it cached)
 * and phwsync (sync with L=4: a hwsync that also waits for those
 * write-backs). Before 3.1 the ISA has neither; there dcbf and hwsync are
 * what the hardware does with those encodings, and what Linux's commit
 * "powerpc/pmem: Add new instructions for persistent storage and sync"
 * (v5.10) calls adequate for POWER8 and POWER9. The kernel
 * (arch/powerpc/lib/pmem.c) and libpmem2 (src/libpmem2/ppc64/init.c) emit
 * the 3.1 encodings on every CPU and count on older ones to read them as
 * dcbf and hwsync; this library asks the auxiliary vector which ISA it
 * runs on (AT_HWCAP2, PPC_FEATURE2_ARCH_3_1) and uses the 3.1 forms only
 * there. That also keeps it running where the encodings are not read that
 * way: QEMU's TCG raises an illegal-instruction exception on dcbf with L=4
 * or L=6 (QEMU 10.0, measured with the power8, power9 and power10 models;
 * 7.2's decoder has the same invalid-bits mask for dcbf).
 *
 * Instructions the assembler knows only with -mpower10 are written as
 * words, as the kernel's ppc-opcode.h does: RA = 0, RB = the address.
 */
#if defined(__powerpc64__)

#include <sys/auxv.h>

#include "pmf.h"

#ifndef PPC_FEATURE2_ARCH_3_1
#define PPC_FEATURE2_ARCH_3_1	0x00040000
#endif

void pmf_cpuid_read(struct pmf_cpuid *id)
{
	id->arch_3_1 = getauxval(AT_HWCAP2) & PPC_FEATURE2_ARCH_3_1;
}

/*
 * The cache-block instructions are loads as far as storage protection
 * goes: they fault on a page that cannot be read. Linux makes PROT_EXEC
 * alone execute-only where the MMU can (radix since 6.1, hash with
 * protection keys), so such a map is not written back.
 */
bool pmf_cpu_can_write_back(unsigned int prot)
{
	return prot & (PMEM2_PROT_READ | PMEM2_PROT_WRITE);
}

/* no environment variable chooses here: libpmem2 has none for ppc64 */
enum pmf_cpu_flush pmf_cpu_select(const struct pmf_cpuid *id,
				  char *(*env)(const char *))
{
	(void)env;
	return id->arch_3_1 ? PMF_CPU_DCBSTPS : PMF_CPU_DCBF;
}

const char *pmf_cpu_flush_name(enum pmf_cpu_flush kind)
{
	return kind == PMF_CPU_DCBSTPS ? "dcbstps" : "dcbf";
}

static inline void pmf_line_dcbf(const void *p)
{
	__asm__ volatile("dcbf 0,%0" : : "r"(p) : "memory");
}

static inline void pmf_line_dcbstps(const void *p)
{
	__asm__ volatile(".long (0x7c0000ac | (6 << 21) | (%0 << 11))"
			 : : "r"(p) : "memory");
}

static void pmf_hwsync(void)
{
	__asm__ volatile("sync" : : : "memory");
}

static void pmf_phwsync(void)
{
	__asm__ volatile(".long 0x7c8004ac" : : : "memory");
}

static void pmf_flush_dcbf(const void *ptr, size_t size)
{
	pmf_for_each_line(ptr, size, pmf_line_dcbf);
}

static void pmf_flush_dcbstps(const void *ptr, size_t size)
{
	pmf_for_each_line(ptr, size, pmf_line_dcbstps);
}

static void pmf_persist_dcbf(const void *ptr, size_t size)
{
	pmf_flush_dcbf(ptr, size);
	pmf_hwsync();
}

static void pmf_persist_dcbstps(const void *ptr, size_t size)
{
	pmf_flush_dcbstps(ptr, size);
	pmf_phwsync();
}

/* the fence that orders this process's kind of write-back */
void pmf_cpu_drain(void)
{
	if (pmf_cpu_flush_kind() == PMF_CPU_DCBSTPS)
		pmf_phwsync();
	else
		pmf_hwsync();
}

void pmf_cpu_fns_of(enum pmf_cpu_flush kind, struct pmf_cpu_fns *fns)
{
	if (kind == PMF_CPU_DCBSTPS) {
		fns->flush = pmf_flush_dcbstps;
		fns->persist = pmf_persist_dcbstps;
		fns->drain = pmf_phwsync;
	} else {
		fns->flush = pmf_flush_dcbf;
		fns->persist = pmf_persist_dcbf;
		fns->drain = pmf_hwsync;
	}
}

#endif /* __powerpc64__ */
