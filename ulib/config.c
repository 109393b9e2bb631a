// SPDX-License-Identifier: LGPL-2.1-or-later
/* struct pmem2_config and struct pmem2_source, libpmem2's rules. */
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

PMF_EXPORT int pmem2_source_from_fd(struct pmem2_source **src, int fd)
{
	struct pmem2_source *s;
	struct stat st;
	int flags, ret;

	pmf_err_clear();
	*src = NULL;
	if (fd < 0)
		return pmf_err(PMEM2_E_INVALID_FILE_HANDLE, "invalid fd %d", fd);
	flags = fcntl(fd, F_GETFL);
	if (flags < 0) {
		ret = errno == EBADF ? PMEM2_E_INVALID_FILE_HANDLE : -errno;
		return pmf_err(ret, "fcntl: %s", strerror(errno));
	}
	if ((flags & O_ACCMODE) == O_WRONLY)
		return pmf_err(PMEM2_E_INVALID_FILE_HANDLE,
			       "fd must be open with O_RDONLY or O_RDWR");
	if (fstat(fd, &st))
		return pmf_err(-errno, "fstat: %s", strerror(errno));

	s = calloc(1, sizeof(*s));
	if (!s)
		return pmf_err(-ENOMEM, "out of memory");
	s->fd = fd;
	if (S_ISREG(st.st_mode)) {
		s->ftype = PMF_FTYPE_REG;
		s->dev = st.st_dev;
	} else if (S_ISCHR(st.st_mode)) {
		s->ftype = PMF_FTYPE_DEVDAX;
		s->dev = st.st_rdev;
		ret = pmf_devdax_check(st.st_rdev);
		if (!ret)
			ret = pmf_devdax_read_size(st.st_rdev, &s->size);
		if (!ret)
			ret = pmf_devdax_read_align(st.st_rdev, &s->align);
		if (ret) {
			free(s);
			return ret;
		}
	} else {
		free(s);
		return pmf_err(PMEM2_E_INVALID_FILE_TYPE,
			       "file type 0%o not supported",
			       st.st_mode & S_IFMT);
	}
	*src = s;
	return 0;
}

PMF_EXPORT int pmem2_source_delete(struct pmem2_source **src)
{
	free(*src);
	*src = NULL;
	return 0;
}
