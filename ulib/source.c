// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What a struct pmem2_source tells about itself, libpmem2's rules: size and
 * alignment, the fd, anonymous sources, the ids and unsafe shutdown count of
 * the DIMMs behind it and its NUMA node (read from sysfs where libpmem2 asks
 * libndctl, which reads the same files), and reads and writes that survive
 * a machine check on the medium.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmf.h"

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

/*
 * Machine-check-safe access to device-dax, which has no read() or write():
 * the range is mapped, and a SIGBUS (a machine check on a load, or a known
 * bad page) while copying ends the copy with PMEM2_E_IO_FAIL. The handler is
 * the process's only while some thread copies; a SIGBUS of a thread that is
 * not copying puts the application's disposition back, so the access
 * faults again into it.
 */
static pthread_mutex_t pmf_mc_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int pmf_mc_users;
static struct sigaction pmf_mc_saved;
static __thread sigjmp_buf *pmf_mc_jmp;

void pmf_mc_fork_prepare(void)
{
	pthread_mutex_lock(&pmf_mc_lock);
}

void pmf_mc_fork_parent(void)
{
	pthread_mutex_unlock(&pmf_mc_lock);
}

void pmf_mc_fork_child(void)
{
	pthread_mutex_init(&pmf_mc_lock, NULL);
}

static void pmf_mc_sigbus(int sig)
{
	(void)sig;
	if (pmf_mc_jmp)
		siglongjmp(*pmf_mc_jmp, 1);
	sigaction(SIGBUS, &pmf_mc_saved, NULL);
}

static int pmf_mc_begin(void)
{
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pmf_mc_sigbus;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&pmf_mc_lock);
	if (!pmf_mc_users && sigaction(SIGBUS, &sa, &pmf_mc_saved))
		ret = -errno;
	if (!ret)
		pmf_mc_users++;
	pthread_mutex_unlock(&pmf_mc_lock);
	return ret;
}

static void pmf_mc_end(void)
{
	pthread_mutex_lock(&pmf_mc_lock);
	if (!--pmf_mc_users)
		sigaction(SIGBUS, &pmf_mc_saved, NULL);
	pthread_mutex_unlock(&pmf_mc_lock);
}

/* the copy, with the thread's jump target set around it */
static int pmf_mc_copy(char *addr, void *buf, size_t size, bool write,
		       pmem2_memcpy_fn copy)
{
	sigjmp_buf jb;
	int ret;

	if (sigsetjmp(jb, 1)) {
		ret = PMEM2_E_IO_FAIL;
	} else {
		pmf_mc_jmp = &jb;
		if (write)
			copy(addr, buf, size, 0);	/* persisted */
		else
			memcpy(buf, addr, size);
		ret = 0;
	}
	pmf_mc_jmp = NULL;
	return ret;
}

/*
 * Only the device's align-sized pieces the range touches are mapped (libpmem2
 * maps the whole device), read-only for a read, so an O_RDONLY descriptor
 * can be read.
 */
static int pmf_devdax_io(struct pmem2_source *src, void *buf, size_t size,
			 size_t offset, bool write)
{
	size_t align = src->align, start = offset & ~(align - 1), end;
	struct pmem2_config *cfg;
	struct pmem2_map *map;
	int ret, del;

	end = (offset + size + align - 1) & ~(align - 1);
	ret = pmem2_config_new(&cfg);
	if (ret)
		return ret;
	pmem2_config_set_required_store_granularity(cfg,
						    PMEM2_GRANULARITY_PAGE);
	pmem2_config_set_offset(cfg, start);
	pmem2_config_set_length(cfg, end - start);
	if (!write)
		pmem2_config_set_protection(cfg, PMEM2_PROT_READ);
	ret = pmem2_map_new(&map, cfg, src);
	pmem2_config_delete(&cfg);
	if (ret)
		return ret;

	ret = pmf_mc_begin();
	if (ret) {
		pmem2_map_delete(&map);
		return pmf_err(ret, "sigaction: %s", strerror(-ret));
	}
	ret = pmf_mc_copy((char *)pmem2_map_get_address(map) + offset - start,
			  buf, size, write, pmem2_get_memcpy_fn(map));
	pmf_mc_end();
	del = pmem2_map_delete(&map);
	if (ret)
		return pmf_err(ret, "SIGBUS %s [%zu, %zu) of the device: a machine check or bad block",
			       write ? "writing" : "reading", offset,
			       offset + size);
	return del;
}

/*
 * Files go through the kernel, whose copy stops at poison and says EIO.
 * libpmem2 takes a short count for success; we go on from where it stopped,
 * so a short count followed by the error is the error.
 */
#ifdef PMF_TEST_HOOKS
ssize_t (*pmf_test_pio)(int fd, void *buf, size_t size, off_t offset,
			bool write);
#endif

static ssize_t pmf_pio(int fd, void *buf, size_t size, off_t offset,
		       bool write)
{
	if (pmf_test_pio)
		return pmf_test_pio(fd, buf, size, offset, write);
	return write ? pwrite(fd, buf, size, offset) :
		       pread(fd, buf, size, offset);
}

static int pmf_file_io(int fd, void *buf, size_t size, size_t offset,
		       bool write)
{
	const char *op = write ? "pwrite" : "pread";
	char *p = buf;

	while (size) {
		ssize_t n = pmf_pio(fd, p, size, (off_t)offset, write);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EIO)
			return pmf_err(PMEM2_E_IO_FAIL,
				       "%s at %zu: I/O error, possibly a bad block",
				       op, offset);
		if (n < 0)
			return pmf_err(-errno, "%s at %zu: %s", op, offset,
				       strerror(errno));
		if (!n)
			return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
				       "%s at %zu: the file ends there", op,
				       offset);
		p += n;
		offset += (size_t)n;
		size -= (size_t)n;
	}
	return 0;
}

static int pmf_mcsafe(struct pmem2_source *src, void *buf, size_t size,
		      size_t offset, bool write)
{
	size_t ssize;
	int ret;

	pmf_err_clear();
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED,
			       "only a source made from a file descriptor can be %s",
			       write ? "written" : "read");
	ret = pmem2_source_size(src, &ssize);
	if (ret)
		return ret;
	if (offset > ssize || size > ssize - offset)
		return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			       "%zu bytes at %zu go beyond the source's %zu",
			       size, offset, ssize);
	if (!size)
		return 0;
	if (src->ftype == PMF_FTYPE_DEVDAX)
		ret = pmf_devdax_io(src, buf, size, offset, write);
	else
		ret = pmf_file_io(src->fd, buf, size, offset, write);
	if (!ret)
		pmf_err_clear();
	return ret;
}

PMF_EXPORT int pmem2_source_pread_mcsafe(struct pmem2_source *src, void *buf,
					 size_t size, size_t offset)
{
	return pmf_mcsafe(src, buf, size, offset, false);
}

PMF_EXPORT int pmem2_source_pwrite_mcsafe(struct pmem2_source *src, void *buf,
					  size_t size, size_t offset)
{
	return pmf_mcsafe(src, buf, size, offset, true);
}
