// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_get_memcpy_fn, pmem2_get_memmove_fn, pmem2_get_memset_fn: copy or
 * fill, and make the result durable as the map's granularity needs, with
 * libpmem2's rules:
 *
 * - CACHE_LINE: ordinary stores and a write-back of every line written
 *   (the cpu.c dispatcher: CLWB, CLFLUSHOPT or CLFLUSH), or non-temporal
 *   stores for the whole lines; then SFENCE unless PMEM2_F_MEM_NODRAIN.
 *   Non-temporal when asked (NONTEMPORAL or WC), ordinary when asked
 *   (TEMPORAL or WB), otherwise from PMEM_MOVNT_THRESHOLD bytes (256) on.
 * - BYTE (eADR): no write-back; non-temporal stores only when asked, and
 *   fenced; SFENCE unless NODRAIN.
 * - PAGE: the copy, then the map's persist (msync(2)) of the range.
 * - PMEM2_F_MEM_NOFLUSH: ordinary stores, neither write-back nor fence.
 *
 * The loops come in SSE2, AVX and AVX-512F builds (memops_isa.h); which one
 * is chosen once per process, by CPUID and XGETBV, less what PMEM_AVX=0,
 * PMEM_AVX512F=0 rule out; PMEM_NO_MOVNT=1 turns non-temporal stores off.
 * On 64-bit POWER they are the C library's memmove and memset, with no
 * non-temporal stores, and the fence is the dispatcher's (hwsync or
 * phwsync, cpu_ppc64.c).
 * Flags outside PMEM2_F_MEM_VALID_FLAGS are ignored, as in libpmem2's
 * release build. memcpy is memmove: overlap in either direction is fine.
 */
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pmf.h"

#define PMF_F_NT	(PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_WC)
#define PMF_F_T		(PMEM2_F_MEM_TEMPORAL | PMEM2_F_MEM_WB)
#define PMF_F_NOFENCE	(PMEM2_F_MEM_NODRAIN | PMEM2_F_MEM_NOFLUSH)

#define PMF_MOVNT_THRESHOLD	256
/* ordinary stores are written back after each piece of this many bytes */
#define PMF_MEM_CHUNK		512

#if defined(__x86_64__)
#define PMF_CPUID1_ECX_AVX	(1U << 28)
#define PMF_CPUID1_ECX_OSXSAVE	(1U << 27)
#define PMF_CPUID7_EBX_AVX512F	(1U << 16)
#define PMF_XCR0_AVX		0x06	/* SSE, AVX state */
#define PMF_XCR0_AVX512		0xe6	/* and opmask, ZMM0-15 high, ZMM16-31 */

static uint64_t pmf_xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

void pmf_mem_cpuid_read(struct pmf_mem_cpuid *id)
{
	unsigned int a, b, c, d;
	uint64_t xcr0 = 0;

	memset(id, 0, sizeof(*id));
	if (__get_cpuid(0, &a, &b, &c, &d))
		/* "GenuineIntel" in EBX, EDX, ECX */
		id->intel = b == 0x756e6547 && d == 0x49656e69 &&
			    c == 0x6c65746e;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & PMF_CPUID1_ECX_OSXSAVE))
		return;
	xcr0 = pmf_xgetbv0();
	id->avx = (c & PMF_CPUID1_ECX_AVX) &&
		  (xcr0 & PMF_XCR0_AVX) == PMF_XCR0_AVX;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
		id->avx512f = (b & PMF_CPUID7_EBX_AVX512F) &&
			      (xcr0 & PMF_XCR0_AVX512) == PMF_XCR0_AVX512;
}

void pmf_mem_select(const struct pmf_mem_cpuid *id,
		    char *(*env)(const char *), struct pmf_mem_choice *c)
{
	const char *v;

	c->kind = PMF_MEM_SSE2;
	if (id->avx && !pmf_env_is(env, "PMEM_AVX", "0"))
		c->kind = PMF_MEM_AVX;
	if (id->avx512f && !pmf_env_is(env, "PMEM_AVX512F", "0"))
		c->kind = PMF_MEM_AVX512F;
	c->movnt = !pmf_env_is(env, "PMEM_NO_MOVNT", "1");
	/* only "1" and "0" count; anything else leaves the default */
	c->wc_barrier = id->intel;
	if (pmf_env_is(env, "PMEM_WC_WORKAROUND", "1"))
		c->wc_barrier = true;
	else if (pmf_env_is(env, "PMEM_WC_WORKAROUND", "0"))
		c->wc_barrier = false;
	/* atoll as libpmem2: a negative value is ignored, junk reads 0 */
	c->threshold = PMF_MOVNT_THRESHOLD;
	v = env("PMEM_MOVNT_THRESHOLD");
	if (v) {
		long long t = atoll(v);

		if (t >= 0)
			c->threshold = (size_t)t;
	}
}

const char *pmf_mem_kind_name(enum pmf_mem_kind kind)
{
	switch (kind) {
	case PMF_MEM_AVX512F:
		return "avx512f";
	case PMF_MEM_AVX:
		return "avx";
	default:
		return "sse2";
	}
}

#define PMF_MEM_ISA_DEFAULT	(&pmf_mem_isa_sse2)

static const struct pmf_mem_isa *pmf_mem_isa_of(enum pmf_mem_kind kind)
{
	switch (kind) {
	case PMF_MEM_AVX512F:
		return &pmf_mem_isa_avx512;
	case PMF_MEM_AVX:
		return &pmf_mem_isa_avx;
	default:
		return &pmf_mem_isa_sse2;
	}
}

static inline void pmf_mem_fence(void)
{
	_mm_sfence();
}
#else /* !__x86_64__ */
void pmf_mem_cpuid_read(struct pmf_mem_cpuid *id)
{
	memset(id, 0, sizeof(*id));
}

/* no non-temporal stores, whatever PMEM_NO_MOVNT and the threshold say */
void pmf_mem_select(const struct pmf_mem_cpuid *id,
		    char *(*env)(const char *), struct pmf_mem_choice *c)
{
	(void)id;
	(void)env;
	memset(c, 0, sizeof(*c));
	c->kind = PMF_MEM_GENERIC;
	c->movnt = false;
	c->threshold = PMF_MOVNT_THRESHOLD;
}

const char *pmf_mem_kind_name(enum pmf_mem_kind kind)
{
	(void)kind;
	return "generic";
}

static void pmf_generic_move(char *d, const char *s, size_t n)
{
	memmove(d, s, n);
}

static void pmf_generic_set(char *d, int c, size_t n)
{
	memset(d, c, n);
}

const struct pmf_mem_isa pmf_mem_isa_generic = {
	.move = pmf_generic_move,
	.set = pmf_generic_set,
};

#define PMF_MEM_ISA_DEFAULT	(&pmf_mem_isa_generic)

static const struct pmf_mem_isa *pmf_mem_isa_of(enum pmf_mem_kind kind)
{
	(void)kind;
	return &pmf_mem_isa_generic;
}

/* the fence of the write-back the dispatcher chose */
static inline void pmf_mem_fence(void)
{
	pmf_cpu_drain();
}
#endif /* __x86_64__ */

#ifdef PMF_TEST_HOOKS
const struct pmf_mem_cpuid *pmf_test_mem_cpuid;
#endif

/*
 * Chosen once, when the first map is made (the functions are reached only
 * through a map), and read-only afterwards.
 */
static pthread_once_t pmf_mem_once = PTHREAD_ONCE_INIT;
static struct pmf_mem_choice pmf_mem;
static const struct pmf_mem_isa *pmf_mem_ops = PMF_MEM_ISA_DEFAULT;
/* the dispatcher's write-back, and whether it is CLFLUSH */
static pmem2_flush_fn pmf_mem_wb_fn;
static bool pmf_mem_clflush;

static void pmf_mem_use(const struct pmf_mem_choice *c)
{
	pmf_mem = *c;
	pmf_mem_ops = pmf_mem_isa_of(c->kind);
}

static void pmf_mem_init(void)
{
	struct pmf_mem_cpuid id;
	struct pmf_mem_choice c;

#ifdef PMF_TEST_HOOKS
	if (pmf_test_mem_cpuid)
		id = *pmf_test_mem_cpuid;
	else
#endif
		pmf_mem_cpuid_read(&id);
	pmf_mem_select(&id, secure_getenv, &c);
	pmf_mem_use(&c);
	pmf_mem_wb_fn = pmf_cpu_flush_get();
#if defined(__x86_64__)
	pmf_mem_clflush = pmf_cpu_flush_kind() == PMF_CPU_CLFLUSH;
#endif
}

void pmf_mem_choice_get(struct pmf_mem_choice *c)
{
	pthread_once(&pmf_mem_once, pmf_mem_init);
	*c = pmf_mem;
}

#ifdef PMF_TEST_HOOKS
void pmf_test_mem_force(const struct pmf_mem_choice *c)
{
	pthread_once(&pmf_mem_once, pmf_mem_init);
	pmf_mem_use(c);
}
#endif

/* the write-back of lines, through cpu.c's test spy when one is set */
static inline pmem2_flush_fn pmf_mem_wb(void)
{
	return pmf_test_cpu_flush_spy ? pmf_cpu_flush : pmf_mem_wb_fn;
}

static inline bool pmf_mem_nt(unsigned int flags, size_t len)
{
	if (!pmf_mem.movnt)
		return false;
	if (flags & PMF_F_NT)
		return true;
	if (flags & PMF_F_T)
		return false;
	return len >= pmf_mem.threshold;
}

/*
 * Ordinary stores, each piece written back once it is stored: pieces end
 * on line boundaries of the destination, so every line is written back
 * once, and follow the copy's direction, so overlap stays safe.
 */
static void pmf_move_wb(char *d, const char *s, size_t n, pmem2_flush_fn wb)
{
	const uintptr_t mask = ~(uintptr_t)(PMF_CACHELINE - 1);
	size_t off, end;

	if (n <= PMF_MEM_CHUNK) {
		pmf_mem_ops->move(d, s, n);
		wb(d, n);
		return;
	}
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		for (off = 0; off < n; off = end) {
			end = (((uintptr_t)d + off + PMF_MEM_CHUNK) & mask) -
			      (uintptr_t)d;
			if (end > n)
				end = n;
			pmf_mem_ops->move(d + off, s + off, end - off);
			wb(d + off, end - off);
		}
		return;
	}
	for (end = n; end; end = off) {
		off = end <= PMF_MEM_CHUNK ? 0 :
		      (((uintptr_t)d + end - PMF_MEM_CHUNK + PMF_CACHELINE - 1) &
		       mask) - (uintptr_t)d;
		pmf_mem_ops->move(d + off, s + off, end - off);
		wb(d + off, end - off);
	}
}

static void pmf_set_wb(char *d, int c, size_t n, pmem2_flush_fn wb)
{
	const uintptr_t mask = ~(uintptr_t)(PMF_CACHELINE - 1);
	size_t off, end;

	if (n <= PMF_MEM_CHUNK) {
		pmf_mem_ops->set(d, c, n);
		wb(d, n);
		return;
	}
	for (off = 0; off < n; off = end) {
		end = (((uintptr_t)d + off + PMF_MEM_CHUNK) & mask) -
		      (uintptr_t)d;
		if (end > n)
			end = n;
		pmf_mem_ops->set(d + off, c, end - off);
		wb(d + off, end - off);
	}
}

#ifdef PMF_TEST_HOOKS
unsigned int pmf_test_mem_fences, pmf_test_mem_nt_runs;
#define PMF_TEST_COUNT(c) ((c)++)
#else
#define PMF_TEST_COUNT(c) do { } while (0)
#endif

static inline void pmf_mem_sfence(void)
{
	PMF_TEST_COUNT(pmf_test_mem_fences);
	pmf_mem_fence();
}

/* non-temporal stores; @wb writes back the partial lines around them */
static inline void pmf_move_nt(char *d, const char *s, size_t n,
			       pmem2_flush_fn wb)
{
	PMF_TEST_COUNT(pmf_test_mem_nt_runs);
	pmf_mem_ops->move_nt(d, s, n, wb, pmf_mem.wc_barrier);
}

static inline void pmf_set_nt(char *d, int c, size_t n, pmem2_flush_fn wb)
{
	PMF_TEST_COUNT(pmf_test_mem_nt_runs);
	pmf_mem_ops->set_nt(d, c, n, wb, pmf_mem.wc_barrier);
}

static inline void pmf_mem_drain(unsigned int flags)
{
	if (!(flags & PMF_F_NOFENCE))
		pmf_mem_sfence();
}

/*
 * After non-temporal stores on CACHE_LINE, libpmem2 fences itself only
 * with CLFLUSH, whose drain it does not count on; with CLWB or CLFLUSHOPT
 * the drain (or, with NODRAIN, the caller's) orders them.
 */
static inline void pmf_nt_fence_line(void)
{
	if (pmf_mem_clflush)
		pmf_mem_sfence();
}

static void *pmf_memmove_line(void *pmemdest, const void *src, size_t len,
			      unsigned int flags)
{
	char *d = pmemdest;
	const char *s = src;

	if (len && d != s) {
		if (flags & PMEM2_F_MEM_NOFLUSH) {
			pmf_mem_ops->move(d, s, len);
		} else if (pmf_mem_nt(flags, len)) {
			pmf_move_nt(d, s, len, pmf_mem_wb());
			pmf_nt_fence_line();
		} else {
			pmf_move_wb(d, s, len, pmf_mem_wb());
		}
	}
	pmf_mem_drain(flags);
	return pmemdest;
}

static void *pmf_memset_line(void *pmemdest, int c, size_t len,
			     unsigned int flags)
{
	char *d = pmemdest;

	if (len) {
		if (flags & PMEM2_F_MEM_NOFLUSH) {
			pmf_mem_ops->set(d, c, len);
		} else if (pmf_mem_nt(flags, len)) {
			pmf_set_nt(d, c, len, pmf_mem_wb());
			pmf_nt_fence_line();
		} else {
			pmf_set_wb(d, c, len, pmf_mem_wb());
		}
	}
	pmf_mem_drain(flags);
	return pmemdest;
}

/*
 * eADR: the caches are durable; non-temporal stores only when asked for
 * by name (libpmem2: PMEM2_F_MEM_WC alone stores through the cache), and
 * fenced by the drain, or with NODRAIN at once
 */
static inline bool pmf_mem_nt_byte(unsigned int flags)
{
	return pmf_mem.movnt && (flags & PMEM2_F_MEM_NONTEMPORAL) &&
	       !(flags & PMEM2_F_MEM_NOFLUSH);
}

static inline void pmf_nt_fence_byte(unsigned int flags)
{
	if (flags & PMEM2_F_MEM_NODRAIN)
		pmf_mem_sfence();
}

static void *pmf_memmove_byte(void *pmemdest, const void *src, size_t len,
			      unsigned int flags)
{
	char *d = pmemdest;
	const char *s = src;

	if (len && d != s) {
		if (pmf_mem_nt_byte(flags)) {
			pmf_move_nt(d, s, len, NULL);
			pmf_nt_fence_byte(flags);
		} else {
			pmf_mem_ops->move(d, s, len);
		}
	}
	pmf_mem_drain(flags);
	return pmemdest;
}

static void *pmf_memset_byte(void *pmemdest, int c, size_t len,
			     unsigned int flags)
{
	char *d = pmemdest;

	if (len) {
		if (pmf_mem_nt_byte(flags)) {
			pmf_set_nt(d, c, len, NULL);
			pmf_nt_fence_byte(flags);
		} else {
			pmf_mem_ops->set(d, c, len);
		}
	}
	pmf_mem_drain(flags);
	return pmemdest;
}

/* each map the range overlaps persists its part, as its persist does */
static int pmf_mem_persist_part(struct pmem2_map *map, const void *p,
				size_t len)
{
	map->persist(p, len);
	return 0;
}

/*
 * PAGE: the stores, then the map's persist (msync(2) for a file, which
 * writes the pages and their CPU caches back itself); non-temporal stores
 * are fenced first. NODRAIN means nothing here.
 */
static void pmf_mem_page_persist(void *d, size_t len, unsigned int flags)
{
	if (!(flags & PMEM2_F_MEM_NOFLUSH))
		pmf_maps_for_range(d, len, pmf_mem_persist_part);
}

static void *pmf_memmove_page(void *pmemdest, const void *src, size_t len,
			      unsigned int flags)
{
	char *d = pmemdest;
	const char *s = src;

	if (len && d != s) {
		if (!(flags & PMEM2_F_MEM_NOFLUSH) && pmf_mem_nt(flags, len)) {
			pmf_move_nt(d, s, len, NULL);
			pmf_mem_sfence();
		} else {
			pmf_mem_ops->move(d, s, len);
		}
	}
	pmf_mem_page_persist(d, len, flags);
	return pmemdest;
}

static void *pmf_memset_page(void *pmemdest, int c, size_t len,
			     unsigned int flags)
{
	char *d = pmemdest;

	if (len) {
		if (!(flags & PMEM2_F_MEM_NOFLUSH) && pmf_mem_nt(flags, len)) {
			pmf_set_nt(d, c, len, NULL);
			pmf_mem_sfence();
		} else {
			pmf_mem_ops->set(d, c, len);
		}
	}
	pmf_mem_page_persist(d, len, flags);
	return pmemdest;
}

void pmf_map_mem_fns(struct pmem2_map *map)
{
	pthread_once(&pmf_mem_once, pmf_mem_init);
	switch (map->granularity) {
	case PMEM2_GRANULARITY_BYTE:
		map->memmove_fn = pmf_memmove_byte;
		map->memset_fn = pmf_memset_byte;
		break;
	case PMEM2_GRANULARITY_CACHE_LINE:
		map->memmove_fn = pmf_memmove_line;
		map->memset_fn = pmf_memset_line;
		break;
	default:
		map->memmove_fn = pmf_memmove_page;
		map->memset_fn = pmf_memset_page;
	}
	map->memcpy_fn = map->memmove_fn;
}

PMF_EXPORT pmem2_memmove_fn pmem2_get_memmove_fn(struct pmem2_map *map)
{
	return map->memmove_fn;
}

PMF_EXPORT pmem2_memcpy_fn pmem2_get_memcpy_fn(struct pmem2_map *map)
{
	return map->memcpy_fn;
}

PMF_EXPORT pmem2_memset_fn pmem2_get_memset_fn(struct pmem2_map *map)
{
	return map->memset_fn;
}
