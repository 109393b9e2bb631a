// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a struct pmem2_source tells about itself, libpmem2's rules: size and
 * alignment, the fd, anonymous sources, the ids and unsafe shutdown count of
 * the DIMMs behind it and its NUMA node (read from sysfs where libpmem2 asks
 * libndctl, which reads the same files). Reads and writes that survive a
 * machine check are in mcsafe.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmf.h"

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

PMF_EXPORT int pmem2_source_from_anon(struct pmem2_source **src, size_t size)
{
	struct pmem2_source *s;

	pmf_err_clear();
	s = calloc(1, sizeof(*s));
	if (!s) {
		*src = NULL;
		return pmf_err(-ENOMEM, "out of memory");
	}
	s->fd = -1;
	s->ftype = PMF_FTYPE_ANON;
	s->size = size;
	s->align = pmf_page_size();
	*src = s;
	return 0;
}

PMF_EXPORT int pmem2_source_delete(struct pmem2_source **src)
{
	free(*src);
	*src = NULL;
	return 0;
}

/* the application's own descriptor: the library keeps no copy of it */
PMF_EXPORT int pmem2_source_get_fd(const struct pmem2_source *src, int *fd)
{
	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_FILE_DESCRIPTOR_NOT_SET,
			       "an anonymous source has no file descriptor");
	*fd = src->fd;
	return 0;
}

/*
 * A file is sized now (it may have grown); device-dax has the size read
 * when the source was made, the one pmem2_map_new() checks against. As in
 * libpmem2, a descriptor closed since is PMEM2_E_INVALID_FILE_HANDLE.
 */
/*
 * Source size and alignment; files are sized now, they may have grown. The
 * fd is checked as libpmem2 does: closed since the source was made is
 * PMEM2_E_INVALID_FILE_HANDLE. pmem2_source_size() is this too.
 */
int pmf_source_bounds(const struct pmem2_source *src, size_t *size,
		      size_t *align)
{
	struct stat st;

	if (src->ftype == PMF_FTYPE_ANON) {
		*size = src->size;
		*align = pmf_page_size();
		return 0;
	}
	if (fstat(src->fd, &st))
		return pmf_err(errno == EBADF ? PMEM2_E_INVALID_FILE_HANDLE :
			       -errno, "fstat: %s", strerror(errno));
	if (src->ftype == PMF_FTYPE_DEVDAX) {
		*size = src->size;
		*align = src->align;
		return 0;
	}
	if (st.st_size < 0)
		return pmf_err(PMEM2_E_INVALID_FILE_HANDLE,
			       "the kernel says the file's size is %lld",
			       (long long)st.st_size);
	*size = (size_t)st.st_size;
	*align = pmf_page_size();
	return 0;
}

PMF_EXPORT int pmem2_source_size(const struct pmem2_source *src, size_t *size)
{
	size_t align;

	pmf_err_clear();
	return pmf_source_bounds(src, size, &align);
}

/* no fstat here, as in libpmem2: a closed fd does not change the answer */
PMF_EXPORT int pmem2_source_alignment(const struct pmem2_source *src,
				      size_t *alignment)
{
	size_t a = src->ftype == PMF_FTYPE_DEVDAX ? src->align :
		   pmf_page_size();

	pmf_err_clear();
	if (!a || (a & (a - 1)))
		return pmf_err(PMEM2_E_INVALID_ALIGNMENT_VALUE,
			       "alignment %zu is not a power of 2", a);
	*alignment = a;
	return 0;
}

/*
 * The DIMMs behind the source's nd region. libpmem2 finds the region by
 * walking libndctl's namespaces for the device-dax device or the block
 * device holding the file; we take the sysfs path of the device (a
 * partition lies below its namespace's disk, so a file on a partition finds
 * its region too). No region is not an error here: 0 and *@n 0.
 *
 * The same files in the same order as libndctl (pmf_region_dimms()), with
 * the same answers, but no ndctl context per call: libpmemobj asks for the
 * ids and the unsafe shutdown count on every pool open, where libpmem2's
 * scan costs 0.6-3 s in our TCG guest against about 1 ms here.
 */
struct pmf_dimms {
	char region[PATH_MAX], bus[PATH_MAX];
	unsigned int *ids;
	int n;
};

static int pmf_source_dimms(const struct pmem2_source *src,
			    struct pmf_dimms *d, bool *found)
{
	d->ids = NULL;
	d->n = 0;
	/* a path sysfs does not have (tmpfs, btrfs, dm): no region */
	*found = pmf_region_dirs(src->ftype == PMF_FTYPE_DEVDAX, src->dev,
				 d->region, d->bus) > 0;
	if (!*found)
		return 0;
	d->n = pmf_region_dimms(d->region, d->bus, &d->ids);
	if (d->n < 0)
		return pmf_err(d->n, "the DIMMs of %s: %s", d->region,
			       strerror(-d->n));
	return 0;
}

/* a DIMM's @name in its bus family's group; 0 or -errno */
static int pmf_dimm_read(const struct pmf_dimms *d, unsigned int dimm,
			 const char *name, bool cxl_too, char *buf,
			 size_t len)
{
	const char *group = pmf_dimm_group(d->bus, dimm);
	char path[PATH_MAX + 64];

	/* libndctl reads no dirty_shutdown of a CXL DIMM */
	if (!group || (!cxl_too && !strcmp(group, "cxl")))
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/nmem%u/%s/%s", d->bus, dimm, group,
		 name);
	return pmf_read_attr(path, buf, len);
}

/*
 * The DIMMs' unique ids (nfit/id: "vvvv-ll-dddd-ssssssss", or
 * "vvvv-ssssssss" without manufacturing data), concatenated in libndctl's
 * order. @id NULL: *@len gets the size with the NUL. A region without DIMMs
 * (virtio-pmem) gives "", as in libpmem2. On failure neither *@id nor *@len
 * is changed.
 */
PMF_EXPORT int pmem2_source_device_id(const struct pmem2_source *src,
				      char *id, size_t *len)
{
	struct pmf_dimms *d;
	char *all = NULL;
	size_t need = 1;
	bool found;
	int ret, i;

	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_NOSUPP,
			       "an anonymous source has no device id");
	d = malloc(sizeof(*d));
	if (!d)
		return pmf_err(-ENOMEM, "out of memory");
	ret = pmf_source_dimms(src, d, &found);
	if (!ret && !found)
		ret = pmf_err(PMEM2_E_NOSUPP,
			      "the source is not on an nd region: no device id");
	all = ret ? NULL : calloc(1, 1);
	if (!ret && !all)
		ret = pmf_err(-ENOMEM, "out of memory");
	for (i = 0; !ret && i < d->n; i++) {
		char uid[1024], *grown;
		size_t ulen;

		if (pmf_dimm_read(d, d->ids[i], "id", true, uid,
				  sizeof(uid))) {
			ret = pmf_err(PMEM2_E_NOSUPP,
				      "nmem%u has no unique id", d->ids[i]);
			break;
		}
		ulen = strlen(uid);
		need += ulen;
		/* libpmem2 checks the buffer as it goes, DIMM by DIMM */
		if (id && need > *len) {
			ret = pmf_err(PMEM2_E_BUFFER_TOO_SMALL,
				      "the device id needs more than %zu bytes",
				      *len);
			break;
		}
		grown = realloc(all, need);
		if (!grown) {
			ret = pmf_err(-ENOMEM, "out of memory");
			break;
		}
		all = grown;
		memcpy(all + need - 1 - ulen, uid, ulen + 1);
	}
	if (!ret && id && need > *len)
		ret = pmf_err(PMEM2_E_BUFFER_TOO_SMALL,
			      "the device id needs %zu bytes, not %zu", need,
			      *len);
	if (!ret) {
		if (id)
			memcpy(id, all, need);
		else
			*len = need;
	}
	free(all);
	free(d->ids);
	free(d);
	return ret;
}

/*
 * The sum of the DIMMs' dirty shutdown counts. A DIMM without one (QEMU's
 * NVDIMMs have no health DSM; CXL), or a source on no region:
 * PMEM2_E_NOSUPP. A region without DIMMs counts 0, as in libpmem2. On
 * failure *@usc is not changed.
 */
PMF_EXPORT int pmem2_source_device_usc(const struct pmem2_source *src,
				       uint64_t *usc)
{
	struct pmf_dimms *d;
	uint64_t sum = 0;
	bool found;
	int ret, i;

	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_NOSUPP,
			       "an anonymous source has no unsafe shutdown count");
	d = malloc(sizeof(*d));
	if (!d)
		return pmf_err(-ENOMEM, "out of memory");
	ret = pmf_source_dimms(src, d, &found);
	if (!ret && !found)
		ret = pmf_err(PMEM2_E_NOSUPP,
			      "the source is not on an nd region: no unsafe shutdown count");
	for (i = 0; !ret && i < d->n; i++) {
		char attr[64];
		unsigned long long v;

		/* sysfs prints it with %d: a negative one is no count */
		if (pmf_dimm_read(d, d->ids[i], "dirty_shutdown", false, attr,
				  sizeof(attr)) ||
		    pmf_parse_ull(attr, 0, LLONG_MAX, &v))
			ret = pmf_err(PMEM2_E_NOSUPP,
				      "nmem%u has no dirty shutdown count: unsafe shutdown count not supported",
				      d->ids[i]);
		else
			sum += v;
	}
	if (!ret)
		*usc = sum;
	free(d->ids);
	free(d);
	return ret;
}

/*
 * The region's numa_node, read as libndctl reads it: a file that does not
 * exist (a kernel without CONFIG_NUMA) gives -2, one that cannot be read
 * -1; both are answers, not errors, in libpmem2.
 */
PMF_EXPORT int pmem2_source_numa_node(const struct pmem2_source *src,
				      int *numa_node)
{
	char region[PATH_MAX], bus[PATH_MAX], path[PATH_MAX + 16], attr[64];
	int ret;

	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_NOSUPP,
			       "an anonymous source is on no NUMA node");
	if (pmf_region_dirs(src->ftype == PMF_FTYPE_DEVDAX, src->dev, region,
			    bus) <= 0)
		return pmf_err(PMEM2_E_DAX_REGION_NOT_FOUND,
			       "the source is not on an nd region");
	snprintf(path, sizeof(path), "%s/numa_node", region);
	ret = pmf_read_attr(path, attr, sizeof(attr));
	if (ret == -ENOENT)
		*numa_node = -2;
	else if (ret)
		*numa_node = -1;
	else
		*numa_node = (int)strtol(attr, NULL, 0);
	return 0;
}
