// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_get_mem{cpy,move,set}_fn: every instruction path (SSE2, AVX,
 * AVX-512F, each with and without non-temporal stores) against libc's
 * memmove/memset on a shadow copy, for every size to 1 KiB and a spread to
 * 8 KiB, source and destination alignments mod 64, overlap both ways, each
 * granularity and flag combination; guard bytes around the range must not
 * change. A spy on the CPU write-back checks which lines each call writes
 * back, a fake persist the PAGE path.
 */
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "pmf_test.h"

#define MAXN	8192
#define GUARD	128
#define BASE	256
#define ARENA	(2 * MAXN + 4096)
#define NLINES	(ARENA / PMF_CACHELINE)

static unsigned char *mem, *ref;
static unsigned int wb_count[NLINES];
static int wb_outside;
static int persists;
static uintptr_t persist_addr;
static size_t persist_len;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void spy(const void *ptr, size_t size)
{
	uintptr_t p = (uintptr_t)ptr & ~(uintptr_t)(PMF_CACHELINE - 1);
	uintptr_t end = (uintptr_t)ptr + size;

	for (; size && p < end; p += PMF_CACHELINE) {
		if (p < (uintptr_t)mem || p >= (uintptr_t)mem + ARENA)
			wb_outside++;
		else
			wb_count[(p - (uintptr_t)mem) / PMF_CACHELINE]++;
	}
}

static void fake_persist(const void *ptr, size_t size)
{
	persists++;
	persist_addr = (uintptr_t)ptr;
	persist_len = size;
}

/* fresh random bytes in [off, off + len) of both copies */
static void refill(size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		mem[off + i] = ref[off + i] = (unsigned char)next_rand();
}

static void setup_arena(void)
{
	mem = aligned_alloc(4096, ARENA);
	ref = malloc(ARENA);
	if (!mem || !ref)
		abort();
	refill(0, ARENA);
	pmf_test_cpu_flush_spy = spy;
}

static const char *gran_name(enum pmem2_granularity g)
{
	return g == PMEM2_GRANULARITY_BYTE ? "BYTE" :
	       g == PMEM2_GRANULARITY_CACHE_LINE ? "CACHE_LINE" : "PAGE";
}

/* a map over the arena, as the library makes one */
static void make_map(struct pmem2_map *m, enum pmem2_granularity g)
{
	memset(m, 0, sizeof(*m));
	m->addr = mem;
	m->size = ARENA;
	m->granularity = g;
	m->persist = fake_persist;
	m->flush = fake_persist;
	pmf_map_mem_fns(m);
}

/* what the library must do, from its documented rules */
static bool want_nt(enum pmem2_granularity g, const struct pmf_mem_choice *c,
		    unsigned int flags, size_t n)
{
	if (!c->movnt || (flags & PMEM2_F_MEM_NOFLUSH))
		return false;
	if (g == PMEM2_GRANULARITY_BYTE)
		return flags & PMEM2_F_MEM_NONTEMPORAL;
	if (flags & (PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_WC))
		return true;
	if (flags & (PMEM2_F_MEM_TEMPORAL | PMEM2_F_MEM_WB))
		return false;
	return n >= c->threshold;
}

/* the number of write-backs line @l (of the arena) must have had */
static unsigned int want_wb(enum pmem2_granularity g, bool nt,
			    unsigned int flags, size_t d, size_t n, size_t l)
{
	size_t first = d / PMF_CACHELINE, last = (d + n - 1) / PMF_CACHELINE;

	if (g != PMEM2_GRANULARITY_CACHE_LINE || !n ||
	    (flags & PMEM2_F_MEM_NOFLUSH) || l < first || l > last)
		return 0;
	if (!nt || n <= PMF_CACHELINE)
		return 1;
	/* non-temporal: only the partly written lines at the ends */
	if (l == first && d % PMF_CACHELINE)
		return 1;
	if (l == last && (d + n) % PMF_CACHELINE)
		return 1;
	return 0;
}

struct op {
	enum pmem2_granularity g;
	unsigned int flags;
	size_t d, s, n;		/* offsets in the arena */
	bool set;
	int c;
};

/*
 * Run one op on the arena and on the shadow, compare around it, check the
 * write-backs and the persist. Returns false (after logging) on a mismatch.
 */
static bool run_op(struct __test_metadata *_metadata, struct pmem2_map *m,
		   const struct pmf_mem_choice *c, const struct op *o)
{
	size_t lo = o->set ? o->d : (o->d < o->s ? o->d : o->s);
	size_t hi = o->set ? o->d : (o->d > o->s ? o->d : o->s);
	size_t l, wl_lo, wl_hi;
	bool nt = want_nt(o->g, c, o->flags, o->n);
	bool same = !o->set && o->d == o->s;
	void *ret;

	lo -= GUARD;
	hi += o->n + GUARD;
	memset(wb_count, 0, sizeof(wb_count));
	wb_outside = 0;
	persists = 0;
	if (o->set) {
		ret = m->memset_fn(mem + o->d, o->c, o->n, o->flags);
		memset(ref + o->d, o->c, o->n);
	} else {
		ret = m->memmove_fn(mem + o->d, mem + o->s, o->n, o->flags);
		memmove(ref + o->d, ref + o->s, o->n);
	}
	if (ret != mem + o->d || memcmp(mem + lo, ref + lo, hi - lo)) {
		size_t i = lo;

		while (i < hi && mem[i] == ref[i])
			i++;
		TH_LOG("%s %s flags %#x d %zu s %zu n %zu: %s at offset %ld",
		       o->set ? "memset" : "memmove", gran_name(o->g),
		       o->flags, o->d, o->s, o->n,
		       ret != mem + o->d ? "wrong return" : "differs",
		       (long)i - (long)o->d);
		return false;
	}
	if (wb_outside) {
		TH_LOG("write-back outside the arena");
		return false;
	}
	wl_lo = lo / PMF_CACHELINE;
	wl_hi = (hi - 1) / PMF_CACHELINE;
	for (l = wl_lo; l <= wl_hi; l++) {
		unsigned int want = same ? 0 :
				    want_wb(o->g, nt, o->flags, o->d, o->n, l);

		if (wb_count[l] != want) {
			TH_LOG("%s %s flags %#x d %zu n %zu nt %d: line %zd written back %u times, want %u",
			       o->set ? "memset" : "memmove", gran_name(o->g),
			       o->flags, o->d, o->n, nt,
			       (ssize_t)l - (ssize_t)(o->d / PMF_CACHELINE),
			       wb_count[l], want);
			return false;
		}
	}
	if (o->g == PMEM2_GRANULARITY_PAGE && o->n &&
	    !(o->flags & PMEM2_F_MEM_NOFLUSH)) {
		if (persists != 1 || persist_addr != (uintptr_t)mem + o->d ||
		    persist_len != o->n) {
			TH_LOG("PAGE: %d persists of %zu bytes, want 1 of %zu",
			       persists, persist_len, o->n);
			return false;
		}
	} else if (persists) {
		TH_LOG("%s flags %#x n %zu: persist called", gran_name(o->g),
		       o->flags, o->n);
		return false;
	}
	refill(lo, hi - lo);
	return true;
}

/* sizes: all of 0..@all, then a spread to MAXN */
static size_t next_size(size_t n, size_t all)
{
	if (n < all)
		return n + 1;
	return n + 1 + n / 16 + (next_rand() % 97);
}

FIXTURE(mem) {
	struct pmf_mem_choice c;
};

FIXTURE_VARIANT(mem) {
	enum pmf_mem_kind kind;
	bool movnt;
};

#if defined(__x86_64__)
FIXTURE_VARIANT_ADD(mem, sse2) { .kind = PMF_MEM_SSE2, .movnt = true };
FIXTURE_VARIANT_ADD(mem, avx) { .kind = PMF_MEM_AVX, .movnt = true };
FIXTURE_VARIANT_ADD(mem, avx512f) { .kind = PMF_MEM_AVX512F, .movnt = true };
FIXTURE_VARIANT_ADD(mem, sse2_no_movnt) { .kind = PMF_MEM_SSE2 };
FIXTURE_VARIANT_ADD(mem, avx_no_movnt) { .kind = PMF_MEM_AVX };
FIXTURE_VARIANT_ADD(mem, avx512f_no_movnt) { .kind = PMF_MEM_AVX512F };
#else
/* the C library's loops; never non-temporal */
FIXTURE_VARIANT_ADD(mem, generic) { .kind = PMF_MEM_GENERIC };
#endif

/*
 * The loops over sizes and alignments take about a second natively; under
 * qemu-ppc64le beside make check's guests (nice 10) alignments took more
 * than the harness's default 30 s. The limit only catches a hang.
 */
#define MEM_TIMEOUT	600

FIXTURE_SETUP(mem)
{
	self->c.kind = variant->kind;
	self->c.movnt = variant->movnt;
	self->c.wc_barrier = true;	/* the SFENCE runs, on any CPU */
	self->c.threshold = 256;
	pmf_test_mem_force(&self->c);
	setup_arena();
}

FIXTURE_TEARDOWN(mem)
{
	pmf_test_cpu_flush_spy = NULL;
	free(mem);
	free(ref);
}

#if defined(__x86_64__)
/* the CPU must have the instructions, and the OS their state */
#define SKIP_UNLESS_CPU(kind) do { \
	struct pmf_mem_cpuid id; \
	pmf_mem_cpuid_read(&id); \
	if ((kind) == PMF_MEM_AVX && !id.avx) \
		SKIP(return, "no AVX: CPUID.1:ECX.AVX or XCR0 SSE|AVX state not set"); \
	if ((kind) == PMF_MEM_AVX512F && !id.avx512f) \
		SKIP(return, "no AVX-512F: CPUID.7:EBX.AVX512F or XCR0 opmask|ZMM state not set"); \
} while (0)
#else
#define SKIP_UNLESS_CPU(kind) do { } while (0)
#endif

static const unsigned int flag_sets[] = {
	0,
	PMEM2_F_MEM_NODRAIN,
	PMEM2_F_MEM_NOFLUSH,
	PMEM2_F_MEM_TEMPORAL,
	PMEM2_F_MEM_WB,
	PMEM2_F_MEM_NONTEMPORAL,
	PMEM2_F_MEM_WC,
	PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN,
	PMEM2_F_MEM_TEMPORAL | PMEM2_F_MEM_NODRAIN,
	PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_TEMPORAL,
	PMEM2_F_MEM_NOFLUSH | PMEM2_F_MEM_NONTEMPORAL,
	PMEM2_F_MEM_NOFLUSH | PMEM2_F_MEM_NODRAIN | PMEM2_F_MEM_WC,
	PMEM2_F_MEM_VALID_FLAGS,
};

/* each granularity and flag set, copies (apart and overlapping) and fills */
TEST_F_TIMEOUT(mem, granularity_flags, MEM_TIMEOUT)
{
	static const enum pmem2_granularity grans[] = {
		PMEM2_GRANULARITY_BYTE, PMEM2_GRANULARITY_CACHE_LINE,
		PMEM2_GRANULARITY_PAGE,
	};
	unsigned int gi, fi;
	size_t n;
	long ops = 0;

	SKIP_UNLESS_CPU(variant->kind);
	for (gi = 0; gi < 3; gi++) {
		struct pmem2_map m;

		make_map(&m, grans[gi]);
		if (grans[gi] == PMEM2_GRANULARITY_PAGE)
			ASSERT_EQ(0, pmf_maps_add(&m));
		ASSERT_EQ(m.memcpy_fn, m.memmove_fn);
		for (fi = 0; fi < sizeof(flag_sets) / sizeof(flag_sets[0]);
		     fi++) {
			for (n = 0; n <= MAXN; n = next_size(n, 300)) {
				struct op o = {
					.g = grans[gi], .flags = flag_sets[fi],
					.n = n,
				};
				size_t k = 1 + next_rand() % (n ? n : 1);

				o.d = BASE + next_rand() % 64;
				o.s = MAXN + 2 * BASE + next_rand() % 64;
				ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
				/* overlapping, both ways */
				o.s = o.d + k;
				ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
				o.s = o.d;
				o.d += k;
				ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
				o.set = true;
				o.c = (int)(next_rand() % 1024) - 512;
				ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
				ops += 4;
			}
		}
		if (grans[gi] == PMEM2_GRANULARITY_PAGE)
			pmf_maps_remove(&m);
	}
	TH_LOG("%ld ops", ops);
}

/* every size to 1 KiB and a spread to 8 KiB, overlap at several distances */
TEST_F_TIMEOUT(mem, memmove_sizes, MEM_TIMEOUT)
{
	static const unsigned int fl[] = {
		0, PMEM2_F_MEM_NONTEMPORAL, PMEM2_F_MEM_TEMPORAL,
	};
	struct pmem2_map m;
	unsigned int fi;
	size_t n;

	SKIP_UNLESS_CPU(variant->kind);
	make_map(&m, PMEM2_GRANULARITY_CACHE_LINE);
	for (fi = 0; fi < 3; fi++) {
		for (n = 0; n <= MAXN; n = next_size(n, 1024)) {
			const size_t ks[] = { 1, 8, 63, 64, 65, n / 2, n - 1,
					      n, n + 1 };
			struct op o = {
				.g = PMEM2_GRANULARITY_CACHE_LINE,
				.flags = fl[fi], .n = n,
				.d = BASE + (n * 7) % 64,
				.s = MAXN + 2 * BASE + (n * 13 + fi) % 64,
			};
			unsigned int ki;

			ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
			for (ki = 0; ki < sizeof(ks) / sizeof(ks[0]); ki++) {
				if (!ks[ki] || ks[ki] > n + 1)
					continue;
				o.d = BASE + (n * 7 + ki) % 64;
				o.s = o.d + ks[ki];
				ASSERT_TRUE(run_op(_metadata, &m, &self->c,
						   &o));
				o.s = BASE + (n * 11 + ki) % 64;
				o.d = o.s + ks[ki];
				ASSERT_TRUE(run_op(_metadata, &m, &self->c,
						   &o));
			}
		}
	}
}

/* all 64 x 64 source and destination alignments at the sizes that matter */
TEST_F_TIMEOUT(mem, alignments, MEM_TIMEOUT)
{
	static const size_t sizes[] = {
		1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128,
		129, 191, 255, 256, 257, 319, 320, 1000, 4097,
	};
	static const unsigned int fl[] = {
		PMEM2_F_MEM_NONTEMPORAL, PMEM2_F_MEM_TEMPORAL,
	};
	struct pmem2_map m;
	unsigned int fi, si, da, sa;

	SKIP_UNLESS_CPU(variant->kind);
	make_map(&m, PMEM2_GRANULARITY_CACHE_LINE);
	for (fi = 0; fi < 2; fi++)
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++)
			for (da = 0; da < 64; da++) {
				struct op o = {
					.g = PMEM2_GRANULARITY_CACHE_LINE,
					.flags = fl[fi], .n = sizes[si],
					.d = BASE + da, .set = true,
					.c = (int)da * 5,
				};

				ASSERT_TRUE(run_op(_metadata, &m, &self->c,
						   &o));
				o.set = false;
				for (sa = 0; sa < 64; sa++) {
					o.s = MAXN + 2 * BASE + sa;
					ASSERT_TRUE(run_op(_metadata, &m,
							   &self->c, &o));
				}
			}
}

/* every size to 1 KiB and a spread to 8 KiB, each destination alignment */
TEST_F_TIMEOUT(mem, memset_sizes, MEM_TIMEOUT)
{
	static const unsigned int fl[] = {
		0, PMEM2_F_MEM_NONTEMPORAL, PMEM2_F_MEM_TEMPORAL,
	};
	struct pmem2_map m;
	unsigned int fi;
	size_t n;

	SKIP_UNLESS_CPU(variant->kind);
	make_map(&m, PMEM2_GRANULARITY_CACHE_LINE);
	for (fi = 0; fi < 3; fi++)
		for (n = 0; n <= MAXN; n = next_size(n, 1024)) {
			struct op o = {
				.g = PMEM2_GRANULARITY_CACHE_LINE,
				.flags = fl[fi], .n = n, .set = true,
				.c = (int)(n * 31) - 4000,
			};
			unsigned int i;

			for (i = 0; i < 3; i++) {
				o.d = BASE + (n * 3 + i * 21) % 64;
				ASSERT_TRUE(run_op(_metadata, &m, &self->c,
						   &o));
			}
		}
}

/*
 * libpmem2 (release build) ignores bits outside PMEM2_F_MEM_VALID_FLAGS:
 * the call does what its valid bits say and sets no error
 */
TEST_F(mem, invalid_flags)
{
	static const unsigned int bad[] = { 1U << 6, 1U << 15, 1U << 31 };
	struct pmem2_map m;
	unsigned int bi, fi;

	SKIP_UNLESS_CPU(variant->kind);
	make_map(&m, PMEM2_GRANULARITY_CACHE_LINE);
	pmf_err(-EINVAL, "earlier");
	for (bi = 0; bi < 3; bi++)
		for (fi = 0; fi < sizeof(flag_sets) / sizeof(flag_sets[0]);
		     fi++) {
			struct op o = {
				.g = PMEM2_GRANULARITY_CACHE_LINE,
				.flags = flag_sets[fi] | bad[bi], .n = 1000,
				.d = BASE + 3, .s = MAXN + 2 * BASE + 5,
			};

			/* run_op's model reads only the valid bits */
			ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
			o.set = true;
			o.c = 0x1a5;
			ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
		}
	ASSERT_STREQ("earlier", pmem2_errormsg());
}

/* a threshold of 0 and a huge one move the default to NT and to temporal */
TEST_F_TIMEOUT(mem, threshold, MEM_TIMEOUT)
{
	static const size_t th[] = { 0, 1, 4096, SIZE_MAX };
	struct pmem2_map m;
	unsigned int ti;
	size_t n;

	SKIP_UNLESS_CPU(variant->kind);
	make_map(&m, PMEM2_GRANULARITY_CACHE_LINE);
	for (ti = 0; ti < 4; ti++) {
		self->c.threshold = th[ti];
		pmf_test_mem_force(&self->c);
		for (n = 0; n <= MAXN; n = next_size(n, 130)) {
			struct op o = {
				.g = PMEM2_GRANULARITY_CACHE_LINE, .n = n,
				.d = BASE + n % 64, .s = MAXN + 2 * BASE + 9,
			};

			ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
			o.set = true;
			ASSERT_TRUE(run_op(_metadata, &m, &self->c, &o));
		}
	}
}

#if defined(__x86_64__)
static const char *env_vals[8];
static const char *const env_names[8] = {
	"PMEM_AVX", "PMEM_AVX512F", "PMEM_NO_MOVNT", "PMEM_MOVNT_THRESHOLD",
	"PMEM_WC_WORKAROUND",
};

static char *fake_env(const char *name)
{
	unsigned int i;

	for (i = 0; i < 5; i++)
		if (!strcmp(name, env_names[i]))
			return (char *)env_vals[i];
	return NULL;
}

/* init.c's choice: AVX-512F > AVX > SSE2, "0" turns one off, only "0" */
TEST(select_table)
{
	static const char *vals[] = { NULL, "0", "1", "no" };
	unsigned int bits, a, b;

	memset(env_vals, 0, sizeof(env_vals));
	for (bits = 0; bits < 4; bits++)
		for (a = 0; a < 4; a++)
			for (b = 0; b < 4; b++) {
				struct pmf_mem_cpuid id = {
					.avx = bits & 1, .avx512f = bits & 2,
				};
				struct pmf_mem_choice c;
				enum pmf_mem_kind want = PMF_MEM_SSE2;

				if (id.avx && a != 1)
					want = PMF_MEM_AVX;
				if (id.avx512f && b != 1)
					want = PMF_MEM_AVX512F;
				env_vals[0] = vals[a];
				env_vals[1] = vals[b];
				pmf_mem_select(&id, fake_env, &c);
				ASSERT_EQ(want, c.kind)
					TH_LOG("cpuid %u avx=%s avx512f=%s",
					       bits, vals[a], vals[b]);
				ASSERT_TRUE(c.movnt);
				ASSERT_EQ(256, c.threshold);
			}
}

TEST(select_env)
{
	struct pmf_mem_cpuid intel = { .intel = true }, amd = { 0 };
	struct pmf_mem_choice c;

	memset(env_vals, 0, sizeof(env_vals));
	pmf_mem_select(&intel, fake_env, &c);
	ASSERT_TRUE(c.wc_barrier);
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_FALSE(c.wc_barrier);
	env_vals[4] = "1";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_TRUE(c.wc_barrier);
	env_vals[4] = "0";
	pmf_mem_select(&intel, fake_env, &c);
	ASSERT_FALSE(c.wc_barrier);
	env_vals[4] = "yes";
	pmf_mem_select(&intel, fake_env, &c);
	ASSERT_TRUE(c.wc_barrier);

	env_vals[2] = "1";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_FALSE(c.movnt);
	env_vals[2] = "0";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_TRUE(c.movnt);

	/* atoll: a negative value is ignored, junk is 0 */
	env_vals[3] = "4096";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_EQ(4096, c.threshold);
	env_vals[3] = "-1";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_EQ(256, c.threshold);
	env_vals[3] = "junk";
	pmf_mem_select(&amd, fake_env, &c);
	ASSERT_EQ(0, c.threshold);
	ASSERT_STREQ("avx512f", pmf_mem_kind_name(PMF_MEM_AVX512F));
	ASSERT_STREQ("avx", pmf_mem_kind_name(PMF_MEM_AVX));
	ASSERT_STREQ("sse2", pmf_mem_kind_name(PMF_MEM_SSE2));
}

/* the one-time choice reads the real environment and the injected CPUID */
TEST(once_with_injected_cpuid_and_env)
{
	static const struct pmf_mem_cpuid all = { .avx = true, .avx512f = true };
	struct pmf_mem_choice c;

	pmf_test_mem_cpuid = &all;
	setenv("PMEM_AVX512F", "0", 1);
	setenv("PMEM_MOVNT_THRESHOLD", "1000", 1);
	pmf_mem_choice_get(&c);
	ASSERT_EQ(PMF_MEM_AVX, c.kind);
	ASSERT_EQ(1000, c.threshold);
	unsetenv("PMEM_AVX512F");
	unsetenv("PMEM_MOVNT_THRESHOLD");
	pmf_mem_choice_get(&c);
	ASSERT_EQ(PMF_MEM_AVX, c.kind);
	ASSERT_EQ(1000, c.threshold);
}

/* CPUID and XGETBV as libgcc reads them */
TEST(cpuid_matches_libgcc)
{
	struct pmf_mem_cpuid id;

	pmf_mem_cpuid_read(&id);
	__builtin_cpu_init();
	ASSERT_EQ(!!__builtin_cpu_supports("avx"), id.avx);
	ASSERT_EQ(!!__builtin_cpu_supports("avx512f"), id.avx512f);
	ASSERT_EQ(!!__builtin_cpu_is("intel"), id.intel);
}
#else
static const char *env_nt;

static char *fake_env(const char *name)
{
	return strcmp(name, "PMEM_NO_MOVNT") ? NULL : (char *)env_nt;
}

/*
 * One kind of loop, no non-temporal stores whatever the environment says
 * (libpmem2's ppc64 code has none), and the default threshold
 */
TEST(select_generic)
{
	struct pmf_mem_cpuid id;
	struct pmf_mem_choice c;

	pmf_mem_cpuid_read(&id);
	env_nt = "0";
	pmf_mem_select(&id, fake_env, &c);
	ASSERT_EQ(PMF_MEM_GENERIC, c.kind);
	ASSERT_FALSE(c.movnt);
	ASSERT_EQ(256, c.threshold);
	ASSERT_STREQ("generic", pmf_mem_kind_name(c.kind));
	pmf_mem_choice_get(&c);
	ASSERT_EQ(PMF_MEM_GENERIC, c.kind);
	ASSERT_FALSE(c.movnt);
}
#endif

/*
 * PAGE: each map the range overlaps persists its part, with NODRAIN too;
 * NOFLUSH and length 0 persist nothing; no CPU write-back of its own
 */
TEST(page_persist_per_map)
{
	struct pmem2_map a, b;
	unsigned char *p;

	setup_arena();
	make_map(&a, PMEM2_GRANULARITY_PAGE);
	make_map(&b, PMEM2_GRANULARITY_PAGE);
	a.size = 4096;
	b.addr = mem + 4096;
	b.size = 4096;
	ASSERT_EQ(0, pmf_maps_add(&a));
	ASSERT_EQ(0, pmf_maps_add(&b));
	p = mem + 4000;
	persists = 0;
	memset(wb_count, 0, sizeof(wb_count));
	ASSERT_EQ(p, a.memset_fn(p, 7, 200, PMEM2_F_MEM_NODRAIN));
	ASSERT_EQ(2, persists);
	ASSERT_EQ((uintptr_t)mem + 4096, persist_addr);
	ASSERT_EQ(104, persist_len);
	ASSERT_EQ(p, a.memcpy_fn(p, mem + 9000, 300, PMEM2_F_MEM_NONTEMPORAL));
	ASSERT_EQ(4, persists);
	ASSERT_EQ(0, memcmp(p, mem + 9000, 300));
	ASSERT_EQ(p, a.memmove_fn(p, p, 300, 0));
	ASSERT_EQ(6, persists);
	a.memmove_fn(p, mem + 9000, 0, 0);
	a.memset_fn(p, 1, 0, 0);
	a.memset_fn(p, 1, 10, PMEM2_F_MEM_NOFLUSH);
	ASSERT_EQ(6, persists);
	for (size_t l = 0; l < NLINES; l++)
		ASSERT_EQ(0, wb_count[l]);
	pmf_maps_remove(&a);
	pmf_maps_remove(&b);
	free(mem);
	free(ref);
}

/* the library's own maps get the functions of their granularity */
TEST(map_from_existing)
{
	static const enum pmem2_granularity grans[] = {
		PMEM2_GRANULARITY_BYTE, PMEM2_GRANULARITY_CACHE_LINE,
		PMEM2_GRANULARITY_PAGE,
	};
	struct pmem2_source src = { .fd = -1, .ftype = PMF_FTYPE_ANON,
				    .size = 1 << 20 };
	struct pmem2_map *map, ref_map;
	unsigned int i;
	char *buf;

	buf = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pmem2_map_from_existing(&map, &src, buf, 1 << 20,
						     grans[i]));
		memset(&ref_map, 0, sizeof(ref_map));
		ref_map.granularity = grans[i];
		pmf_map_mem_fns(&ref_map);
		ASSERT_EQ(ref_map.memmove_fn, pmem2_get_memmove_fn(map));
		ASSERT_EQ(ref_map.memmove_fn, pmem2_get_memcpy_fn(map));
		ASSERT_EQ(ref_map.memset_fn, pmem2_get_memset_fn(map));
		pmem2_get_memset_fn(map)(buf, 0x5a, 5000, 0);
		pmem2_get_memcpy_fn(map)(buf + 8192, buf + 1, 4000, 0);
		ASSERT_EQ(0x5a, buf[8192 + 3999]);
		ASSERT_EQ(0, pmem2_map_delete(&map));
	}
	munmap(buf, 1 << 20);
	PMF_LEAK_CHECK();
}

/* one 1 KiB memset (@set) or memmove on a fresh map, its fences counted */
static void counted_call(enum pmem2_granularity g, bool set, unsigned int flags)
{
	struct pmem2_map m;

	make_map(&m, g);
	pmf_test_mem_fences = pmf_test_mem_nt_runs = 0;
	if (set)
		m.memset_fn(mem + BASE, 0x11, 1024, flags);
	else
		m.memmove_fn(mem + BASE, mem + BASE + 4096, 1024, flags);
}

#if defined(__x86_64__)
/*
 * SFENCEs and non-temporal runs per call, libpmem2's (x86_64/init.c and
 * memcpy_memset.h in PMDK 1.12.1): on CACHE_LINE the non-temporal stores
 * are fenced by the drain alone with CLWB or CLFLUSHOPT, so NODRAIN leaves
 * none, and by one more SFENCE with CLFLUSH; on BYTE only
 * PMEM2_F_MEM_NONTEMPORAL stores non-temporally (WC stores through the
 * cache).
 */
FIXTURE(fence) {
	struct pmf_cpuid id;
};

FIXTURE_VARIANT(fence) {
	bool clwb;
};

FIXTURE_VARIANT_ADD(fence, clwb) { .clwb = true };
FIXTURE_VARIANT_ADD(fence, clflush) { .clwb = false };

FIXTURE_SETUP(fence)
{
	struct pmf_mem_choice c = {
		.kind = PMF_MEM_SSE2, .movnt = true, .threshold = 256,
	};
	struct pmf_cpuid real;

	pmf_cpuid_read(&real);
	if (variant->clwb && !real.clwb)
		SKIP(return, "no CLWB on this CPU");
	self->id.clflush = true;
	self->id.clwb = variant->clwb;
	pmf_test_cpuid = &self->id;
	pmf_test_mem_force(&c);
	setup_arena();
}

FIXTURE_TEARDOWN(fence)
{
	pmf_test_cpu_flush_spy = NULL;
	pmf_test_cpuid = NULL;
	free(mem);
	free(ref);
}

TEST_F(fence, per_call_as_libpmem2)
{
	static const struct {
		enum pmem2_granularity g;
		unsigned int flags;
		unsigned int fences_clwb, fences_clflush, nt;
	} rows[] = {
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_NONTEMPORAL, 1, 2, 1 },
		{ PMEM2_GRANULARITY_CACHE_LINE,
		  PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN, 0, 1, 1 },
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_WC, 1, 2, 1 },
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_TEMPORAL, 1, 1, 0 },
		{ PMEM2_GRANULARITY_CACHE_LINE,
		  PMEM2_F_MEM_TEMPORAL | PMEM2_F_MEM_NODRAIN, 0, 0, 0 },
		{ PMEM2_GRANULARITY_BYTE, PMEM2_F_MEM_WC, 1, 1, 0 },
		{ PMEM2_GRANULARITY_BYTE, PMEM2_F_MEM_WC | PMEM2_F_MEM_NODRAIN,
		  0, 0, 0 },
		{ PMEM2_GRANULARITY_BYTE, PMEM2_F_MEM_NONTEMPORAL, 1, 1, 1 },
		{ PMEM2_GRANULARITY_BYTE,
		  PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN, 1, 1, 1 },
	};
	unsigned int i, set;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (set = 0; set < 2; set++) {
			unsigned int want = variant->clwb ?
					    rows[i].fences_clwb :
					    rows[i].fences_clflush;

			counted_call(rows[i].g, set, rows[i].flags);
			EXPECT_EQ(want, pmf_test_mem_fences)
				TH_LOG("%s %s flags %#x: SFENCEs",
				       gran_name(rows[i].g),
				       set ? "memset" : "memmove",
				       rows[i].flags);
			EXPECT_EQ(rows[i].nt, pmf_test_mem_nt_runs)
				TH_LOG("%s %s flags %#x: non-temporal runs",
				       gran_name(rows[i].g),
				       set ? "memset" : "memmove",
				       rows[i].flags);
		}
	}
}
#else
/*
 * Fences per call without non-temporal stores: the drain's one, none with
 * NODRAIN or NOFLUSH, on CACHE_LINE and BYTE alike; PAGE leaves it to the
 * map's persist
 */
TEST(fences_per_call)
{
	static const struct {
		enum pmem2_granularity g;
		unsigned int flags, fences;
	} rows[] = {
		{ PMEM2_GRANULARITY_CACHE_LINE, 0, 1 },
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_NONTEMPORAL, 1 },
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_NODRAIN, 0 },
		{ PMEM2_GRANULARITY_CACHE_LINE, PMEM2_F_MEM_NOFLUSH, 0 },
		{ PMEM2_GRANULARITY_BYTE, PMEM2_F_MEM_NONTEMPORAL, 1 },
		{ PMEM2_GRANULARITY_BYTE, PMEM2_F_MEM_WC | PMEM2_F_MEM_NODRAIN, 0 },
		{ PMEM2_GRANULARITY_PAGE, PMEM2_F_MEM_NONTEMPORAL, 0 },
	};
	unsigned int i, set;

	setup_arena();
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (set = 0; set < 2; set++) {
			counted_call(rows[i].g, set, rows[i].flags);
			EXPECT_EQ(rows[i].fences, pmf_test_mem_fences)
				TH_LOG("%s %s flags %#x: fences",
				       gran_name(rows[i].g),
				       set ? "memset" : "memmove",
				       rows[i].flags);
			EXPECT_EQ(0, pmf_test_mem_nt_runs);
		}
	}
	free(mem);
	free(ref);
}
#endif

TEST_HARNESS_MAIN
