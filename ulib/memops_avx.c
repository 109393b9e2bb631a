// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The AVX copy and fill loops, compiled for AVX whatever the library's
 * flags: memops.c calls them only where CPUID and XGETBV say AVX works.
 */
#include "pmf.h"

#if defined(__x86_64__)

#include <immintrin.h>

#pragma GCC target("avx")

#define PMF_ISA			pmf_mem_isa_avx
#define PMF_VW			32
#define PMF_WC_BARRIER		1
typedef __m256i pmf_v;
#define PMF_LOADU(p)		_mm256_loadu_si256((const __m256i *)(p))
#define PMF_STORE(p, v)		_mm256_store_si256((__m256i *)(p), (v))
#define PMF_STREAM(p, v)	_mm256_stream_si256((__m256i *)(p), (v))
#define PMF_SPLAT(c)		_mm256_set1_epi8((char)(c))

#include "memops_isa.h"

#endif /* __x86_64__ */
