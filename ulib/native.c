// SPDX-License-Identifier: LGPL-2.1-or-later
/* The native calls: the ioctls on an fd, for callers that flush CPU caches. */
#include <errno.h>
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
	       PMEMFLUSH_INFO_DAX_SYNC == PMEMFLUSH_DAX_SYNC, "flags");

static int pmf_dev_ready(void)
{
	int ret = pmf_kops->dev_open();

	if (ret)
		return pmf_err(ret, "/dev/pmemflush: %s", strerror(-ret));
	return 0;
}

PMF_EXPORT int pmemflush_fd_deep_flush(int fd, uint64_t offset,
				       uint64_t length, unsigned int flags)
{
	int ret;

	pmf_err_clear();
	if (flags)
		return pmf_err(-EINVAL, "unknown flags 0x%x", flags);
	ret = pmf_dev_ready();
	if (ret)
		return ret;
	ret = pmf_kops->flush(fd, offset, length);
	return ret ? pmf_kernel_err(ret, "PMEMFLUSH_FLUSH") : 0;
}

PMF_EXPORT int pmemflush_fd_query(int fd, struct pmemflush_info *info)
{
	struct pmemflush_query q;
	int ret;

	pmf_err_clear();
	if (!info)
		return pmf_err(-EINVAL, "info is NULL");
	ret = pmf_dev_ready();
	if (ret)
		return ret;
	ret = pmf_kops->query(fd, &q);
	if (ret)
		return pmf_kernel_err(ret, "PMEMFLUSH_QUERY");
	memset(info, 0, sizeof(*info));
	info->region_id = q.region_id;
	info->has_flush = q.has_flush;
	info->persistence_domain = q.persistence_domain;
	info->target_kind = q.target_kind;
	info->flags = q.out_flags & (PMEMFLUSH_REGION_ASYNC | PMEMFLUSH_DAX_SYNC);
	info->target_size = q.target_size;
	return 0;
}
