// SPDX-License-Identifier: LGPL-2.1-or-later
/* Error messages (per thread) and the one errno mapping table. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pmf.h"

/*
 * PMDK's size for a message and for pmem2_perror()'s prefix (MAXPRINT in its
 * out.c): messages name sysfs paths and user paths, which 256 bytes cut.
 */
#define PMF_MAXPRINT 8192

static __thread char pmf_errmsg[PMF_MAXPRINT];

int pmf_err(int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pmf_errmsg, sizeof(pmf_errmsg), fmt, ap);
	va_end(ap);
	return ret;
}

void pmf_err_clear(void)
{
	pmf_errmsg[0] = '\0';
}

/*
 * The kernel's errnos (uapi DOC block) as this library returns them: no nd
 * region, or one that went away, is libpmem2's "region not found"; a range
 * the target does not hold is libpmem2's range error; the rest is -errno.
 */
int pmf_map_kernel_errno(int err)
{
	switch (err) {
	case ENODEV:
	case ENXIO:
		return PMEM2_E_DAX_REGION_NOT_FOUND;
	case ERANGE:
	case EOVERFLOW:
		return PMEM2_E_DEEP_FLUSH_RANGE;
	default:
		return -err;
	}
}

int pmf_kernel_err(int ret, const char *what)
{
	return pmf_err(pmf_map_kernel_errno(-ret), "%s: %s", what,
		       strerror(-ret));
}

PMF_EXPORT const char *pmem2_errormsg(void)
{
	return pmf_errmsg;
}

PMF_EXPORT int pmem2_err_to_errno(int err)
{
	if (err > 0)
		return EINVAL;
	if (err == PMEM2_E_NOSUPP)
		return ENOTSUP;
	if (err <= PMEM2_E_UNKNOWN)
		return EINVAL;
	return -err;
}

PMF_EXPORT void pmem2_perror(const char *format, ...)
{
	char buf[PMF_MAXPRINT];
	va_list ap;

	va_start(ap, format);
	vsnprintf(buf, sizeof(buf), format, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", buf, pmf_errmsg);
}
