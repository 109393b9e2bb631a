// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_map_new(), pmem2_map_from_existing() and pmem2_map_delete(): what a
 * map is, decided once when it is made: the granularity (here), the flush
 * functions (persist.c) and the way to the device flush (deep_flush.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmf.h"

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif

/*
 * libpmem2's choice: PMEM2_FORCE_GRANULARITY (BYTE, CACHE_LINE, CACHELINE,
 * PAGE, any case) wins; then PAGE unless MAP_SYNC took, BYTE on eADR,
 * CACHE_LINE otherwise.
 */
enum pmem2_granularity pmf_min_granularity(bool map_sync, bool eadr,
					   const char *force)
{
	char s[11];

	if (force && strlen(force) < sizeof(s)) {
		size_t i;

		for (i = 0; force[i]; i++)
			s[i] = (char)toupper((unsigned char)force[i]);
		s[i] = '\0';
		if (!strcmp(s, "BYTE"))
			return PMEM2_GRANULARITY_BYTE;
		if (!strcmp(s, "CACHE_LINE") || !strcmp(s, "CACHELINE"))
			return PMEM2_GRANULARITY_CACHE_LINE;
		if (!strcmp(s, "PAGE"))
			return PMEM2_GRANULARITY_PAGE;
	}
	if (!map_sync)
		return PMEM2_GRANULARITY_PAGE;
	return eadr ? PMEM2_GRANULARITY_BYTE : PMEM2_GRANULARITY_CACHE_LINE;
}

/*
 * Ask the module; when it cannot answer for any reason but "a page-cache
 * file" (no region here, a device going away, an fd mmap will refuse, an
 * older module), ask sysfs. On an asynchronous (virtio-pmem) region a CPU
 * cache flush reaches only the host's page cache: a file's MAP_SYNC mapping
 * proves nothing there (libpmem2 expects MAP_SYNC to fail), and device-dax
 * is durable only through the device flush, so both get PAGE.
 */
static void pmf_target_resolve(const struct pmem2_source *src,
			       struct pmf_target *t)
{
	bool devdax = src->ftype == PMF_FTYPE_DEVDAX;
	struct pmemflush_query q;
	struct pmf_region r;
	int dev = pmf_dev_get(0);

	memset(t, 0, sizeof(*t));
	if (dev >= 0) {
		int ret = pmf_kops->query(dev, 0, src->fd, &q);

		if (!ret) {
			t->module = t->region = true;
			t->region_id = q.region_id;
			t->async = q.out_flags & PMEMFLUSH_REGION_ASYNC;
			t->eadr = !t->async && q.persistence_domain ==
					       PMEMFLUSH_PERSIST_CPU_CACHE;
			t->no_flush = !t->async && q.has_flush == 0;
			t->try_sync = devdax ||
				(!t->async && (q.out_flags & PMEMFLUSH_DAX_SYNC));
			return;
		}
		/* a non-DAX file or an XFS realtime one: msync persists it */
		if (ret == -EOPNOTSUPP)
			return;
	}

	/* a device or file sysfs cannot place has no region: not an error */
	if (pmf_region_find(devdax, src->dev, &r))
		r.found = false;
	t->region = r.found;
	t->region_id = r.id;
	t->async = r.found && r.async;
	t->eadr = r.found && r.cpu_cache && !r.async;
	t->no_flush = r.found && r.no_flush && !r.async;
	t->try_sync = devdax || !t->async;
}

/* the target of a shared map of @src; fails if no map of it can be durable */
static int pmf_target_get(const struct pmem2_source *src, struct pmf_target *t)
{
	pmf_target_resolve(src, t);
	if (src->ftype == PMF_FTYPE_DEVDAX && t->async && !t->module)
		return pmf_err(PMEM2_E_NOSUPP,
			       "device-dax on an asynchronous region (virtio-pmem) is durable only through its flush, which needs the pmemflush module");
	return 0;
}

/* anonymous memory is checked as a file, then mapped from its start */
static int pmf_map_range(const struct pmem2_config *cfg, size_t src_size,
			 size_t align, bool anon, size_t *length)
{
	size_t end;

	if (!src_size)
		return pmf_err(PMEM2_E_SOURCE_EMPTY, "source is empty");
	if (cfg->length % align)
		return pmf_err(PMEM2_E_LENGTH_UNALIGNED,
			       "length is not a multiple of %zu", align);
	if (__builtin_add_overflow(cfg->offset, cfg->length, &end))
		return pmf_err(PMEM2_E_MAP_RANGE,
			       "overflow of offset and length");
	if (end > src_size)
		return pmf_err(PMEM2_E_MAP_RANGE,
			       "mapping larger than the source");
	*length = cfg->length ? cfg->length :
		  src_size - (anon ? 0 : cfg->offset);
	if (!*length)
		return pmf_err(PMEM2_E_MAP_RANGE,
			       "offset is at the end of the source");
	return 0;
}

/* PMEM2_PROT_* as mmap's PROT_* */
static int pmf_mmap_prot(unsigned int prot)
{
	return ((prot & PMEM2_PROT_READ) ? PROT_READ : 0) |
	       ((prot & PMEM2_PROT_WRITE) ? PROT_WRITE : 0) |
	       ((prot & PMEM2_PROT_EXEC) ? PROT_EXEC : 0);
}

/*
 * @flags: MAP_PRIVATE or MAP_SHARED, and MAP_FIXED to place it at @hint.
 * Only a shared map of a file tries MAP_SYNC; anonymous memory is mapped
 * shared or private as asked.
 *
 * A MAP_FIXED mmap that the file system refuses has unmapped its range
 * already (6.1's mmap_region() unmaps before calling ->mmap()), and until
 * the next mmap fills the hole another thread's mmap(NULL) may be given
 * it, which a second MAP_FIXED would then silently replace. So MAP_SYNC is
 * tried away from a reservation first, and the one MAP_FIXED mmap into it
 * has flags known to work.
 */
static void *pmf_mmap(const struct pmem2_source *src, void *hint,
		      size_t length, off_t offset, int prot, int flags,
		      bool try_sync, bool *map_sync)
{
	int sflags = (flags & ~MAP_SHARED) | MAP_SHARED_VALIDATE | MAP_SYNC;
	void *addr;

	*map_sync = false;
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_kops->mmap(hint, length, prot, flags | MAP_ANONYMOUS,
				      -1, 0);
	if (!try_sync || !(flags & MAP_SHARED))
		return pmf_kops->mmap(hint, length, prot, flags, src->fd,
				      offset);
	if (flags & MAP_FIXED) {
		addr = pmf_kops->mmap(NULL, length, prot, sflags & ~MAP_FIXED,
				      src->fd, offset);
		if (addr != MAP_FAILED) {
			munmap(addr, length);
			*map_sync = true;
			return pmf_kops->mmap(hint, length, prot, sflags,
					      src->fd, offset);
		}
	} else {
		addr = pmf_kops->mmap(hint, length, prot, sflags, src->fd,
				      offset);
		if (addr != MAP_FAILED) {
			*map_sync = true;
			return addr;
		}
	}
	if (errno != EINVAL && errno != EOPNOTSUPP)
		return MAP_FAILED;
	return pmf_kops->mmap(hint, length, prot, flags, src->fd, offset);
}

static const char *const pmf_gran_name[] = {
	[PMEM2_GRANULARITY_BYTE] = "BYTE",
	[PMEM2_GRANULARITY_CACHE_LINE] = "CACHE_LINE",
	[PMEM2_GRANULARITY_PAGE] = "PAGE",
};

/* what the map's pages span */
static size_t pmf_map_span(const struct pmem2_map *map)
{
	size_t page = pmf_page_size();

	return (map->size + page - 1) & ~(page - 1);
}

/*
 * Give the map's pages back: a map in a reservation leaves the PROT_NONE
 * placeholder in its place (the caller holds the reservation's lock), one
 * of pmem2_map_from_existing() is the caller's to unmap. Keeps the thread's
 * error message unless this fails.
 */
static int pmf_map_unmap(struct pmem2_map *map)
{
	if (map->existing)
		return 0;
	if (map->rsv) {
		int ret = pmf_vmr_mend(map->addr, pmf_map_span(map));

		return ret ? pmf_err(ret, "mmap: %s", strerror(-ret)) : 0;
	}
	if (munmap(map->addr, pmf_map_span(map)))
		return pmf_err(-errno, "munmap: %s", strerror(errno));
	return 0;
}

/* free what the map object holds, after its pages were given back */
static void pmf_map_free(struct pmem2_map *map)
{
	if (map->registered)
		pmf_reg_drop(&map->reg);
	free(map->deep_path);
	free(map);
}

/*
 * Where in @rsv a map of @length goes, libpmem2's checks in its order; the
 * caller holds the reservation's lock for writing.
 */
static int pmf_map_rsv_place(const struct pmem2_config *cfg, size_t length,
			     size_t align, void **hint)
{
	struct pmem2_vm_reservation *rsv = cfg->rsv;
	size_t page = pmf_page_size(), span, end;
	uintptr_t addr;

	span = (length + page - 1) & ~(page - 1);
	if (cfg->rsv_offset % page)
		return pmf_err(PMEM2_E_OFFSET_UNALIGNED,
			       "virtual memory reservation offset %zu is not a multiple of %zu",
			       cfg->rsv_offset, page);
	if (__builtin_add_overflow(cfg->rsv_offset, span, &end) ||
	    end > pmf_vmr_size_locked(rsv))
		return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			       "reservation %p has not enough space for the intended content",
			       (void *)rsv);
	addr = (uintptr_t)pmf_vmr_addr_locked(rsv) + cfg->rsv_offset;
	if (addr % align)
		return pmf_err(PMEM2_E_ADDRESS_UNALIGNED,
			       "base mapping address %p (reservation address + offset) is not a multiple of %zu required by the source",
			       (void *)addr, align);
	if (pmf_vmr_find_locked(rsv, cfg->rsv_offset, span))
		return pmf_err(PMEM2_E_MAPPING_EXISTS,
			       "region of the reservation %p at offset %zu and length %zu is at least partly occupied by another mapping",
			       (void *)rsv, cfg->rsv_offset, span);
	*hint = (void *)addr;
	return 0;
}

static int pmf_mmap_err(int err)
{
	switch (err) {
	case EACCES:
		return PMEM2_E_NO_ACCESS;
	case EBADF:
		return PMEM2_E_INVALID_FILE_HANDLE;
	case EOPNOTSUPP:
		return PMEM2_E_NOSUPP;
	case EEXIST:
		return PMEM2_E_MAPPING_EXISTS;
	default:
		return -err;
	}
}

/*
 * Make the map object for [@addr, @addr + @length), its functions and its
 * way to the device. Anonymous memory and private maps persist nothing:
 * BYTE, whatever PMEM2_FORCE_GRANULARITY says (libpmem2), and no device.
 */
static int pmf_map_setup(struct pmem2_map **map_ptr,
			 const struct pmem2_source *src,
			 const struct pmf_target *t, void *addr, size_t length,
			 enum pmem2_granularity gran, bool map_sync,
			 bool existing, const struct pmem2_config *cfg)
{
	struct pmem2_map *map;
	int ret;

	map = calloc(1, sizeof(*map));
	if (!map)
		return pmf_err(-ENOMEM, "out of memory");
	map->addr = addr;
	map->size = length;
	map->granularity = gran;
	map->devdax = src->ftype == PMF_FTYPE_DEVDAX;
	map->existing = existing;
	if (cfg) {
		map->offset = src->ftype == PMF_FTYPE_ANON ? 0 : cfg->offset;
		map->sharing = cfg->sharing;
		map->prot = cfg->prot;
		map->rsv = cfg->rsv;
	} else {
		map->sharing = PMEM2_SHARED;
		map->prot = PMEM2_PROT_READ | PMEM2_PROT_WRITE;
	}
	map->write_back = pmf_cpu_can_write_back(map->prot);
	pmf_map_flush_fns(map, t);
	pmf_map_mem_fns(map);
	if (src->ftype == PMF_FTYPE_ANON) {
		/*
		 * libpmem2 refuses a BYTE one; at CACHE_LINE or PAGE (only
		 * from pmem2_map_from_existing()) its msync does nothing
		 */
		map->deep = gran == PMEM2_GRANULARITY_BYTE ? PMF_DEEP_ANON :
			    PMF_DEEP_CPU;
		ret = 0;
	} else if (map->sharing == PMEM2_PRIVATE) {
		/* the copies are in memory: write-back and a fence, no device */
		map->deep = PMF_DEEP_CPU;
		ret = 0;
	} else {
		ret = pmf_map_deep_setup(map, t, map_sync);
		/* REGISTER by address says where @addr is in the target */
		if (!ret && existing && map->registered)
			map->offset = map->reg.offset;
	}
	if (ret) {
		pmf_map_free(map);
		return ret;
	}
	*map_ptr = map;
	return 0;
}

PMF_EXPORT int pmem2_map_new(struct pmem2_map **map_ptr,
			     const struct pmem2_config *cfg,
			     const struct pmem2_source *src)
{
	bool devdax = src->ftype == PMF_FTYPE_DEVDAX;
	bool anon = src->ftype == PMF_FTYPE_ANON;
	bool private = cfg->sharing == PMEM2_PRIVATE;
	struct pmem2_vm_reservation *rsv = cfg->rsv;
	enum pmem2_granularity min;
	size_t src_size = 0, align = 1, length = 0;
	struct pmf_target t;
	struct pmem2_map *map = NULL;
	void *addr, *hint = NULL;
	bool map_sync;
	int ret, flags;

	pmf_err_clear();
	*map_ptr = NULL;
	if (cfg->granularity == PMF_GRANULARITY_UNSET)
		return pmf_err(PMEM2_E_GRANULARITY_NOT_SET,
			       "please define the max granularity requested for the mapping");
	ret = pmf_source_bounds(src, &src_size, &align);
	if (ret)
		return ret;
	if (cfg->offset % align)
		return pmf_err(PMEM2_E_OFFSET_UNALIGNED,
			       "offset is not a multiple of %zu", align);
	if (devdax && private)
		return pmf_err(PMEM2_E_SRC_DEVDAX_PRIVATE,
			       "device DAX does not support mapping with MAP_PRIVATE");
	ret = pmf_map_range(cfg, src_size, align, anon, &length);
	if (ret)
		return ret;

	memset(&t, 0, sizeof(t));
	if (!anon && !private) {
		ret = pmf_target_get(src, &t);
		if (ret)
			return ret;
	}

	flags = private ? MAP_PRIVATE : MAP_SHARED;
	if (rsv) {
		pmf_vmr_wrlock(rsv);
		ret = pmf_map_rsv_place(cfg, length, align, &hint);
		if (ret)
			goto out_unlock;
		flags |= MAP_FIXED;
	}
	/* anonymous memory starts at its beginning, whatever the offset */
	addr = pmf_mmap(src, hint, length, anon ? 0 : (off_t)cfg->offset,
			pmf_mmap_prot(cfg->prot), flags, t.try_sync,
			&map_sync);
	if (addr == MAP_FAILED) {
		int err = errno;

		/* a failed MAP_FIXED may have taken the placeholder away */
		if (rsv)
			pmf_vmr_refill(hint, (length + pmf_page_size() - 1) &
					     ~(pmf_page_size() - 1));
		ret = pmf_err(pmf_mmap_err(err), "mmap: %s", strerror(err));
		goto out_unlock;
	}

	if (anon || private)
		min = PMEM2_GRANULARITY_BYTE;
	else
		min = pmf_min_granularity(map_sync && !t.async, t.eadr,
					  secure_getenv("PMEM2_FORCE_GRANULARITY"));
	if (min > (enum pmem2_granularity)cfg->granularity) {
		ret = pmf_err(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
			      "requested granularity %s not available, the mapping offers %s",
			      pmf_gran_name[cfg->granularity],
			      pmf_gran_name[min]);
		goto out_unmap;
	}

	ret = pmf_map_setup(&map, src, &t, addr, length, min, map_sync, false,
			    cfg);
	if (ret)
		goto out_unmap;
	ret = pmf_maps_add(map);
	if (ret) {
		ret = pmf_err(ret == -EEXIST ? PMEM2_E_MAP_EXISTS : ret,
			      "registering the mapping: %s", strerror(-ret));
		goto out_free;
	}
	if (rsv) {
		ret = pmf_vmr_insert_locked(rsv, map);
		if (ret) {
			ret = pmf_err(ret, "out of memory");
			pmf_maps_remove(map);
			goto out_free;
		}
		pmf_vmr_unlock(rsv);
	}
	*map_ptr = map;
	return 0;

out_free:
	pmf_map_free(map);
out_unmap:
	if (rsv)
		pmf_vmr_mend(addr, (length + pmf_page_size() - 1) &
				   ~(pmf_page_size() - 1));
	else
		munmap(addr, length);
out_unlock:
	if (rsv)
		pmf_vmr_unlock(rsv);
	return ret;
}

PMF_EXPORT int pmem2_map_delete(struct pmem2_map **map_ptr)
{
	struct pmem2_map *map = *map_ptr;
	struct pmem2_vm_reservation *rsv = map->rsv;
	int ret;

	pmf_err_clear();
	pmf_maps_remove(map);
	if (rsv)
		pmf_vmr_wrlock(rsv);
	ret = pmf_map_unmap(map);
	if (ret) {
		/*
		 * still mapped (and in its reservation): as libpmem2, keep the
		 * map and the caller's handle, and say why
		 */
		if (rsv)
			pmf_vmr_unlock(rsv);
		pmf_maps_add(map);
		return ret;
	}
	if (rsv) {
		pmf_vmr_remove_locked(rsv, map);
		pmf_vmr_unlock(rsv);
	}
	*map_ptr = NULL;
	pmf_map_free(map);
	return ret;
}

/*
 * Memory the caller mapped. Its deep flush is what a map of the source
 * would have: registered by address with the module where the caller's
 * mapping allows it. A file's mapping is taken for a MAP_SYNC one when the
 * caller claims CACHE_LINE or BYTE for it; at PAGE it is msync'ed.
 */
PMF_EXPORT int pmem2_map_from_existing(struct pmem2_map **map_ptr,
				       const struct pmem2_source *src,
				       void *addr, size_t len,
				       enum pmem2_granularity gran)
{
	bool devdax = src->ftype == PMF_FTYPE_DEVDAX, map_sync;
	struct pmem2_map *map;
	struct pmf_target t;
	int ret;

	pmf_err_clear();
	*map_ptr = NULL;
	switch (gran) {
	case PMEM2_GRANULARITY_BYTE:
	case PMEM2_GRANULARITY_CACHE_LINE:
	case PMEM2_GRANULARITY_PAGE:
		break;
	default:
		return pmf_err(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
			       "unknown granularity value %d", (int)gran);
	}
	memset(&t, 0, sizeof(t));
	if (src->ftype != PMF_FTYPE_ANON) {
		ret = pmf_target_get(src, &t);
		if (ret)
			return ret;
	}
	/*
	 * A file's mapping is MAP_SYNC only if the kernel says so (a claimed
	 * CACHE_LINE or BYTE proves nothing): otherwise its deep flush must
	 * msync, for block allocation and unwritten extents
	 */
	map_sync = t.try_sync && gran != PMEM2_GRANULARITY_PAGE &&
		   (devdax || pmf_kops->map_sync(addr, len) == 1);
	ret = pmf_map_setup(&map, src, &t, addr, len, gran, map_sync, true,
			    NULL);
	if (ret)
		return ret;
	ret = pmf_maps_add(map);
	if (ret) {
		pmf_map_free(map);
		if (ret == -EEXIST)
			return pmf_err(PMEM2_E_MAP_EXISTS,
				       "provided mapping (addr %p len %zu) is already registered",
				       addr, len);
		return pmf_err(ret, "out of memory");
	}
	*map_ptr = map;
	return 0;
}

PMF_EXPORT void *pmem2_map_get_address(struct pmem2_map *map)
{
	return map->addr;
}

PMF_EXPORT size_t pmem2_map_get_size(struct pmem2_map *map)
{
	return map->size;
}

PMF_EXPORT enum pmem2_granularity
pmem2_map_get_store_granularity(struct pmem2_map *map)
{
	return map->granularity;
}

