// SPDX-License-Identifier: LGPL-2.1-or-later
/* The SSE2 copy and fill loops: every x86-64 CPU has them. */
#include "pmf.h"

#if defined(__x86_64__)

#include <emmintrin.h>

#define PMF_ISA			pmf_mem_isa_sse2
#define PMF_VW			16
#define PMF_WC_BARRIER		1
typedef __m128i pmf_v;
#define PMF_LOADU(p)		_mm_loadu_si128((const __m128i *)(p))
#define PMF_STORE(p, v)		_mm_store_si128((__m128i *)(p), (v))
#define PMF_STREAM(p, v)	_mm_stream_si128((__m128i *)(p), (v))
#define PMF_SPLAT(c)		_mm_set1_epi8((char)(c))

#include "memops_isa.h"

#endif /* __x86_64__ */
