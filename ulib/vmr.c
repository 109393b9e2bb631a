// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Virtual memory reservations: a PROT_NONE anonymous placeholder that maps
 * are placed into with MAP_FIXED, and that takes a map's place again when
 * the map is deleted. libpmem2's rules: address and sizes page-aligned, a
 * reservation made anywhere starts on a 2 MiB boundary (1 GiB from 2 GiB
 * up), and its end is kept reserved up to that alignment so that it can
 * grow and shrink by pages without its maps losing large-page placement.
 *
 * The maps inside are a sorted array under the reservation's rwlock, as in
 * maps.c: they are few, and every change costs an mmap anyway.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmf.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PMF_MIB ((size_t)1 << 20)
#define PMF_GIB ((size_t)1 << 30)

struct pmem2_vm_reservation {
	pthread_rwlock_t lock;
	struct pmem2_vm_reservation *next;	/* in pmf_vmr_all */
	void *addr;		/* what the caller sees */
	size_t size;
	void *reserv_addr;	/* what is reserved: [addr, addr + size) */
	size_t reserv_size;	/* and alignment slack around it */
	size_t align;
	struct pmf_maparr maps;	/* by address */
};

/*
 * Every reservation, for fork(): a thread of the parent may hold one's lock
 * at that moment, and the child, which has only the forking thread, would
 * wait for it forever. pmf_vmr_fork_prepare() takes them all (after this
 * list's lock, the order pmem2_vm_reservation_delete() takes them in).
 */
static pthread_mutex_t pmf_vmr_all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pmem2_vm_reservation *pmf_vmr_all;

void pmf_vmr_fork_prepare(void)
{
	struct pmem2_vm_reservation *r;

	pthread_mutex_lock(&pmf_vmr_all_lock);
	for (r = pmf_vmr_all; r; r = r->next)
		pthread_rwlock_wrlock(&r->lock);
}

void pmf_vmr_fork_parent(void)
{
	struct pmem2_vm_reservation *r;

	for (r = pmf_vmr_all; r; r = r->next)
		pthread_rwlock_unlock(&r->lock);
	pthread_mutex_unlock(&pmf_vmr_all_lock);
}

/* glibc's rwlock knows its writer by thread id: new locks, as in maps.c */
void pmf_vmr_fork_child(void)
{
	struct pmem2_vm_reservation *r;

	for (r = pmf_vmr_all; r; r = r->next)
		pthread_rwlock_init(&r->lock, NULL);
	pthread_mutex_init(&pmf_vmr_all_lock, NULL);
}

static uintptr_t pmf_align_up(uintptr_t v, size_t a)
{
	return (v + a - 1) & ~(uintptr_t)(a - 1);
}

static uintptr_t pmf_align_down(uintptr_t v, size_t a)
{
	return v & ~(uintptr_t)(a - 1);
}

/*
 * PROT_NONE, private and anonymous: costs no commit charge. At a given
 * address it must not replace anything: MAP_FIXED_NOREPLACE, and the
 * address checked for kernels that ignore the flag.
 */
static int pmf_vmr_reserve(void *addr, size_t size, void **out)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	void *p;

	if (addr)
		flags |= MAP_FIXED_NOREPLACE;
	p = mmap(addr, size, PROT_NONE, flags, -1, 0);
	if (p == MAP_FAILED) {
		if (errno == EEXIST)
			return pmf_err(PMEM2_E_MAPPING_EXISTS,
				       "%p+%zu is already mapped", addr, size);
		return pmf_err(-errno, "mmap: %s", strerror(errno));
	}
	if (addr && p != addr) {
		munmap(p, size);
		return pmf_err(PMEM2_E_MAPPING_EXISTS,
			       "%p+%zu is already mapped", addr, size);
	}
	*out = p;
	return 0;
}

static int pmf_vmr_release(void *addr, size_t size)
{
	if (size && munmap(addr, size))
		return pmf_err(-errno, "munmap: %s", strerror(errno));
	return 0;
}

int pmf_vmr_mend(void *addr, size_t len)
{
	if (mmap(addr, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
		 0) == MAP_FAILED)
		return -errno;
	return 0;
}

/*
 * After a failed MAP_FIXED mmap: the range may still hold the placeholder,
 * be a hole, or hold what another thread was given in the hole. Fill only a
 * hole: a mapping found there is left alone.
 */
void pmf_vmr_refill(void *addr, size_t len)
{
	void *p = mmap(addr, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		       MAP_FIXED_NOREPLACE, -1, 0);

	/* MAP_FIXED_NOREPLACE is a hint before Linux 4.17 */
	if (p != MAP_FAILED && p != addr)
		munmap(p, len);
}

PMF_EXPORT int pmem2_vm_reservation_new(struct pmem2_vm_reservation **rsv_ptr,
					void *addr, size_t size)
{
	size_t page = pmf_page_size(), align, want;
	struct pmem2_vm_reservation *rsv;
	uintptr_t start, end;
	void *raddr;
	int ret;

	pmf_err_clear();
	*rsv_ptr = NULL;
	if ((uintptr_t)addr % page)
		return pmf_err(PMEM2_E_ADDRESS_UNALIGNED,
			       "address %p is not a multiple of %zu", addr,
			       page);
	if (size % page)
		return pmf_err(PMEM2_E_LENGTH_UNALIGNED,
			       "reservation size %zu is not a multiple of %zu",
			       size, page);
	align = size >= 2 * PMF_GIB ? PMF_GIB : 2 * PMF_MIB;
	if (align < page)
		align = page;
	/* room to align the start and round the end up to @align */
	if (addr)
		want = size;
	else if (size > SIZE_MAX - 2 * align)
		return pmf_err(-ENOMEM, "reservation size %zu too large", size);
	else
		want = pmf_align_up(size, align) + align;

	rsv = calloc(1, sizeof(*rsv));
	if (!rsv)
		return pmf_err(-ENOMEM, "out of memory");
	/* an empty one at a given address holds nothing (yet) */
	ret = want ? pmf_vmr_reserve(addr, want, &raddr) : 0;
	if (ret) {
		free(rsv);
		return ret;
	}
	if (addr) {
		start = (uintptr_t)addr;
		end = start + size;
	} else {
		/* keep [aligned start, end rounded up to align), drop the rest */
		start = pmf_align_up((uintptr_t)raddr, align);
		end = pmf_align_up(start + size, align);
		/* an empty one keeps its aligned address reserved */
		if (end == start)
			end += align;
		if (start > (uintptr_t)raddr)
			munmap(raddr, start - (uintptr_t)raddr);
		if ((uintptr_t)raddr + want > end)
			munmap((void *)end, (uintptr_t)raddr + want - end);
	}
	pthread_rwlock_init(&rsv->lock, NULL);
	rsv->addr = (void *)start;
	rsv->size = size;
	rsv->reserv_addr = (void *)start;
	rsv->reserv_size = end - start;
	rsv->align = align;
	pthread_mutex_lock(&pmf_vmr_all_lock);
	rsv->next = pmf_vmr_all;
	pmf_vmr_all = rsv;
	pthread_mutex_unlock(&pmf_vmr_all_lock);
	*rsv_ptr = rsv;
	return 0;
}

PMF_EXPORT int pmem2_vm_reservation_delete(
	struct pmem2_vm_reservation **rsv_ptr)
{
	struct pmem2_vm_reservation *rsv = *rsv_ptr, **pp;
	int ret;

	pmf_err_clear();
	pthread_mutex_lock(&pmf_vmr_all_lock);
	pthread_rwlock_wrlock(&rsv->lock);
	if (rsv->maps.n) {
		ret = pmf_err(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
			      "vm reservation %p isn't empty", (void *)rsv);
		goto out;
	}
	ret = pmf_vmr_release(rsv->reserv_addr, rsv->reserv_size);
	if (ret)
		goto out;
	for (pp = &pmf_vmr_all; *pp != rsv; pp = &(*pp)->next)
		;
	*pp = rsv->next;
out:
	pthread_rwlock_unlock(&rsv->lock);
	pthread_mutex_unlock(&pmf_vmr_all_lock);
	if (ret)
		return ret;
	pthread_rwlock_destroy(&rsv->lock);
	free(rsv);
	*rsv_ptr = NULL;
	return 0;
}

PMF_EXPORT void *pmem2_vm_reservation_get_address(
	struct pmem2_vm_reservation *rsv)
{
	void *addr;

	pthread_rwlock_rdlock(&rsv->lock);
	addr = rsv->addr;
	pthread_rwlock_unlock(&rsv->lock);
	return addr;
}

PMF_EXPORT size_t pmem2_vm_reservation_get_size(
	struct pmem2_vm_reservation *rsv)
{
	size_t size;

	pthread_rwlock_rdlock(&rsv->lock);
	size = rsv->size;
	pthread_rwlock_unlock(&rsv->lock);
	return size;
}

PMF_EXPORT int pmem2_vm_reservation_extend(struct pmem2_vm_reservation *rsv,
					   size_t size)
{
	uintptr_t end, new_end, reserv_end;
	size_t page = pmf_page_size();
	void *p;
	int ret = 0;

	pmf_err_clear();
	if (size % page)
		return pmf_err(PMEM2_E_LENGTH_UNALIGNED,
			       "reservation extension size %zu is not a multiple of %zu",
			       size, page);
	pthread_rwlock_wrlock(&rsv->lock);
	reserv_end = (uintptr_t)rsv->reserv_addr + rsv->reserv_size;
	if (__builtin_add_overflow((uintptr_t)rsv->addr + rsv->size, size,
				   &end) ||
	    end > UINTPTR_MAX - rsv->align) {
		ret = pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			      "reservation cannot grow by %zu", size);
		goto out;
	}
	new_end = pmf_align_up(end, rsv->align);
	if (new_end > reserv_end) {
		ret = pmf_vmr_reserve((void *)reserv_end, new_end - reserv_end,
				      &p);
		if (ret == PMEM2_E_MAPPING_EXISTS) {
			/* the alignment slack is a wish, the range is not */
			pmf_err_clear();
			new_end = end > reserv_end ? end : reserv_end;
			if (new_end > reserv_end)
				ret = pmf_vmr_reserve((void *)reserv_end,
						      new_end - reserv_end, &p);
			else
				ret = 0;
		}
		if (ret)
			goto out;
		rsv->reserv_size = new_end - (uintptr_t)rsv->reserv_addr;
	}
	rsv->size += size;
out:
	pthread_rwlock_unlock(&rsv->lock);
	return ret;
}

/*
 * libpmem2's interval search: the lowest map overlapping [start, start +
 * len); an empty range finds the map that holds @start.
 */
static struct pmem2_map *pmf_vmr_find_at(struct pmem2_vm_reservation *rsv,
					 uintptr_t start, size_t len)
{
	size_t i = pmf_maparr_first_above(&rsv->maps, start);
	uintptr_t end;

	if (i == rsv->maps.n)
		return NULL;
	if (__builtin_add_overflow(start, len ? len : 1, &end))
		end = UINTPTR_MAX;
	return (uintptr_t)rsv->maps.v[i]->addr < end ? rsv->maps.v[i] : NULL;
}

struct pmem2_map *pmf_vmr_find_locked(struct pmem2_vm_reservation *rsv,
				      size_t offset, size_t len)
{
	return pmf_vmr_find_at(rsv, (uintptr_t)rsv->addr + offset, len);
}

PMF_EXPORT int pmem2_vm_reservation_shrink(struct pmem2_vm_reservation *rsv,
					   size_t offset, size_t size)
{
	uintptr_t addr, end, keep_start, keep_end, rstart, rend;
	size_t page = pmf_page_size();
	int ret = 0;

	pmf_err_clear();
	if (offset % page)
		return pmf_err(PMEM2_E_OFFSET_UNALIGNED,
			       "reservation shrink offset %zu is not a multiple of %zu",
			       offset, page);
	if (size % page)
		return pmf_err(PMEM2_E_LENGTH_UNALIGNED,
			       "reservation shrink size %zu is not a multiple of %zu",
			       size, page);
	pthread_rwlock_wrlock(&rsv->lock);
	if (offset >= rsv->size) {
		ret = pmf_err(PMEM2_E_OFFSET_OUT_OF_RANGE,
			      "reservation shrink offset %zu is out of reservation range",
			      offset);
		goto out;
	}
	if (!size) {
		ret = pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			      "reservation shrink size cannot be zero");
		goto out;
	}
	if (size > rsv->size - offset) {
		ret = pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			      "reservation shrink size %zu stands out of reservation range",
			      size);
		goto out;
	}
	if (offset && offset + size != rsv->size) {
		ret = pmf_err(PMEM2_E_NOSUPP,
			      "shrinking reservation from the middle is not supported");
		goto out;
	}
	if (!offset && size == rsv->size) {
		ret = pmf_err(PMEM2_E_NOSUPP,
			      "shrinking whole reservation is not supported");
		goto out;
	}
	if (pmf_vmr_find_locked(rsv, offset, size)) {
		ret = pmf_err(PMEM2_E_VM_RESERVATION_NOT_EMPTY,
			      "reservation region (offset %zu, size %zu) to be shrunk is occupied by a mapping",
			      offset, size);
		goto out;
	}

	addr = (uintptr_t)rsv->addr + (offset ? 0 : size);
	end = (uintptr_t)rsv->addr + (offset ? offset : rsv->size);
	/* what stays reserved: the new range out to the alignment */
	rstart = (uintptr_t)rsv->reserv_addr;
	rend = rstart + rsv->reserv_size;
	keep_start = pmf_align_down(addr, rsv->align);
	keep_end = pmf_align_up(end, rsv->align);
	if (keep_start < rstart)
		keep_start = rstart;
	if (keep_end > rend)
		keep_end = rend;
	if (keep_start > rstart)
		ret = pmf_vmr_release((void *)rstart, keep_start - rstart);
	else if (keep_end < rend)
		ret = pmf_vmr_release((void *)keep_end, rend - keep_end);
	if (ret)
		goto out;
	rsv->reserv_addr = (void *)keep_start;
	rsv->reserv_size = keep_end - keep_start;
	rsv->addr = (void *)addr;
	rsv->size = end - addr;
out:
	pthread_rwlock_unlock(&rsv->lock);
	return ret;
}

PMF_EXPORT int pmem2_vm_reservation_map_find(struct pmem2_vm_reservation *rsv,
		size_t reserv_offset, size_t len, struct pmem2_map **map)
{
	pmf_err_clear();
	pthread_rwlock_rdlock(&rsv->lock);
	*map = pmf_vmr_find_locked(rsv, reserv_offset, len);
	pthread_rwlock_unlock(&rsv->lock);
	if (!*map)
		return pmf_err(PMEM2_E_MAPPING_NOT_FOUND,
			       "mapping not found at the range (offset %zu, size %zu) in reservation %p",
			       reserv_offset, len, (void *)rsv);
	return 0;
}

/* the last map ending at or below @map's start */
PMF_EXPORT int pmem2_vm_reservation_map_find_prev(
	struct pmem2_vm_reservation *rsv, struct pmem2_map *map,
	struct pmem2_map **prev_map)
{
	size_t i;

	pmf_err_clear();
	pthread_rwlock_rdlock(&rsv->lock);
	i = pmf_maparr_first_above(&rsv->maps, (uintptr_t)map->addr);
	*prev_map = i ? rsv->maps.v[i - 1] : NULL;
	pthread_rwlock_unlock(&rsv->lock);
	if (!*prev_map)
		return pmf_err(PMEM2_E_MAPPING_NOT_FOUND,
			       "mapping previous to mapping %p not found",
			       (void *)map);
	return 0;
}

/* the first map starting above @map's start */
PMF_EXPORT int pmem2_vm_reservation_map_find_next(
	struct pmem2_vm_reservation *rsv, struct pmem2_map *map,
	struct pmem2_map **next_map)
{
	size_t i;

	pmf_err_clear();
	pthread_rwlock_rdlock(&rsv->lock);
	i = pmf_maparr_first_above(&rsv->maps, (uintptr_t)map->addr);
	if (i < rsv->maps.n && rsv->maps.v[i]->addr == map->addr)
		i++;
	*next_map = i < rsv->maps.n ? rsv->maps.v[i] : NULL;
	pthread_rwlock_unlock(&rsv->lock);
	if (!*next_map)
		return pmf_err(PMEM2_E_MAPPING_NOT_FOUND,
			       "mapping next to mapping %p not found",
			       (void *)map);
	return 0;
}

PMF_EXPORT int pmem2_vm_reservation_map_find_first(
	struct pmem2_vm_reservation *rsv, struct pmem2_map **map)
{
	pmf_err_clear();
	pthread_rwlock_rdlock(&rsv->lock);
	*map = rsv->maps.n ? rsv->maps.v[0] : NULL;
	pthread_rwlock_unlock(&rsv->lock);
	if (!*map)
		return pmf_err(PMEM2_E_MAPPING_NOT_FOUND,
			       "reservation %p stores no mapping", (void *)rsv);
	return 0;
}

PMF_EXPORT int pmem2_vm_reservation_map_find_last(
	struct pmem2_vm_reservation *rsv, struct pmem2_map **map)
{
	pmf_err_clear();
	pthread_rwlock_rdlock(&rsv->lock);
	*map = rsv->maps.n ? rsv->maps.v[rsv->maps.n - 1] : NULL;
	pthread_rwlock_unlock(&rsv->lock);
	if (!*map)
		return pmf_err(PMEM2_E_MAPPING_NOT_FOUND,
			       "reservation %p stores no mapping", (void *)rsv);
	return 0;
}

void pmf_vmr_wrlock(struct pmem2_vm_reservation *rsv)
{
	pthread_rwlock_wrlock(&rsv->lock);
}

void pmf_vmr_unlock(struct pmem2_vm_reservation *rsv)
{
	pthread_rwlock_unlock(&rsv->lock);
}

void *pmf_vmr_addr_locked(const struct pmem2_vm_reservation *rsv)
{
	return rsv->addr;
}

size_t pmf_vmr_size_locked(const struct pmem2_vm_reservation *rsv)
{
	return rsv->size;
}

/* the caller checked that nothing overlaps */
int pmf_vmr_insert_locked(struct pmem2_vm_reservation *rsv,
			  struct pmem2_map *map)
{
	return pmf_maparr_insert(&rsv->maps, map);
}

void pmf_vmr_remove_locked(struct pmem2_vm_reservation *rsv,
			   struct pmem2_map *map)
{
	pmf_maparr_remove(&rsv->maps, map);
}
