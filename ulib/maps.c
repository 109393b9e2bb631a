// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every live map by address. libpmem2's PAGE persist and flush receive only
 * (ptr, size): like libpmem2 we find the maps the range overlaps and act on
 * each map's part of it, skipping what no map covers.
 *
 * A sorted array under a rwlock: maps are few and made rarely, and a lookup
 * serves an msync or an ioctl, which cost far more than the lock. The lock is
 * taken for writing around fork() (fork.c) so a child never inherits it
 * held, and is never held across anything slow.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmf.h"

static pthread_rwlock_t pmf_maps_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct pmf_maparr pmf_maps;

int pmf_maps_add(struct pmem2_map *map)
{
	int ret;

	pthread_rwlock_wrlock(&pmf_maps_lock);
	/*
	 * Maps of pmem2_map_new() never overlap (the kernel gave each its own
	 * range); pmem2_map_from_existing() may be handed a range already in.
	 */
	if (pmf_maparr_overlaps(&pmf_maps, (uintptr_t)map->addr,
				(uintptr_t)map->addr + map->size))
		ret = -EEXIST;
	else
		ret = pmf_maparr_insert(&pmf_maps, map);
	pthread_rwlock_unlock(&pmf_maps_lock);
	return ret;
}

void pmf_maps_remove(struct pmem2_map *map)
{
	pthread_rwlock_wrlock(&pmf_maps_lock);
	pmf_maparr_remove(&pmf_maps, map);
	pthread_rwlock_unlock(&pmf_maps_lock);
}

int pmf_maps_for_range(const void *ptr, size_t size,
		       int (*fn)(struct pmem2_map *map, const void *p,
				 size_t len))
{
	uintptr_t start = (uintptr_t)ptr, end;

	if (!size)
		return 0;
	/* a range past the top of the address space ends there */
	if (__builtin_add_overflow(start, size, &end))
		end = UINTPTR_MAX;
	/*
	 * One map at a time, the lock held only to find it, as libpmem2 does:
	 * holding it across an msync or a host flush would let a stream of
	 * persisting threads shut pmem2_map_new() and fork() out. The maps
	 * found are the caller's, who must not delete them meanwhile.
	 */
	while (start < end) {
		struct pmem2_map *m = NULL;
		uintptr_t a, b;
		size_t i;
		int ret;

		pthread_rwlock_rdlock(&pmf_maps_lock);
		i = pmf_maparr_first_above(&pmf_maps, start);
		if (i < pmf_maps.n && (uintptr_t)pmf_maps.v[i]->addr < end)
			m = pmf_maps.v[i];
		pthread_rwlock_unlock(&pmf_maps_lock);
		if (!m)
			break;
		a = (uintptr_t)m->addr;
		b = a + m->size;
		if (a < start)
			a = start;
		if (b > end)
			b = end;
		ret = fn(m, (const void *)a, b - a);
		if (ret)
			return ret;
		start = b;
	}
	return 0;
}

void pmf_maps_fork_prepare(void)
{
	pthread_rwlock_wrlock(&pmf_maps_lock);
}

void pmf_maps_fork_parent(void)
{
	pthread_rwlock_unlock(&pmf_maps_lock);
}

/*
 * glibc's rwlock knows its writer by thread id, which is not the same in
 * the child: unlocking there would be taken for a reader's unlock. The child
 * has one thread and nobody else holds the lock: make it new.
 */
void pmf_maps_fork_child(void)
{
	pthread_rwlock_init(&pmf_maps_lock, NULL);
}
