// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cache lines a flush touches are exactly those covering [ptr, ptr+size):
 * the line iterator every flush function uses, at every alignment, against a
 * byte-by-byte brute force.
 */
#include "pmf_test.h"

#define MAX_LINES 64

static uintptr_t lines[MAX_LINES];
static int nlines;

static void record(const void *p)
{
	if (nlines < MAX_LINES)
		lines[nlines] = (uintptr_t)p;
	nlines++;
}

/* the distinct lines of the bytes, ascending */
static int brute(uintptr_t start, size_t size, uintptr_t *out)
{
	int n = 0;
	size_t i;

	for (i = 0; i < size; i++) {
		uintptr_t l = (start + i) / PMF_CACHELINE * PMF_CACHELINE;

		if (!n || out[n - 1] != l)
			out[n++] = l;
	}
	return n;
}

static int check_range(uintptr_t start, size_t size)
{
	uintptr_t want[MAX_LINES];
	int n = brute(start, size, want);

	nlines = 0;
	pmf_for_each_line((const void *)start, size, record);
	if (nlines != n)
		return -1;
	return memcmp(lines, want, (size_t)n * sizeof(*want)) ? -1 : 0;
}

/* every offset within a line, sizes 0..256, at three bases */
TEST(every_alignment)
{
	static const uintptr_t bases[] = { 0x10000, 0x7fff0000, 0x40 };
	unsigned int b, off, size, bad = 0;

	for (b = 0; b < 3; b++)
		for (off = 0; off < PMF_CACHELINE; off++)
			for (size = 0; size <= 256; size++)
				if (check_range(bases[b] + off, size)) {
					if (!bad++)
						TH_LOG("base %#lx off %u size %u: %d lines",
						       bases[b], off, size, nlines);
				}
	ASSERT_EQ(0, bad);
}

TEST(zero_size_touches_nothing)
{
	nlines = 0;
	pmf_for_each_line((const void *)0x1000, 0, record);
	pmf_for_each_line((const void *)0x1001, 0, record);
	ASSERT_EQ(0, nlines);
}

TEST(one_byte_at_line_end)
{
	const uintptr_t end = 0x1000 + PMF_CACHELINE - 1;

	nlines = 0;
	pmf_for_each_line((const void *)end, 1, record);
	ASSERT_EQ(1, nlines);
	ASSERT_EQ(0x1000, lines[0]);
	nlines = 0;
	pmf_for_each_line((const void *)end, 2, record);
	ASSERT_EQ(2, nlines);
	ASSERT_EQ(0x1000 + PMF_CACHELINE, lines[1]);
}

/* a range ending at the top of the address space must not wrap */
TEST(range_at_top_of_address_space)
{
	uintptr_t start = UINTPTR_MAX - 200;

	ASSERT_EQ(0, check_range(start, 200));
	/* 4 lines of 64 bytes (x86-64), 2 of 128 (POWER) */
	ASSERT_EQ(PMF_CACHELINE == 64 ? 4 : 2, nlines);
}

/* the dispatched flush runs over every alignment of a real buffer */
TEST(real_flush_every_alignment)
{
	char *buf = aligned_alloc(PMF_CACHELINE, 4096);
	unsigned int off, size;

	ASSERT_NE(NULL, buf);
	memset(buf, 0xa5, 4096);
	for (off = 0; off < PMF_CACHELINE; off++)
		for (size = 0; size <= 200; size++) {
			pmf_cpu_flush(buf + off, size);
			pmf_cpu_persist_get()(buf + off, size);
		}
	pmf_cpu_drain();
	ASSERT_EQ((char)0xa5, buf[4095]);
	free(buf);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
