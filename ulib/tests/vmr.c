// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Virtual memory reservations: their errors, what the kernel sees
 * (/proc/self/maps), maps placed in them and the placeholder put back.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>

#include "pmf_test.h"

#define PG 4096UL
#define MIB (1UL << 20)

/* the /proc/self/maps line holding @p: its perms, and whether it has a file */
static bool vma_at(const void *p, char perms[5], bool *file)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b, ino;
		char pr[5];
		int n;

		if (sscanf(line, "%lx-%lx %4s %*x %*x:%*x %lu%n", &a, &b, pr,
			   &ino, &n) < 4)
			continue;
		if ((uintptr_t)p >= a && (uintptr_t)p < b) {
			memcpy(perms, pr, 5);
			*file = ino != 0;
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* mapped at all: mincore() says ENOMEM for an unmapped page */
static bool mapped(const void *p)
{
	unsigned char v;

	return !mincore((void *)((uintptr_t)p & ~(PG - 1)), PG, &v);
}

/* the PROT_NONE anonymous placeholder is at @p */
static bool placeholder(const void *p)
{
	char perms[5];
	bool file;

	return vma_at(p, perms, &file) && !strcmp(perms, "---p") && !file;
}

/* a free, 2 MiB-aligned range of @size bytes */
static void *free_range(size_t size)
{
	void *p = mmap(NULL, size + 2 * MIB, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, size + 2 * MIB);
	a = ((uintptr_t)p + 2 * MIB - 1) & ~(2 * MIB - 1);
	return (void *)a;
}

/* map @len bytes of @fd at @off into @rsv at @rsv_off */
static int map_in(struct pmem2_vm_reservation *rsv, size_t rsv_off, int fd,
		  size_t off, size_t len, struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int ret;

	pmem2_config_new(&cfg);
	pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	pmem2_config_set_offset(cfg, off);
	pmem2_config_set_length(cfg, len);
	pmem2_config_set_vm_reservation(cfg, rsv, rsv_off);
	ret = pmem2_source_from_fd(&src, fd);
	if (!ret)
		ret = pmem2_map_new(map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	return ret;
}

TEST(new_errors)
{
	struct pmem2_vm_reservation *rsv = (void *)1;
	void *a = free_range(4 * MIB);

	ASSERT_EQ(PMEM2_E_ADDRESS_UNALIGNED,
		  pmem2_vm_reservation_new(&rsv, (char *)a + 100, 4 * MIB));
	ASSERT_EQ(NULL, rsv);
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED,
		  pmem2_vm_reservation_new(&rsv, NULL, PG + 1));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED,
		  pmem2_vm_reservation_new(&rsv, a, 100));
	ASSERT_EQ(0, mapped(a));
	/* a range already mapped, even partly, is not taken over */
	ASSERT_EQ((char *)a + MIB, mmap((char *)a + MIB, PG, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS,
		  pmem2_vm_reservation_new(&rsv, a, 2 * MIB));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "already mapped"));
	ASSERT_FALSE(mapped(a));
	ASSERT_FALSE(placeholder((char *)a + MIB));
	munmap((char *)a + MIB, PG);
	PMF_LEAK_CHECK();
}

TEST(new_anywhere_and_delete)
{
	struct pmem2_vm_reservation *rsv;
	char *a;

	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 3 * MIB + PG));
	a = pmem2_vm_reservation_get_address(rsv);
	ASSERT_EQ(3 * MIB + PG, pmem2_vm_reservation_get_size(rsv));
	/* libpmem2: placed on a 2 MiB boundary */
	ASSERT_EQ(0, (uintptr_t)a % (2 * MIB));
	ASSERT_TRUE(placeholder(a));
	ASSERT_TRUE(placeholder(a + 3 * MIB));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_EQ(NULL, rsv);
	ASSERT_FALSE(mapped(a));
	ASSERT_FALSE(mapped(a + 3 * MIB));
	/* the alignment slack past the end went too */
	ASSERT_FALSE(mapped(a + 4 * MIB - PG));
	PMF_LEAK_CHECK();
}

TEST(new_at_address)
{
	struct pmem2_vm_reservation *rsv, *again;
	char *a = free_range(4 * MIB);

	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, a + PG, 2 * MIB));
	ASSERT_EQ(a + PG, pmem2_vm_reservation_get_address(rsv));
	ASSERT_TRUE(placeholder(a + PG));
	ASSERT_TRUE(placeholder(a + 2 * MIB));
	/* exactly the range asked for */
	ASSERT_FALSE(mapped(a));
	ASSERT_FALSE(mapped(a + 2 * MIB + PG));
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS,
		  pmem2_vm_reservation_new(&again, a, 2 * PG));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_FALSE(mapped(a + PG));
	/* an empty one at an address, as libpmem2 allows */
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, a, 0));
	ASSERT_EQ(0, pmem2_vm_reservation_get_size(rsv));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 0));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	PMF_LEAK_CHECK();
}

TEST(extend)
{
	struct pmem2_vm_reservation *rsv;
	char *a = free_range(8 * MIB), *blocker;
	struct pmem2_map *map, *found;
	int fd = tmp_file(4 * PG);

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, a, 2 * MIB));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED, pmem2_vm_reservation_extend(rsv, 10));
	ASSERT_EQ(0, map_in(rsv, 2 * MIB - PG, fd, 0, PG, &map));
	ASSERT_EQ(0, pmem2_vm_reservation_extend(rsv, 0));
	ASSERT_EQ(2 * MIB, pmem2_vm_reservation_get_size(rsv));
	ASSERT_EQ(0, pmem2_vm_reservation_extend(rsv, MIB));
	ASSERT_EQ(3 * MIB, pmem2_vm_reservation_get_size(rsv));
	ASSERT_EQ(a, pmem2_vm_reservation_get_address(rsv));
	ASSERT_TRUE(placeholder(a + 3 * MIB - PG));
	/* the map stays where it was, still found */
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 0, 3 * MIB, &found));
	ASSERT_EQ(map, found);
	ASSERT_EQ(a + 2 * MIB - PG, pmem2_map_get_address(map));
	/* a map in the new part */
	ASSERT_EQ(0, map_in(rsv, 3 * MIB - 2 * PG, fd, PG, 2 * PG, &found));
	ASSERT_EQ(0, pmem2_map_delete(&found));

	/* something mapped right past the end: the range itself is needed */
	blocker = mmap(a + 5 * MIB, PG, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(a + 5 * MIB, blocker);
	ASSERT_EQ(0, pmem2_vm_reservation_extend(rsv, 2 * MIB - PG));
	ASSERT_EQ(5 * MIB - PG, pmem2_vm_reservation_get_size(rsv));
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS, pmem2_vm_reservation_extend(rsv, 2 * PG));
	ASSERT_EQ(5 * MIB - PG, pmem2_vm_reservation_get_size(rsv));
	/* the blocker untouched */
	ASSERT_FALSE(placeholder(blocker));
	munmap(blocker, PG);

	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_FALSE(mapped(a));
	ASSERT_FALSE(mapped(a + 5 * MIB - 2 * PG));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(shrink_errors)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 16 * PG));
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED,
		  pmem2_vm_reservation_shrink(rsv, 100, PG));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED,
		  pmem2_vm_reservation_shrink(rsv, 0, 100));
	ASSERT_EQ(PMEM2_E_OFFSET_OUT_OF_RANGE,
		  pmem2_vm_reservation_shrink(rsv, 16 * PG, PG));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_vm_reservation_shrink(rsv, 0, 0));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_vm_reservation_shrink(rsv, 15 * PG, 2 * PG));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_vm_reservation_shrink(rsv, 15 * PG, SIZE_MAX - 4095));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_vm_reservation_shrink(rsv, PG, PG));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "middle"));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_vm_reservation_shrink(rsv, 0, 16 * PG));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "whole"));
	ASSERT_EQ(0, map_in(rsv, 12 * PG, fd, 0, PG, &map));
	ASSERT_EQ(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
		  pmem2_vm_reservation_shrink(rsv, 12 * PG, 4 * PG));
	ASSERT_EQ(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
		  pmem2_vm_reservation_shrink(rsv, 0, 13 * PG));
	ASSERT_EQ(16 * PG, pmem2_vm_reservation_get_size(rsv));
	/* up to the map: fine */
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 13 * PG, 3 * PG));
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 0, 12 * PG));
	ASSERT_EQ(PG, pmem2_vm_reservation_get_size(rsv));
	ASSERT_EQ(pmem2_map_get_address(map),
		  pmem2_vm_reservation_get_address(rsv));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

/* what shrinking gives back: whole alignment units, as libpmem2 */
TEST(shrink_releases)
{
	struct pmem2_vm_reservation *rsv;
	char *a = free_range(8 * MIB);

	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, a, 8 * MIB));
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 4 * MIB, 4 * MIB));
	ASSERT_EQ(4 * MIB, pmem2_vm_reservation_get_size(rsv));
	ASSERT_FALSE(mapped(a + 4 * MIB));
	ASSERT_FALSE(mapped(a + 8 * MIB - PG));
	ASSERT_TRUE(placeholder(a + 4 * MIB - PG));
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 0, 2 * MIB));
	ASSERT_EQ(a + 2 * MIB, pmem2_vm_reservation_get_address(rsv));
	ASSERT_EQ(2 * MIB, pmem2_vm_reservation_get_size(rsv));
	ASSERT_FALSE(mapped(a));
	ASSERT_FALSE(mapped(a + 2 * MIB - PG));
	ASSERT_TRUE(placeholder(a + 2 * MIB));
	/* part of a unit: the caller's range shrinks, the unit stays */
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 0, PG));
	ASSERT_EQ(a + 2 * MIB + PG, pmem2_vm_reservation_get_address(rsv));
	ASSERT_TRUE(placeholder(a + 2 * MIB));
	ASSERT_EQ(0, pmem2_vm_reservation_shrink(rsv, 2 * MIB - 2 * PG, PG));
	ASSERT_EQ(2 * MIB - 2 * PG, pmem2_vm_reservation_get_size(rsv));
	/* extend again over the slack kept */
	ASSERT_EQ(0, pmem2_vm_reservation_extend(rsv, 3 * PG));
	ASSERT_TRUE(placeholder(a + 4 * MIB + PG));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_FALSE(mapped(a + 2 * MIB));
	ASSERT_FALSE(mapped(a + 4 * MIB));
	PMF_LEAK_CHECK();
}

TEST(map_and_placeholder)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *map, *found;
	int fd = tmp_file(4 * PG);
	char perms[5], buf[8];
	bool file;
	char *a, *m;

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 16 * PG));
	a = pmem2_vm_reservation_get_address(rsv);
	ASSERT_EQ(0, map_in(rsv, 2 * PG, fd, PG, 2 * PG, &map));
	m = pmem2_map_get_address(map);
	ASSERT_EQ(a + 2 * PG, m);
	ASSERT_EQ(2 * PG, pmem2_map_get_size(map));
	ASSERT_TRUE(vma_at(m, perms, &file));
	ASSERT_STREQ("rw-s", perms);
	ASSERT_TRUE(file);
	ASSERT_TRUE(placeholder(a + PG));
	ASSERT_TRUE(placeholder(a + 4 * PG));
	memcpy(m, "hello", 6);
	pmem2_get_persist_fn(map)(m, 6);
	ASSERT_EQ(6, pread(fd, buf, 6, PG));
	ASSERT_STREQ("hello", buf);
	/* found in the global list by the PAGE persist, and deep flushed */
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, pmem2_deep_flush(map, m, 6));
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ((uintptr_t)m, fake.msync_addr);

	ASSERT_EQ(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
		  pmem2_vm_reservation_delete(&rsv));
	ASSERT_NE(NULL, rsv);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(NULL, map);
	/* the placeholder is back, not a hole */
	ASSERT_TRUE(placeholder(m));
	ASSERT_TRUE(placeholder(m + PG));
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find(rsv, 0, 16 * PG, &found));
	ASSERT_EQ(NULL, found);
	/* and the same place takes a map again */
	ASSERT_EQ(0, map_in(rsv, 2 * PG, fd, 0, 0, &map));
	ASSERT_EQ(4 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	ASSERT_FALSE(mapped(a + 2 * PG));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(map_errors)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *map, *other;
	int fd = tmp_file(4 * PG), i;
	char *a;

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 8 * PG));
	a = pmem2_vm_reservation_get_address(rsv);
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED, map_in(rsv, 100, fd, 0, PG, &map));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  map_in(rsv, 6 * PG, fd, 0, 3 * PG, &map));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  map_in(rsv, 8 * PG, fd, 0, PG, &map));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  map_in(rsv, SIZE_MAX - PG + 1, fd, 0, PG, &map));
	/* the source's own rules come first */
	ASSERT_EQ(PMEM2_E_MAP_RANGE, map_in(rsv, 0, fd, 0, 5 * PG, &map));
	ASSERT_EQ(0, fake.mmaps);

	ASSERT_EQ(0, map_in(rsv, 2 * PG, fd, 0, 2 * PG, &map));
	i = fake.mmaps;
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS, map_in(rsv, 3 * PG, fd, 0, PG, &other));
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS, map_in(rsv, PG, fd, 0, 2 * PG, &other));
	ASSERT_EQ(PMEM2_E_MAPPING_EXISTS, map_in(rsv, 0, fd, 0, 4 * PG, &other));
	ASSERT_EQ(NULL, other);
	ASSERT_EQ(i, fake.mmaps);
	/* next to it is free */
	ASSERT_EQ(0, map_in(rsv, 4 * PG, fd, 0, PG, &other));
	ASSERT_EQ(0, pmem2_map_delete(&other));

	/* mmap fails: the placeholder stays, nothing is added */
	fake.mmap_errno = ENOMEM;
	ASSERT_EQ(-ENOMEM, map_in(rsv, 5 * PG, fd, 0, PG, &other));
	ASSERT_TRUE(placeholder(a + 5 * PG));
	fake.mmap_errno = 0;
	/* failing after the mmap: the placeholder is put back */
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED, ({
		struct pmem2_config *cfg;
		struct pmem2_source *src;
		int r;

		pmem2_config_new(&cfg);
		pmem2_config_set_required_store_granularity(cfg,
				PMEM2_GRANULARITY_CACHE_LINE);
		pmem2_config_set_vm_reservation(cfg, rsv, 6 * PG);
		pmem2_config_set_length(cfg, 2 * PG);
		pmem2_source_from_fd(&src, fd);
		r = pmem2_map_new(&other, cfg, src);
		pmem2_source_delete(&src);
		pmem2_config_delete(&cfg);
		r;
	}));
	ASSERT_TRUE(placeholder(a + 6 * PG));
	ASSERT_TRUE(placeholder(a + 7 * PG));
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_first(rsv, &other));
	ASSERT_EQ(map, other);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_last(rsv, &other));
	ASSERT_EQ(map, other);

	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(find_orders)
{
	static const size_t at[] = { 9, 1, 5, 3 };	/* pages; 5 is 2 long */
	struct pmem2_map *m[4], *f;
	struct pmem2_vm_reservation *rsv;
	int fd = tmp_file(4 * PG), i;

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 16 * PG));
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find_first(rsv, &f));
	ASSERT_EQ(NULL, f);
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find_last(rsv, &f));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, map_in(rsv, at[i] * PG, fd, 0,
				    at[i] == 5 ? 2 * PG : PG, &m[i]));
	/* in address order: m[1] (1), m[3] (3), m[2] (5-6), m[0] (9) */
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_first(rsv, &f));
	ASSERT_EQ(m[1], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_last(rsv, &f));
	ASSERT_EQ(m[0], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_next(rsv, m[1], &f));
	ASSERT_EQ(m[3], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_next(rsv, m[3], &f));
	ASSERT_EQ(m[2], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_next(rsv, m[2], &f));
	ASSERT_EQ(m[0], f);
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find_next(rsv, m[0], &f));
	ASSERT_EQ(NULL, f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_prev(rsv, m[0], &f));
	ASSERT_EQ(m[2], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_prev(rsv, m[2], &f));
	ASSERT_EQ(m[3], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_prev(rsv, m[3], &f));
	ASSERT_EQ(m[1], f);
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find_prev(rsv, m[1], &f));
	ASSERT_EQ(NULL, f);

	/* find: the lowest map overlapping [offset, offset + len) */
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find(rsv, 0, PG, &f));
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 0, PG + 1, &f));
	ASSERT_EQ(m[1], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 0, 16 * PG, &f));
	ASSERT_EQ(m[1], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 2 * PG - 1, 10, &f));
	ASSERT_EQ(m[1], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 2 * PG, 16 * PG, &f));
	ASSERT_EQ(m[3], f);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 6 * PG + 5, 1, &f));
	ASSERT_EQ(m[2], f);
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find(rsv, 7 * PG, 2 * PG, &f));
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find(rsv, 10 * PG, 6 * PG, &f));
	/* an empty range finds the map holding its offset */
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 9 * PG + 1, 0, &f));
	ASSERT_EQ(m[0], f);
	ASSERT_EQ(PMEM2_E_MAPPING_NOT_FOUND,
		  pmem2_vm_reservation_map_find(rsv, 8 * PG, 0, &f));
	ASSERT_EQ(NULL, f);

	/* deleting one takes it out of every order */
	ASSERT_EQ(0, pmem2_map_delete(&m[3]));
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_next(rsv, m[1], &f));
	ASSERT_EQ(m[2], f);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pmem2_map_delete(&m[i]));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

/* anonymous memory and private file maps go in like shared ones */
TEST(anon_and_private_in_reservation)
{
	struct pmem2_source anon = { .fd = -1, .ftype = PMF_FTYPE_ANON,
				     .size = 2 * PG };
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *m1, *m2, *f;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int fd = tmp_file(PG);
	char perms[5], buf[2] = "";
	bool file;
	char *a;

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 8 * PG));
	a = pmem2_vm_reservation_get_address(rsv);
	pmem2_config_new(&cfg);
	pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_BYTE);
	pmem2_config_set_vm_reservation(cfg, rsv, 4 * PG);
	ASSERT_EQ(0, pmem2_map_new(&m1, cfg, &anon));
	ASSERT_EQ(a + 4 * PG, pmem2_map_get_address(m1));
	ASSERT_TRUE(vma_at(a + 5 * PG, perms, &file));
	ASSERT_STREQ("rw-s", perms);
	a[5 * PG] = 1;
	pmem2_config_set_sharing(cfg, PMEM2_PRIVATE);
	pmem2_config_set_vm_reservation(cfg, rsv, 0);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_map_new(&m2, cfg, src));
	ASSERT_EQ(a, pmem2_map_get_address(m2));
	ASSERT_TRUE(vma_at(a, perms, &file));
	ASSERT_STREQ("rw-p", perms);
	ASSERT_TRUE(file);
	a[0] = 'x';
	ASSERT_EQ(1, pread(fd, buf, 1, 0));
	ASSERT_EQ(0, buf[0]);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find_next(rsv, m2, &f));
	ASSERT_EQ(m1, f);
	ASSERT_EQ(0, pmem2_map_delete(&m1));
	ASSERT_EQ(0, pmem2_map_delete(&m2));
	ASSERT_TRUE(placeholder(a));
	ASSERT_TRUE(placeholder(a + 5 * PG));
	ASSERT_EQ(0, fake.msyncs);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

struct churn {
	struct pmem2_vm_reservation *rsv;
	int fd, slot, bad;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct pmem2_map *map, *f;
	int i;

	for (i = 0; i < 200; i++) {
		if (map_in(c->rsv, (size_t)c->slot * 2 * PG, c->fd, 0, PG,
			   &map)) {
			c->bad++;
			continue;
		}
		if (pmem2_vm_reservation_map_find(c->rsv,
				(size_t)c->slot * 2 * PG, PG, &f) || f != map)
			c->bad++;
		*(volatile char *)pmem2_map_get_address(map) = (char)i;
		if (pmem2_map_delete(&map))
			c->bad++;
		pmem2_vm_reservation_get_size(c->rsv);
	}
	return NULL;
}

/* four threads, each in its own slot of one reservation */
TEST(threads)
{
	struct pmem2_vm_reservation *rsv;
	struct churn c[4];
	pthread_t th[4];
	int fd = tmp_file(PG), i;

	fake_no_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 8 * PG));
	for (i = 0; i < 4; i++) {
		c[i] = (struct churn){ .rsv = rsv, .fd = fd, .slot = i };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, churn_thread, &c[i]));
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ASSERT_EQ(0, c[i].bad);
	}
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * fork() while another thread is inside pmem2_map_new() with the
 * reservation's lock held (held here inside its mmap): the child, which has
 * only the forking thread, must still be able to use the reservation.
 */
static sem_t hold_in, hold_go;

static void hold_fixed_mmap(void *addr, size_t len, int flags)
{
	(void)addr;
	(void)len;
	if (flags & MAP_FIXED) {
		sem_post(&hold_in);
		sem_wait(&hold_go);
	}
}

struct forker {
	struct pmem2_vm_reservation *rsv;
	int status;
};

static void *map_thread(void *arg)
{
	struct churn *c = arg;
	struct pmem2_map *map;

	if (map_in(c->rsv, 0, c->fd, 0, PG, &map) || pmem2_map_delete(&map))
		c->bad++;
	return NULL;
}

static void *fork_thread(void *arg)
{
	struct forker *f = arg;
	pid_t pid = fork();

	if (!pid) {
		signal(SIGALRM, SIG_DFL);
		alarm(10);
		/* takes the reservation's lock for reading */
		pmem2_vm_reservation_get_size(f->rsv);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &f->status, 0) != pid)
		f->status = -1;
	return NULL;
}

TEST(fork_while_reservation_locked)
{
	struct pmem2_vm_reservation *rsv;
	struct forker f = { 0 };
	struct churn c = { 0 };
	pthread_t mapper, forker;
	int fd = tmp_file(PG);

	fake_no_module();
	ASSERT_EQ(0, sem_init(&hold_in, 0, 0));
	ASSERT_EQ(0, sem_init(&hold_go, 0, 0));
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 8 * PG));
	c = (struct churn){ .rsv = rsv, .fd = fd };
	f.rsv = rsv;
	fake.mmap_hook = hold_fixed_mmap;
	ASSERT_EQ(0, pthread_create(&mapper, NULL, map_thread, &c));
	sem_wait(&hold_in);
	fake.mmap_hook = NULL;
	/* fork() now; the map goes on 0.3 s later, whatever fork() does */
	ASSERT_EQ(0, pthread_create(&forker, NULL, fork_thread, &f));
	usleep(300 * 1000);
	sem_post(&hold_go);
	pthread_join(mapper, NULL);
	pthread_join(forker, NULL);
	EXPECT_EQ(0, c.bad);
	ASSERT_TRUE(WIFEXITED(f.status))
		TH_LOG("the child hung on the reservation's lock (signal %d)",
		       WTERMSIG(f.status));
	EXPECT_EQ(0, WEXITSTATUS(f.status));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	sem_destroy(&hold_in);
	sem_destroy(&hold_go);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * MAP_SYNC refused as 6.1's ext4 and xfs refuse it, in ->mmap(), after the
 * range was unmapped: another thread is given the hole at that moment. The
 * map into the reservation must never replace what that thread got.
 */
static char *racer;

static void take_hole(void *addr, size_t len)
{
	(void)len;
	racer = mmap(addr, PG, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (racer == MAP_FAILED)
		racer = NULL;
	else
		racer[0] = 0x5a;
}

TEST(sync_refused_in_reservation_keeps_others_mapping)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG), ret;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.sync_ok = false;
	fake.sync_fixed_unmaps = true;
	fake.hole_hook = take_hole;
	racer = NULL;
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 16 * PG));
	a = pmem2_vm_reservation_get_address(rsv);
	ret = map_in(rsv, 2 * PG, fd, 0, 2 * PG, &map);
	if (racer) {
		/* whatever became of the map, the other thread's page stands */
		EXPECT_EQ(0x5a, racer[0]);
		munmap(racer, PG);
	}
	ASSERT_EQ(0, ret);
	EXPECT_EQ(a + 2 * PG, pmem2_map_get_address(map));
	EXPECT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	EXPECT_LE(1, fake.sync_tries);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * A MAP_FIXED mmap into a reservation that fails after unmapping its range,
 * as the kernel's may: the placeholder fills the hole, and when another
 * thread was given the hole meanwhile, its mapping stays.
 */
TEST(failed_fixed_mmap_refills_only_a_hole)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *map;
	int fd = tmp_file(PG);
	char *a;

	fake_no_module();
	fake.mmap_errno = ENOMEM;
	fake.fixed_fail_unmaps = true;
	racer = NULL;
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 16 * PG));
	a = pmem2_vm_reservation_get_address(rsv);
	ASSERT_EQ(-ENOMEM, map_in(rsv, 2 * PG, fd, 0, PG, &map));
	EXPECT_TRUE(placeholder(a + 2 * PG));
	fake.hole_hook = take_hole;
	ASSERT_EQ(-ENOMEM, map_in(rsv, 4 * PG, fd, 0, PG, &map));
	ASSERT_NE(NULL, racer);
	EXPECT_EQ(a + 4 * PG, racer);
	EXPECT_EQ(0x5a, racer[0]);
	munmap(racer, PG);
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
