// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The AVX-512F copy and fill loops, compiled for AVX-512F whatever the
 * library's flags: memops.c calls them only where CPUID and XGETBV say
 * AVX-512F works. A line is one vector.
 */
#include "pmf.h"

#if defined(__x86_64__)

#include <immintrin.h>

#pragma GCC target("avx512f")

#define PMF_ISA			pmf_mem_isa_avx512
#define PMF_VW			64
#define PMF_WC_BARRIER		0
typedef __m512i pmf_v;
#define PMF_LOADU(p)		_mm512_loadu_si512((const void *)(p))
#define PMF_STORE(p, v)		_mm512_store_si512((void *)(p), (v))
#define PMF_STREAM(p, v)	_mm512_stream_si512((__m512i *)(p), (v))
#define PMF_SPLAT(c)		_mm512_set1_epi8((char)(c))

#include "memops_isa.h"

#endif /* __x86_64__ */
