// SPDX-License-Identifier: LGPL-2.1-or-later
/* The native calls: the ioctls on an fd, for callers that flush CPU caches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pmf.h"

/* the public constants are the uapi's, copied through unchanged */
_Static_assert(PMEMFLUSH_INFO_PERSIST_CPU_CACHE == PMEMFLUSH_PERSIST_CPU_CACHE &&
	       PMEMFLUSH_INFO_PERSIST_MEMORY_CONTROLLER ==
	       PMEMFLUSH_PERSIST_MEMORY_CONTROLLER &&
	       PMEMFLUSH_INFO_PERSIST_UNKNOWN == PMEMFLUSH_PERSIST_UNKNOWN,
	       "persistence domains");
_Static_assert(PMEMFLUSH_INFO_DEVDAX == PMEMFLUSH_TARGET_DEVDAX &&
	       PMEMFLUSH_INFO_FSDAX_FILE == PMEMFLUSH_TARGET_FSDAX_FILE &&
	       PMEMFLUSH_INFO_BLOCK == PMEMFLUSH_TARGET_BLOCK &&
	       PMEMFLUSH_INFO_BTT == PMEMFLUSH_TARGET_BTT, "target kinds");
_Static_assert(PMEMFLUSH_INFO_REGION_ASYNC == PMEMFLUSH_REGION_ASYNC &&
	       PMEMFLUSH_INFO_DAX_SYNC == PMEMFLUSH_DAX_SYNC &&
	       PMEMFLUSH_INFO_REGION_CXL == PMEMFLUSH_REGION_CXL, "flags");

/* the process's /dev/pmemflush, opened now if it was not */
static int pmf_dev_ready(void)
{
	int dev = pmf_dev_get(0);

	if (dev < 0)
		return pmf_err(dev, "/dev/pmemflush: %s", strerror(-dev));
	return dev;
}

static void pmf_info_from_query(struct pmemflush_info *info,
				const struct pmemflush_query *q)
{
	memset(info, 0, sizeof(*info));
	info->region_id = q->region_id;
	info->has_flush = q->has_flush;
	info->persistence_domain = q->persistence_domain;
	info->target_kind = q->target_kind;
	info->flags = q->out_flags & (PMEMFLUSH_REGION_ASYNC | PMEMFLUSH_DAX_SYNC |
				      PMEMFLUSH_REGION_CXL);
	info->target_size = q->target_size;
}

PMF_EXPORT int pmemflush_fd_deep_flush(int fd, uint64_t offset,
				       uint64_t length, unsigned int flags)
{
	int dev, ret;

	pmf_err_clear();
	if (flags)
		return pmf_err(-EINVAL, "unknown flags 0x%x", flags);
	dev = pmf_dev_ready();
	if (dev < 0)
		return dev;
	ret = pmf_kops->flush(dev, 0, fd, offset, length);
	return ret ? pmf_kernel_err(ret, "PMEMFLUSH_FLUSH") : 0;
}

PMF_EXPORT int pmemflush_fd_query(int fd, struct pmemflush_info *info)
{
	struct pmemflush_query q;
	int dev, ret;

	pmf_err_clear();
	if (!info)
		return pmf_err(-EINVAL, "info is NULL");
	dev = pmf_dev_ready();
	if (dev < 0)
		return dev;
	ret = pmf_kops->query(dev, 0, fd, &q);
	if (ret)
		return pmf_kernel_err(ret, "PMEMFLUSH_QUERY");
	pmf_info_from_query(info, &q);
	return 0;
}

struct pmemflush_handle {
	struct pmf_reg reg;
};

static int pmf_handle_new(struct pmemflush_handle **handle, const void *addr,
			  size_t length, int fd, unsigned int flags)
{
	struct pmemflush_handle *h;
	int ret;

	pmf_err_clear();
	if (!handle)
		return pmf_err(-EINVAL, "handle is NULL");
	*handle = NULL;
	if (flags)
		return pmf_err(-EINVAL, "unknown flags 0x%x", flags);
	ret = pmf_dev_ready();
	if (ret < 0)
		return ret;
	h = calloc(1, sizeof(*h));
	if (!h)
		return pmf_err(-ENOMEM, "out of memory");
	ret = pmf_reg_init(&h->reg, addr, length, fd);
	if (ret) {
		free(h);
		return pmf_kernel_err(ret, "PMEMFLUSH_REGISTER");
	}
	*handle = h;
	return 0;
}

PMF_EXPORT int pmemflush_register_fd(struct pmemflush_handle **handle, int fd,
				     unsigned int flags)
{
	if (fd < 0) {
		pmf_err_clear();
		if (handle)
			*handle = NULL;
		return pmf_err(-EBADF, "invalid fd %d", fd);
	}
	return pmf_handle_new(handle, NULL, 0, fd, flags);
}

PMF_EXPORT int pmemflush_register_range(struct pmemflush_handle **handle,
					const void *addr, size_t length,
					uint64_t *offset, unsigned int flags)
{
	int ret;

	if (!addr || !length) {
		pmf_err_clear();
		if (handle)
			*handle = NULL;
		return pmf_err(-EINVAL, "empty range");
	}
	ret = pmf_handle_new(handle, addr, length, -1, flags);
	if (!ret && offset)
		*offset = (*handle)->reg.offset;
	return ret;
}

PMF_EXPORT int pmemflush_handle_deep_flush(struct pmemflush_handle *handle,
					   uint64_t offset, uint64_t length,
					   unsigned int flags)
{
	pmf_err_clear();
	if (flags)
		return pmf_err(-EINVAL, "unknown flags 0x%x", flags);
	return pmf_reg_flush(&handle->reg, offset, length);
}

PMF_EXPORT int pmemflush_handle_query(struct pmemflush_handle *handle,
				      struct pmemflush_info *info)
{
	struct pmemflush_query q;
	int ret;

	pmf_err_clear();
	if (!info)
		return pmf_err(-EINVAL, "info is NULL");
	ret = pmf_reg_query(&handle->reg, &q);
	if (ret)
		return ret;
	pmf_info_from_query(info, &q);
	return 0;
}

PMF_EXPORT int pmemflush_unregister(struct pmemflush_handle **handle)
{
	pmf_err_clear();
	if (!handle || !*handle)
		return 0;
	pmf_reg_drop(&(*handle)->reg);
	free(*handle);
	*handle = NULL;
	return 0;
}
