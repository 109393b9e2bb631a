// SPDX-License-Identifier: GPL-2.0
/*
 * multifile: several files (or several ranges of one device-dax) mapped side
 * by side into one virtual memory reservation, one libpmem2 usage pattern
 * built twice, against PMDK's libpmem2 (-DPAT_PMDK, -lpmem2) and against
 * libpmemflush (-lpmemflush). Output is deterministic (offsets are printed
 * relative to the reservation, in units of CHUNK where they are multiples).
 *
 *   multifile write TARGET...  map NMAPS ranges (range i from TARGET
 *                              i % count, the ranges of one target one after
 *                              another) at alignment-rounded offsets of one
 *                              reservation with gaps between them, write them,
 *                              find them back (map_find, _first/_next,
 *                              _last/_prev), check the errors (occupied,
 *                              unaligned, too long, NOT_EMPTY), shrink and
 *                              extend the reservation, map one more range
 *                              into the extension, delete the maps in a
 *                              shuffled order and the reservation
 *   multifile read TARGET...   map each range alone and check its contents
 *
 * Range i is CHUNK * (1 + i % 2) bytes, CHUNK being 512 KiB rounded up to the
 * sources' alignment; a target must hold the ranges that fall to it.
 */
#define PAT_NAME "multifile"
#include "pat.h"

#define NMAPS		4
#define MAXT		NMAPS
#define PAGE		4096UL
#define END_MARK	"ENDOFMAP"
#define ALIAS_MARK	"ALIAS-WRITTEN-BY-MAP-4"

struct range {
	int t;			/* target index */
	size_t off, len;	/* in the target */
	size_t roff;		/* in the reservation, before any shrink */
	struct pmem2_map *map;
};

static struct pmem2_source *srcs[MAXT];
static int ntargets;
static size_t chunk;
static struct range r[NMAPS + 1];	/* the last: the extra map */
static int failed;

/* an expected result: print it, count a mismatch */
static void expect(const char *what, int ret, int want)
{
	printf("%s: %d%s\n", what, ret, ret == want ? "" : " UNEXPECTED");
	if (ret != want) {
		fprintf(stderr, "multifile: %s: %d, wanted %d: %s\n", what, ret,
			want, pmem2_errormsg());
		failed = 1;
	}
}

static int map_range(struct range *x, struct pmem2_vm_reservation *rsv,
		     size_t roff, struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	int ret;

	ret = pmem2_config_new(&cfg);
	if (ret)
		fail("pmem2_config_new", ret);
	if (pmem2_config_set_required_store_granularity(cfg,
			PMEM2_GRANULARITY_PAGE) ||
	    pmem2_config_set_offset(cfg, x->off) ||
	    pmem2_config_set_length(cfg, x->len))
		fail("config", -1);
	if (rsv) {
		ret = pmem2_config_set_vm_reservation(cfg, rsv, roff);
		if (ret)
			fail("pmem2_config_set_vm_reservation", ret);
	}
	ret = pmem2_map_new(map, cfg, srcs[x->t]);
	pmem2_config_delete(&cfg);
	return ret;
}

/* which of our maps @m is, or -1 */
static int index_of(const struct pmem2_map *m)
{
	int i;

	for (i = 0; i <= NMAPS; i++)
		if (m && r[i].map == m)
			return i;
	return -1;
}

/* the maps in the reservation, first to last */
static void print_order(struct pmem2_vm_reservation *rsv, const char *what)
{
	struct pmem2_map *m, *next;
	int ret, n = 0;

	printf("%s:", what);
	ret = pmem2_vm_reservation_map_find_first(rsv, &m);
	while (!ret && n++ <= NMAPS + 1) {
		printf(" %d", index_of(m));
		ret = pmem2_vm_reservation_map_find_next(rsv, m, &next);
		m = next;
	}
	printf(" (then %d)\n", ret);
	if (ret != PMEM2_E_MAPPING_NOT_FOUND)
		failed = 1;
}

static void fill_expected(unsigned char *buf, int i, size_t len)
{
	char tag[64];

	memset(buf, 'A' + i, len);
	snprintf(tag, sizeof(tag), "map %d of target %d", i, r[i].t);
	memcpy(buf + 100, tag, strlen(tag));
	memcpy(buf + len - strlen(END_MARK), END_MARK, strlen(END_MARK));
	if (i == 0)
		memcpy(buf + 200, ALIAS_MARK, strlen(ALIAS_MARK));
}

static int do_write(void)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_map *m, *other;
	size_t size, pad, rsz;
	static const int del_order[] = { 2, 0, 4, 3, 1 };
	char *raddr;
	int i, ret;

	/*
	 * Room for the maps, a gap before each, one after the last and two
	 * chunks to shrink and extend again (so that the extension finds its
	 * addresses free). Reserve one chunk more, then trim the reservation
	 * to start at an address aligned as the sources want.
	 */
	size = chunk;
	for (i = 0; i < NMAPS; i++)
		size += r[i].len + chunk;
	size += 3 * chunk;
	ret = pmem2_vm_reservation_new(&rsv, NULL, size + chunk);
	if (ret)
		fail("pmem2_vm_reservation_new", ret);
	raddr = pmem2_vm_reservation_get_address(rsv);
	pad = (chunk - (uintptr_t)raddr % chunk) % chunk;
	if (pad) {
		ret = pmem2_vm_reservation_shrink(rsv, 0, pad);
		if (ret)
			fail("pmem2_vm_reservation_shrink (align)", ret);
	}
	ret = pmem2_vm_reservation_shrink(rsv, size, chunk - pad);
	if (ret)
		fail("pmem2_vm_reservation_shrink (align)", ret);
	raddr = pmem2_vm_reservation_get_address(rsv);
	printf("reservation of %zu chunks, aligned: %s\n",
	       pmem2_vm_reservation_get_size(rsv) / chunk,
	       (uintptr_t)raddr % chunk ? "NO" : "yes");
	failed |= (uintptr_t)raddr % chunk != 0 ||
		  pmem2_vm_reservation_get_size(rsv) != size;

	for (i = 0; i < NMAPS; i++) {
		char *a;

		ret = map_range(&r[i], rsv, r[i].roff, &r[i].map);
		if (ret)
			fail("pmem2_map_new in the reservation", ret);
		a = pmem2_map_get_address(r[i].map);
		printf("map %d: target %d offset %zu length %zu chunks at "
		       "chunk %zu: %s, size %s, granularity %s\n", i, r[i].t,
		       r[i].off / chunk, r[i].len / chunk, r[i].roff / chunk,
		       a == raddr + r[i].roff ? "address ok" : "ADDRESS",
		       pmem2_map_get_size(r[i].map) == r[i].len ? "ok" : "WRONG",
		       gran_name(r[i].map));
		if (a != raddr + r[i].roff ||
		    pmem2_map_get_size(r[i].map) != r[i].len)
			failed = 1;
	}

	/* occupied, unaligned and too long requests */
	ret = map_range(&r[0], rsv, r[1].roff + PAGE, &other);
	expect("map over map 1", ret, PMEM2_E_MAPPING_EXISTS);
	ret = map_range(&r[0], rsv, r[0].roff - PAGE, &other);
	expect("map across the start of map 0", ret, PMEM2_E_MAPPING_EXISTS);
	ret = map_range(&r[0], rsv, r[0].roff + 1, &other);
	expect("map at an unaligned offset", ret, PMEM2_E_OFFSET_UNALIGNED);
	ret = map_range(&r[0], rsv, size - PAGE, &other);
	expect("map past the end", ret, PMEM2_E_LENGTH_OUT_OF_RANGE);

	/* write each map, the last bytes through the reservation's address */
	for (i = 0; i < NMAPS; i++) {
		char *a = pmem2_map_get_address(r[i].map);
		char tag[64];

		pmem2_get_memset_fn(r[i].map)(a, 'A' + i, r[i].len,
			PMEM2_F_MEM_NONTEMPORAL | PMEM2_F_MEM_NODRAIN);
		snprintf(tag, sizeof(tag), "map %d of target %d", i, r[i].t);
		pmem2_get_memcpy_fn(r[i].map)(a + 100, tag, strlen(tag), 0);
		pmem2_get_memcpy_fn(r[i].map)(raddr + r[i].roff + r[i].len -
			strlen(END_MARK), END_MARK, strlen(END_MARK), 0);
		deep_flush(r[i].map, a, r[i].len);
	}

	/* find them back */
	ret = pmem2_vm_reservation_map_find(rsv, r[1].roff + 10, 1, &m);
	printf("find in map 1: %d -> %d\n", ret, index_of(m));
	failed |= ret || index_of(m) != 1;
	ret = pmem2_vm_reservation_map_find(rsv, r[2].roff - chunk,
					    chunk, &m);
	expect("find in the gap before map 2", ret, PMEM2_E_MAPPING_NOT_FOUND);
	ret = pmem2_vm_reservation_map_find(rsv, r[2].roff - chunk,
					    chunk + 1, &m);
	printf("find from the gap into map 2: %d -> %d\n", ret, index_of(m));
	failed |= ret || index_of(m) != 2;
	ret = pmem2_vm_reservation_map_find(rsv, 0, size, &m);
	printf("find over all: %d -> %d\n", ret, index_of(m));
	failed |= ret || index_of(m) != 0;
	print_order(rsv, "first to last");
	ret = pmem2_vm_reservation_map_find_last(rsv, &m);
	printf("last to first:");
	while (!ret) {
		printf(" %d", index_of(m));
		ret = pmem2_vm_reservation_map_find_prev(rsv, m, &other);
		m = other;
	}
	printf(" (then %d)\n", ret);
	failed |= ret != PMEM2_E_MAPPING_NOT_FOUND;

	ret = pmem2_vm_reservation_delete(&rsv);
	expect("delete the reservation with maps in it", ret,
	       PMEM2_E_VM_RESERVATION_NOT_EMPTY);

	/* shrink: the empty tail, then errors, then the empty head */
	rsz = pmem2_vm_reservation_get_size(rsv);
	ret = pmem2_vm_reservation_shrink(rsv, rsz - 2 * chunk, 2 * chunk);
	expect("shrink the empty tail", ret, 0);
	rsz = pmem2_vm_reservation_get_size(rsv);
	printf("reservation of %zu chunks\n", rsz / chunk);
	ret = pmem2_vm_reservation_shrink(rsv, chunk, PAGE);
	expect("shrink in the middle", ret, PMEM2_E_NOSUPP);
	ret = pmem2_vm_reservation_shrink(rsv, 0, rsz);
	expect("shrink all of it", ret, PMEM2_E_NOSUPP);
	ret = pmem2_vm_reservation_shrink(rsv, r[NMAPS - 1].roff,
					  rsz - r[NMAPS - 1].roff);
	expect("shrink the tail holding map 3", ret,
	       PMEM2_E_VM_RESERVATION_NOT_EMPTY);
	ret = pmem2_vm_reservation_shrink(rsv, 1, PAGE);
	expect("shrink at an unaligned offset", ret, PMEM2_E_OFFSET_UNALIGNED);
	ret = pmem2_vm_reservation_shrink(rsv, 0, 1);
	expect("shrink by an unaligned size", ret, PMEM2_E_LENGTH_UNALIGNED);
	ret = pmem2_vm_reservation_shrink(rsv, 0, chunk);
	expect("shrink the empty head", ret, 0);
	raddr = pmem2_vm_reservation_get_address(rsv);
	rsz = pmem2_vm_reservation_get_size(rsv);
	printf("reservation of %zu chunks, map 0 at its start: %s\n",
	       rsz / chunk, raddr == (char *)pmem2_map_get_address(r[0].map) ?
	       "yes" : "NO");
	failed |= raddr != (char *)pmem2_map_get_address(r[0].map);
	ret = pmem2_vm_reservation_map_find(rsv, r[1].roff - chunk + 10, 1, &m);
	printf("find in map 1 after the shrink: %d -> %d\n", ret, index_of(m));
	failed |= ret || index_of(m) != 1;

	/* extend, and map target 0's first chunk again in the extension */
	ret = pmem2_vm_reservation_extend(rsv, 1);
	expect("extend by an unaligned size", ret, PMEM2_E_LENGTH_UNALIGNED);
	ret = pmem2_vm_reservation_extend(rsv, 2 * chunk);
	expect("extend by 2 chunks", ret, 0);
	printf("reservation of %zu chunks\n",
	       pmem2_vm_reservation_get_size(rsv) / chunk);
	r[NMAPS] = (struct range){ .t = 0, .off = 0, .len = chunk,
				   .roff = rsz + chunk };
	ret = map_range(&r[NMAPS], rsv, rsz + chunk, &r[NMAPS].map);
	expect("map 4 (target 0 again) in the extension", ret, 0);
	if (ret)
		return 1;
	ret = pmem2_vm_reservation_map_find_last(rsv, &m);
	printf("last: %d -> %d\n", ret, index_of(m));
	failed |= ret || index_of(m) != NMAPS;
	/* map 4 and map 0 share target 0's first chunk */
	pmem2_get_memcpy_fn(r[NMAPS].map)((char *)pmem2_map_get_address(
		r[NMAPS].map) + 200, ALIAS_MARK, strlen(ALIAS_MARK),
		PMEM2_F_MEM_NONTEMPORAL);
	deep_flush(r[NMAPS].map, pmem2_map_get_address(r[NMAPS].map), 4096);
	i = !memcmp((char *)pmem2_map_get_address(r[0].map) + 200, ALIAS_MARK,
		    strlen(ALIAS_MARK));
	printf("map 0 sees map 4's write: %s\n", i ? "yes" : "NO");
	failed |= !i;
	print_order(rsv, "maps");

	/* delete in a shuffled order */
	for (i = 0; i < NMAPS + 1; i++) {
		int k = del_order[i];

		if (i == NMAPS) {
			ret = pmem2_vm_reservation_delete(&rsv);
			expect("delete the reservation with one map left", ret,
			       PMEM2_E_VM_RESERVATION_NOT_EMPTY);
		}
		ret = pmem2_map_delete(&r[k].map);
		printf("delete map %d: %d\n", k, ret);
		if (ret)
			fail("pmem2_map_delete", ret);
		if (i < NMAPS)
			print_order(rsv, "left");
	}
	ret = pmem2_vm_reservation_map_find_first(rsv, &m);
	expect("first of an empty reservation", ret, PMEM2_E_MAPPING_NOT_FOUND);
	ret = pmem2_vm_reservation_delete(&rsv);
	expect("delete the empty reservation", ret, 0);
	printf("reservation pointer cleared: %s\n", rsv ? "NO" : "yes");
	failed |= rsv != NULL;
	return failed;
}

static int do_read(void)
{
	unsigned char *want;
	int i, ret;

	want = malloc(2 * chunk);
	if (!want)
		return 1;
	for (i = 0; i < NMAPS; i++) {
		const unsigned char *a;

		ret = map_range(&r[i], NULL, 0, &r[i].map);
		if (ret)
			fail("pmem2_map_new", ret);
		a = pmem2_map_get_address(r[i].map);
		fill_expected(want, i, r[i].len);
		printf("range %d: target %d offset %zu length %zu chunks: "
		       "%016" PRIx64 " %s\n", i, r[i].t, r[i].off / chunk,
		       r[i].len / chunk, fnv(a, r[i].len),
		       memcmp(a, want, r[i].len) ? "BAD" : "ok");
		failed |= memcmp(a, want, r[i].len) != 0;
		pmem2_map_delete(&r[i].map);
	}
	free(want);
	return failed;
}

int main(int argc, char **argv)
{
	size_t align, used[MAXT] = { 0 }, roff;
	int i, fd, ret, writing;

	writing = pat_args(argc, argv, MAXT);
	ntargets = argc - 2;
	chunk = 512UL << 10;
	for (i = 0; i < ntargets; i++) {
		fd = pat_open(argv[i + 2]);
		/* the fd stays open while the source lives */
		ret = pmem2_source_from_fd(&srcs[i], fd);
		if (ret)
			fail("pmem2_source_from_fd", ret);
		ret = pmem2_source_alignment(srcs[i], &align);
		if (ret)
			fail("pmem2_source_alignment", ret);
		printf("target %d alignment %zu\n", i, align);
		if (chunk % align)
			chunk = (chunk + align - 1) / align * align;
	}
	roff = chunk;
	for (i = 0; i < NMAPS; i++) {
		size_t ssize;

		r[i].t = i % ntargets;
		r[i].len = chunk * (1 + i % 2);
		r[i].off = used[r[i].t];
		used[r[i].t] += r[i].len;
		r[i].roff = roff;
		roff += r[i].len + chunk;
		ret = pmem2_source_size(srcs[r[i].t], &ssize);
		if (ret)
			fail("pmem2_source_size", ret);
		if (ssize < used[r[i].t]) {
			fprintf(stderr, "multifile: target %d is too small\n",
				r[i].t);
			return 1;
		}
	}
	ret = writing ? do_write() : do_read();
	for (i = 0; i < ntargets; i++) {
		pmem2_source_get_fd(srcs[i], &fd);
		pmem2_source_delete(&srcs[i]);
		close(fd);
	}
	return ret;
}
