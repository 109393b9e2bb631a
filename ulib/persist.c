// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A map's persist, flush and drain, chosen once per map from its
 * granularity: the CPU's write-back and SFENCE (cpu.c) at BYTE and
 * CACHE_LINE; at PAGE msync(2) of each map the range overlaps, or the CPU's
 * write-back and the device flush by id for virtio-pmem device-dax.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "pmf.h"

int pmf_msync_range(const void *ptr, size_t size)
{
	uintptr_t start = (uintptr_t)ptr & ~(pmf_page_size() - 1);

	if (pmf_kops->msync((void *)start, (uintptr_t)ptr + size - start,
			    MS_SYNC))
		return -errno;
	return 0;
}

/* one map's part of a PAGE persist or flush */
static int pmf_persist_page_range(struct pmem2_map *map, const void *p,
				  size_t len)
{
	int ret;

	if (map->devdax) {
		/* asynchronous device-dax: the CPU's write-back, then the host */
		if (map->write_back)
			pmf_cpu_flush(p, len);
		pmf_cpu_drain();
		if (map->deep != PMF_DEEP_IOCTL)
			return 0;
		return pmf_reg_flush(&map->reg, map->offset +
				     ((uintptr_t)p - (uintptr_t)map->addr), len);
	}
	do
		ret = pmf_msync_range(p, len);
	while (ret == -EINTR);
	return ret;
}

/*
 * libpmem2's PAGE persist: each map the range overlaps persists its part;
 * what no map covers is skipped. A failure cannot be reported and going on
 * would lose data: abort, as libpmem2 does.
 */
static void pmf_persist_pages(const void *ptr, size_t size)
{
	if (pmf_maps_for_range(ptr, size, pmf_persist_page_range))
		abort();
}

static void pmf_drain_nop(void)
{
}

static void pmf_flush_nop(const void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
}

static void pmf_persist_fence(const void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	pmf_cpu_drain();
}

/* the flush functions */
void pmf_map_flush_fns(struct pmem2_map *map, const struct pmf_target *t)
{
	switch (map->granularity) {
	case PMEM2_GRANULARITY_BYTE:
		map->persist = pmf_persist_fence;
		map->flush = pmf_flush_nop;
		map->drain = pmf_cpu_drain;
		break;
	case PMEM2_GRANULARITY_CACHE_LINE:
		map->persist = pmf_cpu_persist_get();
		map->flush = pmf_cpu_flush_get();
		map->drain = pmf_cpu_drain;
		break;
	default:
		if (map->devdax && !t->async) {
			/* a forced PAGE on device-dax: it has no msync */
			map->persist = pmf_cpu_persist_get();
			map->flush = pmf_cpu_flush_get();
			map->drain = pmf_cpu_drain;
		} else {
			/* flush and persist each do the whole job */
			map->persist = pmf_persist_pages;
			map->flush = pmf_persist_pages;
			map->drain = pmf_drain_nop;
		}
	}
}

PMF_EXPORT pmem2_persist_fn pmem2_get_persist_fn(struct pmem2_map *map)
{
	return map->persist;
}

PMF_EXPORT pmem2_flush_fn pmem2_get_flush_fn(struct pmem2_map *map)
{
	return map->flush;
}

PMF_EXPORT pmem2_drain_fn pmem2_get_drain_fn(struct pmem2_map *map)
{
	return map->drain;
}
