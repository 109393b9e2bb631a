// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_deep_flush(): the way to the device is chosen once, when the map is
 * made (pmf_map_deep_setup()), so a deep flush only acts: msync, the CPU's
 * write-back and SFENCE alone, FLUSH by the map's id, or the region's sysfs
 * file without the module.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmf.h"

/*
 * The way to the device flush. A file mapped without MAP_SYNC needs its
 * metadata written too: msync, whatever granularity was forced. Otherwise,
 * where the region's flush is only a barrier, the CPU's write-back and
 * SFENCE are the whole deep flush; where a device flush exists the map is
 * registered with the module by its address range (no fd of the caller's
 * is kept, duplicated or closed) and flushed by id.
 */
int pmf_map_deep_setup(struct pmem2_map *map, const struct pmf_target *t,
		       bool map_sync)
{
	bool writable = map->prot & PMEM2_PROT_WRITE;
	char path[PATH_MAX];

	if (!map->devdax && (!map_sync || !t->module || !writable)) {
		map->deep = PMF_DEEP_MSYNC;
		return 0;
	}
	if (t->module && t->no_flush) {
		map->deep = PMF_DEEP_CPU;
		return 0;
	}
	/*
	 * REGISTER by address takes a shared writable map only, and the fd
	 * may be read-only: a device-dax map without PROT_WRITE, which
	 * stores nothing itself, flushes through sysfs as libpmem2 does.
	 */
	if (t->module && writable) {
		int ret;

		ret = pmf_reg_init(&map->reg, map->addr, map->size, -1);
		if (!ret) {
			map->registered = true;
			map->deep = PMF_DEEP_IOCTL;
			return 0;
		}
		/* nothing else makes an asynchronous region durable */
		if (ret == -ENOMEM || t->async)
			return pmf_kernel_err(ret, "PMEMFLUSH_REGISTER");
		/* an older module, or every slot full: as without the module */
		if (!map->devdax) {
			map->deep = PMF_DEEP_MSYNC;
			return 0;
		}
	}
	if (!t->region) {
		map->deep = PMF_DEEP_NO_REGION;
		return 0;
	}
	if (t->no_flush) {
		map->deep = PMF_DEEP_CPU;
		return 0;
	}
	map->deep = PMF_DEEP_SYSFS;
	pmf_region_path(path, sizeof(path), t->region_id);
	map->deep_path = strdup(path);
	if (!map->deep_path)
		return pmf_err(-ENOMEM, "out of memory");
	return 0;
}

/*
 * The range check and the part of a deep flush that precedes the device
 * flush: 0 when the device flush remains (PMF_DEEP_SYSFS, PMF_DEEP_IOCTL),
 * 1 when the deep flush is complete, or the error.
 *
 * The CPU's caches are written back at every granularity: a deep flush must
 * not rely on ADR or eADR (pmem2_deep_flush(3)), and PMDK's BYTE deep flush
 * writes the range back too.
 */
static int pmf_deep_begin(struct pmem2_map *map, void *ptr, size_t size,
			  uint64_t *off)
{
	int ret;

	*off = (uintptr_t)ptr - (uintptr_t)map->addr;
	if ((uintptr_t)ptr < (uintptr_t)map->addr || size > map->size ||
	    *off > map->size - size)
		return pmf_err(PMEM2_E_DEEP_FLUSH_RANGE,
			       "deep flush range %p+%zu is not within map %p+%zu",
			       ptr, size, map->addr, map->size);

	switch (map->deep) {
	case PMF_DEEP_MSYNC:
		ret = pmf_msync_range(ptr, size);
		return ret ? pmf_err(ret, "msync: %s", strerror(-ret)) : 1;
	case PMF_DEEP_NO_REGION:
		return pmf_err(PMEM2_E_DAX_REGION_NOT_FOUND,
			       "no nd region behind the device-dax map");
	case PMF_DEEP_ANON:
		return pmf_err(PMEM2_E_NOSUPP,
			       "anonymous source does not support deep flush");
	default:
		break;
	}

	/*
	 * every map the process can store through is written back; one it
	 * cannot even read (no access, execute-only) would fault, and holds
	 * no store of its own
	 */
	if (map->write_back)
		pmf_cpu_flush(ptr, size);
	pmf_cpu_drain();
	return map->deep == PMF_DEEP_SYSFS || map->deep == PMF_DEEP_IOCTL ? 0 : 1;
}

PMF_EXPORT int pmem2_deep_flush(struct pmem2_map *map, void *ptr, size_t size)
{
	uint64_t off;
	int ret;

	pmf_err_clear();
	ret = pmf_deep_begin(map, ptr, size, &off);
	if (ret)
		return ret < 0 ? ret : 0;
	if (map->deep == PMF_DEEP_SYSFS)
		return pmf_region_deep_flush(map->deep_path);
	return pmf_reg_flush(&map->reg, map->offset + off, size);
}

/*
 * io_uring: the CPU part now, the device flush as a command for the caller's
 * ring. The sysfs file has no asynchronous form, so without the module the
 * deep flush completes here.
 */
PMF_EXPORT int pmemflush_deep_flush_prepare(struct pmem2_map *map, void *ptr,
					    size_t size,
					    struct pmemflush_flush_cmd *cmd)
{
	struct pmemflush_flush f;
	uint64_t off;
	int ret, dev;

	pmf_err_clear();
	if (!map || !cmd)
		return pmf_err(-EINVAL, "map and cmd must not be NULL");
	memset(cmd, 0, sizeof(*cmd));
	cmd->dev_fd = -1;
	ret = pmf_deep_begin(map, ptr, size, &off);
	if (ret)
		return ret < 0 ? ret : 0;
	if (map->deep == PMF_DEEP_SYSFS)
		return pmf_region_deep_flush(map->deep_path);
	ret = pmf_reg_cmd(&map->reg, map->offset + off, size, &dev, &f);
	if (ret)
		return ret;
	_Static_assert(sizeof(f) <= sizeof(cmd->area), "command area");
	memcpy(cmd->area, &f, sizeof(f));
	cmd->dev_fd = dev;
	return 0;
}

/* @cmd's FLUSH: 0, 1 when nothing remains (dev_fd -1), or -EINVAL */
static int pmf_cmd_flush(const struct pmemflush_flush_cmd *cmd,
			 struct pmemflush_flush *f)
{
	if (!cmd)
		return pmf_err(-EINVAL, "cmd must not be NULL");
	if (cmd->dev_fd == -1)
		return 1;
	memcpy(f, cmd->area, sizeof(*f));
	if (cmd->dev_fd < 0 || f->size != sizeof(*f) ||
	    f->flags != PMEMFLUSH_BY_ID)
		return pmf_err(-EINVAL, "not a command pmemflush_deep_flush_prepare() filled");
	return 0;
}

PMF_EXPORT int pmemflush_flush_cmd_run(const struct pmemflush_flush_cmd *cmd)
{
	struct pmemflush_flush f;
	int ret;

	pmf_err_clear();
	ret = pmf_cmd_flush(cmd, &f);
	if (ret)
		return ret < 0 ? ret : 0;
	ret = pmf_kops->flush(cmd->dev_fd, PMEMFLUSH_BY_ID, (int)f.id, f.offset,
			      f.length);
	return ret ? pmf_kernel_err(ret, "PMEMFLUSH_FLUSH") : 0;
}

/*
 * A command io_uring could not run (no uring_cmd in an older module,
 * an IOPOLL ring, a 64-byte SQE, a module that does not know the command)
 * runs through the ioctl instead, and the caller learns it: 1 and the
 * thread's message say so.
 */
PMF_EXPORT int pmemflush_flush_cmd_result(const struct pmemflush_flush_cmd *cmd,
					  int res)
{
	struct pmemflush_flush f;
	int ret;

	pmf_err_clear();
	ret = pmf_cmd_flush(cmd, &f);
	if (ret < 0)
		return ret;
	if (ret) /* nothing was submitted */
		return res ? pmf_err(-EINVAL, "a result for a command with nothing to submit") : 0;
	if (!res)
		return 0;
	if (res > 0)
		return pmf_err(-EPROTO, "PMEMFLUSH_URING_CMD_FLUSH: result %d", res);
	if (res != -EOPNOTSUPP && res != -EMSGSIZE && res != -ENOTTY)
		return pmf_kernel_err(res, "PMEMFLUSH_URING_CMD_FLUSH");
	ret = pmemflush_flush_cmd_run(cmd);
	if (ret)
		return ret;
	return pmf_err(1, "PMEMFLUSH_URING_CMD_FLUSH refused (%s): flushed through the ioctl",
		       strerror(-res));
}
