// SPDX-License-Identifier: LGPL-2.1-or-later
/* struct pmem2_config, libpmem2's rules. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmf.h"

PMF_EXPORT int pmem2_config_new(struct pmem2_config **cfg)
{
	struct pmem2_config *c;

	pmf_err_clear();
	c = calloc(1, sizeof(*c));
	if (!c) {
		*cfg = NULL;
		return pmf_err(-ENOMEM, "out of memory");
	}
	c->granularity = PMF_GRANULARITY_UNSET;
	c->prot = PMEM2_PROT_READ | PMEM2_PROT_WRITE;
	*cfg = c;
	return 0;
}

PMF_EXPORT int pmem2_config_delete(struct pmem2_config **cfg)
{
	free(*cfg);
	*cfg = NULL;
	return 0;
}

PMF_EXPORT int pmem2_config_set_required_store_granularity(
	struct pmem2_config *cfg, enum pmem2_granularity g)
{
	pmf_err_clear();
	switch (g) {
	case PMEM2_GRANULARITY_BYTE:
	case PMEM2_GRANULARITY_CACHE_LINE:
	case PMEM2_GRANULARITY_PAGE:
		cfg->granularity = g;
		return 0;
	default:
		return pmf_err(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
			       "unknown granularity value %d", (int)g);
	}
}

PMF_EXPORT int pmem2_config_set_offset(struct pmem2_config *cfg,
				       size_t offset)
{
	pmf_err_clear();
	/* mmap takes an off_t */
	if (offset > (size_t)INT64_MAX)
		return pmf_err(PMEM2_E_OFFSET_OUT_OF_RANGE,
			       "offset is greater than INT64_MAX");
	cfg->offset = offset;
	return 0;
}

PMF_EXPORT int pmem2_config_set_length(struct pmem2_config *cfg,
				       size_t length)
{
	pmf_err_clear();
	cfg->length = length;
	return 0;
}

PMF_EXPORT int pmem2_config_set_sharing(struct pmem2_config *cfg,
					enum pmem2_sharing_type type)
{
	pmf_err_clear();
	switch (type) {
	case PMEM2_SHARED:
	case PMEM2_PRIVATE:
		cfg->sharing = type;
		return 0;
	default:
		return pmf_err(PMEM2_E_INVALID_SHARING_VALUE,
			       "unknown sharing value %d", (int)type);
	}
}

PMF_EXPORT int pmem2_config_set_protection(struct pmem2_config *cfg,
					   unsigned prot)
{
	const unsigned int known = PMEM2_PROT_READ | PMEM2_PROT_WRITE |
				   PMEM2_PROT_EXEC;

	pmf_err_clear();
	if (prot & ~known)
		return pmf_err(PMEM2_E_INVALID_PROT_FLAG,
			       "invalid protection flags 0x%x", prot);
	cfg->prot = prot;
	return 0;
}

/* checked by pmem2_map_new(), which knows the source's alignment */
PMF_EXPORT int pmem2_config_set_vm_reservation(struct pmem2_config *cfg,
		struct pmem2_vm_reservation *rsv, size_t offset)
{
	pmf_err_clear();
	cfg->rsv = rsv;
	cfg->rsv_offset = offset;
	return 0;
}
