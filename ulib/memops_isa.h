/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The copy and fill loops of one instruction set, included once by each of
 * memops_sse2.c, memops_avx.c and memops_avx512.c after a
 * "#pragma GCC target" and these definitions:
 *
 *   PMF_ISA		the struct pmf_mem_isa to define (pmf_mem_isa_NAME)
 *   PMF_VW		vector width in bytes: 16, 32 or 64
 *   pmf_v		the vector type
 *   PMF_LOADU(p)	unaligned load of PMF_VW bytes
 *   PMF_STORE(p, v)	aligned store
 *   PMF_STREAM(p, v)	aligned non-temporal store
 *   PMF_SPLAT(c)	a vector of the byte @c
 *   PMF_WC_BARRIER	1 where libpmem2 limits runs of non-temporal stores
 *			(SSE2, AVX), 0 otherwise
 *
 * Every copy is a memmove: forward when the destination starts before the
 * source or the two do not overlap, else backward; a block's loads all
 * come before its stores, and the head and tail pieces are exact, so no
 * store reaches source bytes still to be read. The loops store whole,
 * aligned cache lines; only the piece before the first and after the last
 * full line of the destination is stored with ordinary stores (and written
 * back by @wb on the non-temporal path).
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "pmf.h"

#define PMF_LINE	PMF_CACHELINE
#define PMF_VPL		(PMF_LINE / PMF_VW)	/* vectors per line */
#define PMF_UNROLL	4			/* lines per loop turn */
#define PMF_WC_RUN	(12 * PMF_LINE)		/* WC buffers, libpmem2 */

/* 0..64 bytes by pairs of overlapping loads, then the stores */
static inline __attribute__((always_inline))
void pmf_small_move(char *d, const char *s, size_t n)
{
	if (n >= 32) {
#if PMF_VW >= 32
		__m256i a = _mm256_loadu_si256((const __m256i *)s);
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + n - 32));

		_mm256_storeu_si256((__m256i *)d, a);
		_mm256_storeu_si256((__m256i *)(d + n - 32), b);
#else
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
		__m128i c = _mm_loadu_si128((const __m128i *)(s + n - 32));
		__m128i e = _mm_loadu_si128((const __m128i *)(s + n - 16));

		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)(d + 16), b);
		_mm_storeu_si128((__m128i *)(d + n - 32), c);
		_mm_storeu_si128((__m128i *)(d + n - 16), e);
#endif
	} else if (n >= 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)s);
		__m128i b = _mm_loadu_si128((const __m128i *)(s + n - 16));

		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)(d + n - 16), b);
	} else if (n >= 8) {
		uint64_t a, b;

		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else if (n >= 2) {
		uint16_t a, b;

		memcpy(&a, s, 2);
		memcpy(&b, s + n - 2, 2);
		memcpy(d, &a, 2);
		memcpy(d + n - 2, &b, 2);
	} else if (n) {
		*d = *s;
	}
}

static inline __attribute__((always_inline))
void pmf_small_set(char *d, pmf_v v, int c, size_t n)
{
	if (n >= 32) {
#if PMF_VW >= 32
		__m256i a = _mm256_set1_epi8((char)c);

		_mm256_storeu_si256((__m256i *)d, a);
		_mm256_storeu_si256((__m256i *)(d + n - 32), a);
#else
		_mm_storeu_si128((__m128i *)d, v);
		_mm_storeu_si128((__m128i *)(d + 16), v);
		_mm_storeu_si128((__m128i *)(d + n - 32), v);
		_mm_storeu_si128((__m128i *)(d + n - 16), v);
#endif
	} else if (n >= 16) {
		__m128i a = _mm_set1_epi8((char)c);

		_mm_storeu_si128((__m128i *)d, a);
		_mm_storeu_si128((__m128i *)(d + n - 16), a);
	} else if (n >= 8) {
		uint64_t a = 0x0101010101010101ULL * (unsigned char)c;

		memcpy(d, &a, 8);
		memcpy(d + n - 8, &a, 8);
	} else if (n >= 4) {
		uint32_t a = 0x01010101U * (unsigned char)c;

		memcpy(d, &a, 4);
		memcpy(d + n - 4, &a, 4);
	} else if (n >= 2) {
		uint16_t a = (uint16_t)(0x0101U * (unsigned char)c);

		memcpy(d, &a, 2);
		memcpy(d + n - 2, &a, 2);
	} else if (n) {
		*d = (char)c;
	}
	(void)v;
}

/*
 * @lines whole lines at @d (line-aligned) from @s: all loads of a turn,
 * then its stores
 */
static inline __attribute__((always_inline))
void pmf_lines(char *d, const char *s, size_t lines, bool nt)
{
	pmf_v v[PMF_UNROLL * PMF_VPL];
	unsigned int i;

#pragma GCC unroll 16
	for (i = 0; i < lines * PMF_VPL; i++)
		v[i] = PMF_LOADU(s + i * PMF_VW);
#pragma GCC unroll 16
	for (i = 0; i < lines * PMF_VPL; i++) {
		if (nt)
			PMF_STREAM(d + i * PMF_VW, v[i]);
		else
			PMF_STORE(d + i * PMF_VW, v[i]);
	}
}

static inline __attribute__((always_inline))
void pmf_lines_fw(char *d, const char *s, size_t n, bool nt, bool wcb)
{
	size_t run = 0;

	while (n >= PMF_UNROLL * PMF_LINE) {
		pmf_lines(d, s, PMF_UNROLL, nt);
		d += PMF_UNROLL * PMF_LINE;
		s += PMF_UNROLL * PMF_LINE;
		n -= PMF_UNROLL * PMF_LINE;
		if (PMF_WC_BARRIER && wcb) {
			run += PMF_UNROLL * PMF_LINE;
			if (run >= PMF_WC_RUN && n) {
				_mm_sfence();
				run = 0;
			}
		}
	}
	while (n >= PMF_LINE) {
		pmf_lines(d, s, 1, nt);
		d += PMF_LINE;
		s += PMF_LINE;
		n -= PMF_LINE;
	}
}

/* the same from the end down: @d and @s point past the lines */
static inline __attribute__((always_inline))
void pmf_lines_bw(char *d, const char *s, size_t n, bool nt, bool wcb)
{
	size_t run = 0;

	while (n >= PMF_UNROLL * PMF_LINE) {
		d -= PMF_UNROLL * PMF_LINE;
		s -= PMF_UNROLL * PMF_LINE;
		n -= PMF_UNROLL * PMF_LINE;
		pmf_lines(d, s, PMF_UNROLL, nt);
		if (PMF_WC_BARRIER && wcb) {
			run += PMF_UNROLL * PMF_LINE;
			if (run >= PMF_WC_RUN && n) {
				_mm_sfence();
				run = 0;
			}
		}
	}
	while (n >= PMF_LINE) {
		d -= PMF_LINE;
		s -= PMF_LINE;
		n -= PMF_LINE;
		pmf_lines(d, s, 1, nt);
	}
}

static inline __attribute__((always_inline))
void pmf_piece(char *d, size_t n, pmem2_flush_fn wb)
{
	if (wb && n)
		wb(d, n);
}

static inline __attribute__((always_inline))
void pmf_move_any(char *d, const char *s, size_t n, pmem2_flush_fn wb,
		  bool nt, bool wcb)
{
	size_t head, lines;

	if (n <= PMF_LINE) {
		pmf_small_move(d, s, n);
		pmf_piece(d, n, wb);
		return;
	}
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		head = -(uintptr_t)d & (PMF_LINE - 1);
		pmf_small_move(d, s, head);
		pmf_piece(d, head, wb);
		d += head;
		s += head;
		n -= head;
		lines = n & ~(size_t)(PMF_LINE - 1);
		pmf_lines_fw(d, s, lines, nt, wcb);
		pmf_small_move(d + lines, s + lines, n - lines);
		pmf_piece(d + lines, n - lines, wb);
	} else {
		char *e = d + n;

		head = (uintptr_t)e & (PMF_LINE - 1);
		pmf_small_move(e - head, s + n - head, head);
		pmf_piece(e - head, head, wb);
		n -= head;
		lines = n & ~(size_t)(PMF_LINE - 1);
		pmf_lines_bw(d + n, s + n, lines, nt, wcb);
		pmf_small_move(d, s, n - lines);
		pmf_piece(d, n - lines, wb);
	}
}

static inline __attribute__((always_inline))
void pmf_set_any(char *d, int c, size_t n, pmem2_flush_fn wb, bool nt,
		 bool wcb)
{
	pmf_v v = PMF_SPLAT(c);
	size_t head, run = 0;

	if (n <= PMF_LINE) {
		pmf_small_set(d, v, c, n);
		pmf_piece(d, n, wb);
		return;
	}
	head = -(uintptr_t)d & (PMF_LINE - 1);
	pmf_small_set(d, v, c, head);
	pmf_piece(d, head, wb);
	d += head;
	n -= head;
	while (n >= PMF_UNROLL * PMF_LINE) {
		unsigned int i;

#pragma GCC unroll 16
		for (i = 0; i < PMF_UNROLL * PMF_VPL; i++) {
			if (nt)
				PMF_STREAM(d + i * PMF_VW, v);
			else
				PMF_STORE(d + i * PMF_VW, v);
		}
		d += PMF_UNROLL * PMF_LINE;
		n -= PMF_UNROLL * PMF_LINE;
		if (PMF_WC_BARRIER && wcb) {
			run += PMF_UNROLL * PMF_LINE;
			if (run >= PMF_WC_RUN && n) {
				_mm_sfence();
				run = 0;
			}
		}
	}
	while (n >= PMF_LINE) {
		unsigned int i;

#pragma GCC unroll 4
		for (i = 0; i < PMF_VPL; i++) {
			if (nt)
				PMF_STREAM(d + i * PMF_VW, v);
			else
				PMF_STORE(d + i * PMF_VW, v);
		}
		d += PMF_LINE;
		n -= PMF_LINE;
	}
	pmf_small_set(d, v, c, n);
	pmf_piece(d, n, wb);
}

static void pmf_isa_move(char *d, const char *s, size_t n)
{
	pmf_move_any(d, s, n, NULL, false, false);
}

static void pmf_isa_move_nt(char *d, const char *s, size_t n,
			    pmem2_flush_fn wb, bool wcb)
{
	pmf_move_any(d, s, n, wb, true, wcb);
}

static void pmf_isa_set(char *d, int c, size_t n)
{
	pmf_set_any(d, c, n, NULL, false, false);
}

static void pmf_isa_set_nt(char *d, int c, size_t n, pmem2_flush_fn wb,
			   bool wcb)
{
	pmf_set_any(d, c, n, wb, true, wcb);
}

const struct pmf_mem_isa PMF_ISA = {
	.move = pmf_isa_move,
	.move_nt = pmf_isa_move_nt,
	.set = pmf_isa_set,
	.set_nt = pmf_isa_set_nt,
};
