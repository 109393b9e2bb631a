// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What sysfs says about device-dax devices and nd regions: the library's
 * view when the pmemflush module is not loaded, and the source of device-dax
 * size and alignment.
 *
 * Read by hand, not through libndctl (what libpmem2 links): ndctl_new() and
 * a walk of the buses is a topology scan per call (libkmod's configuration,
 * a wait_probe on each bus that takes every nd device's lock, waits for the
 * udev queue), measured at 0.8 s per call in our TCG guest against 1 ms
 * here, and libpmem2 pays it on each device-dax deep flush. Here the region
 * is found once, at map time, from the device's own sysfs path; a flush
 * only writes deep_flush, and "0" there (no flush needed), which libndctl
 * cannot read, is told from a file that cannot be opened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pmf.h"

/* first line of a sysfs file, newline stripped; 0 or -errno */
int pmf_read_attr(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* sysfs prints sizes in decimal: "0x10" or "010" is not read as hex or octal */
int pmf_parse_size(const char *s, size_t *val)
{
	unsigned long long v;

	if (pmf_parse_ull(s, 10, SIZE_MAX, &v))
		return -1;
	*val = v;
	return 0;
}

int pmf_devdax_check(dev_t rdev)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *base;

	snprintf(path, sizeof(path), "%s/dev/char/%u:%u/subsystem", pmf_sysfs,
		 major(rdev), minor(rdev));
	if (!realpath(path, real))
		return pmf_err(-errno, "realpath %s: %s", path, strerror(errno));
	base = strrchr(real, '/');
	if (!base || strcmp(base + 1, "dax"))
		return pmf_err(PMEM2_E_INVALID_FILE_TYPE,
			       "character device %u:%u is not device-dax",
			       major(rdev), minor(rdev));
	return 0;
}

static int pmf_devdax_attr(dev_t rdev, const char *name, char *buf,
			   size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/dev/char/%u:%u/%s", pmf_sysfs,
		 major(rdev), minor(rdev), name);
	ret = pmf_read_attr(path, buf, len);
	if (ret)
		pmf_err(ret, "read %s: %s", path, strerror(-ret));
	return ret;
}

int pmf_devdax_read_size(dev_t rdev, size_t *size)
{
	char buf[64];
	int ret = pmf_devdax_attr(rdev, "size", buf, sizeof(buf));

	if (ret)
		return ret;
	if (pmf_parse_size(buf, size))
		return pmf_err(PMEM2_E_INVALID_SIZE_FORMAT,
			       "device-dax size \"%s\" is not a number", buf);
	return 0;
}

/* the dax device's own align (Linux 5.10+), else its nd parent's */
int pmf_devdax_read_align(dev_t rdev, size_t *align)
{
	char buf[64];
	int ret = pmf_devdax_attr(rdev, "align", buf, sizeof(buf));

	if (ret == -ENOENT)
		ret = pmf_devdax_attr(rdev, "device/align", buf, sizeof(buf));
	if (ret)
		return ret;
	if (pmf_parse_size(buf, align))
		return pmf_err(PMEM2_E_INVALID_ALIGNMENT_FORMAT,
			       "device-dax align \"%s\" is not a number", buf);
	if (!*align || (*align & (*align - 1)))
		return pmf_err(PMEM2_E_INVALID_ALIGNMENT_VALUE,
			       "device-dax align %zu is not a power of 2",
			       *align);
	return 0;
}

int pmf_nd_path_of(struct pmf_nd_path *p, bool chr, dev_t dev)
{
	char link[PATH_MAX];
	char *s;

	snprintf(link, sizeof(link), "%s/dev/%s/%u:%u", pmf_sysfs,
		 chr ? "char" : "block", major(dev), minor(dev));
	if (!realpath(link, p->real))
		return -errno;
	p->n = 0;
	for (s = p->real; *s && p->n < 64;) {
		s += strspn(s, "/");
		if (!*s)
			break;
		p->comp[p->n] = s;
		p->clen[p->n] = strcspn(s, "/");
		s += p->clen[p->n];
		p->n++;
	}
	return 0;
}

bool pmf_comp_is(const struct pmf_nd_path *p, unsigned int i,
			const char *prefix, bool dotted, unsigned int *id)
{
	return i < p->n && pmf_name_num(p->comp[i], p->clen[i], prefix, dotted,
				       id);
}

/* the directory made of the first @n components */
void pmf_comp_dir(const struct pmf_nd_path *p, unsigned int n,
			 char *buf, size_t len)
{
	size_t end = n ? (size_t)(p->comp[n - 1] - p->real) + p->clen[n - 1] : 0;

	snprintf(buf, len, "%.*s", (int)end, p->real);
}

/*
 * The device's sysfs directory lies below its nd region's:
 * .../ndbusB/regionN/{daxN.M,namespaceN.M,pfnN.M,bttN.M}/..., and the bus
 * above tells an NFIT region from a virtio-pmem one. Only a regionN right
 * below an ndbusB counts: CXL names its own devices regionN too
 * (.../decoder0.0/region0/ndbus1/region1/...), and the nd region is the one
 * whose deep_flush exists. The index of the ndbusB component, or p->n.
 */
unsigned int pmf_nd_region_at(const struct pmf_nd_path *p, unsigned int *bus,
			      unsigned int *region)
{
	unsigned int i;

	for (i = 0; i + 1 < p->n; i++)
		if (pmf_comp_is(p, i, "ndbus", false, bus) &&
		    pmf_comp_is(p, i + 1, "region", false, region))
			return i;
	return p->n;
}

/* the region's and its bus's directories (PATH_MAX each); 1, 0, -errno */
static int pmf_region_walk(bool chr, dev_t dev, unsigned int *id,
			   char *region, char *bus)
{
	struct pmf_nd_path *p = malloc(sizeof(*p));
	unsigned int b;
	int ret;

	if (!p)
		return -ENOMEM;
	ret = pmf_nd_path_of(p, chr, dev);
	if (!ret) {
		unsigned int i = pmf_nd_region_at(p, &b, id);

		ret = i < p->n;
		if (ret) {
			pmf_comp_dir(p, i + 2, region, PATH_MAX);
			pmf_comp_dir(p, i + 1, bus, PATH_MAX);
		}
	}
	free(p);
	return ret;
}

int pmf_region_find(bool chr, dev_t dev, struct pmf_region *r)
{
	char region[PATH_MAX], bus[PATH_MAX], path[PATH_MAX + 32], attr[64];
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pmf_region_walk(chr, dev, &r->id, region, bus);
	if (ret <= 0)
		return ret;
	r->found = true;
	snprintf(path, sizeof(path), "%s/persistence_domain", region);
	r->cpu_cache = !pmf_read_attr(path, attr, sizeof(attr)) &&
		       !strcmp(attr, "cpu_cache");
	/* has_flush is fixed for the region's life: read it once, here */
	snprintf(path, sizeof(path), "%s/deep_flush", region);
	r->no_flush = !pmf_read_attr(path, attr, sizeof(attr)) &&
		      !strcmp(attr, "0");
	snprintf(path, sizeof(path), "%s/provider", bus);
	r->async = !pmf_read_attr(path, attr, sizeof(attr)) &&
		   !strcmp(attr, "virtio-pmem");
	return 0;
}

void pmf_region_path(char *buf, size_t len, unsigned int id)
{
	snprintf(buf, len, "%s/bus/nd/devices/region%u/deep_flush", pmf_sysfs,
		 id);
}

/*
 * libpmem2's sysfs deep flush, minus its silence: "0" means the platform
 * needs no flush; otherwise "1" is written, and a file we cannot open, read
 * or write (hidden on virtio-pmem, root-only where flush hints exist) is
 * reported, since no flush happened.
 */
int pmf_region_deep_flush(const char *path)
{
	char c;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pmf_err(-errno, "open %s: %s", path, strerror(errno));
	n = read(fd, &c, 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		return pmf_err(-err, "read %s: %s", path, strerror(err));
	}
	close(fd);
	if (n == 1 && c == '0')
		return 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return pmf_err(-errno, "open %s: %s", path, strerror(errno));
	n = write(fd, "1", 1);
	if (n != 1) {
		int err = n < 0 ? errno : EIO;

		close(fd);
		return pmf_err(-err, "write %s: %s", path, strerror(err));
	}
	close(fd);
	return 0;
}

/*
 * The nd region above /sys/dev/{char,block}/M:m (as pmf_region_find() finds
 * it): its directory in @region, its bus's (ndbusB) in @bus, PATH_MAX bytes
 * each; 1, 0 when there is none, or -errno.
 */
int pmf_region_dirs(bool chr, dev_t dev, char *region, char *bus)
{
	unsigned int id;

	return pmf_region_walk(chr, dev, &id, region, bus);
}

/* "nmemN,offset,length[,position]": N */
static bool pmf_parse_mapping(const char *s, unsigned int *dimm)
{
	const char *comma = strchr(s, ',');

	return comma &&
	       pmf_name_num(s, (size_t)(comma - s), "nmem", false, dimm);
}

static bool pmf_has_id(const unsigned int *ids, size_t n, unsigned int id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * The DIMMs behind the region at @region, each once, in libndctl's order:
 * it walks its bus's DIMM list, which holds the bus directory's nmemN
 * entries in the reverse of readdir() order, and keeps those a mappingN of
 * the region names. A mappingN that cannot be read or parsed is skipped, as
 * libndctl skips it. *@ids is malloc'ed; the count, or -errno.
 */
int pmf_region_dimms(const char *region, const char *bus, unsigned int **ids)
{
	char path[PATH_MAX + 32], attr[128];
	unsigned int *want = NULL, *out = NULL, id;
	size_t nwant = 0, nout = 0, count = 0, i;
	struct dirent *de;
	bool counted;
	DIR *dir;
	int ret;

	*ids = NULL;
	snprintf(path, sizeof(path), "%s/mappings", region);
	counted = !pmf_read_attr(path, attr, sizeof(attr)) &&
		  !pmf_parse_size(attr, &count);
	for (i = 0; counted ? i < count : i < 1024; i++) {
		snprintf(path, sizeof(path), "%s/mapping%zu", region, i);
		ret = pmf_read_attr(path, attr, sizeof(attr));
		/* without a count: up to the first one that does not exist */
		if (ret == -ENOENT && !counted)
			break;
		if (ret || !pmf_parse_mapping(attr, &id) ||
		    pmf_has_id(want, nwant, id))
			continue;
		if (!(nwant % 16)) {
			unsigned int *w = realloc(want, (nwant + 16) *
						  sizeof(*want));

			if (!w) {
				free(want);
				return -ENOMEM;
			}
			want = w;
		}
		want[nwant++] = id;
	}
	if (!nwant)
		return 0;

	dir = opendir(bus);
	if (!dir) {
		ret = -errno;
		free(want);
		return ret;
	}
	out = calloc(nwant, sizeof(*out));
	while (out && nout < nwant && (de = readdir(dir)))
		if (pmf_name_num(de->d_name, strlen(de->d_name), "nmem",
				 false, &id) && pmf_has_id(want, nwant, id))
			out[nout++] = id;
	closedir(dir);
	free(want);
	if (!out)
		return -ENOMEM;
	for (i = 0; i < nout / 2; i++) {
		id = out[i];
		out[i] = out[nout - 1 - i];
		out[nout - 1 - i] = id;
	}
	*ids = out;
	return (int)nout;
}

/*
 * The attribute group a DIMM's bus family gives it, whose id and
 * dirty_shutdown libndctl reads: "nfit", "papr" or "cxl"; NULL when it has
 * none of them.
 */
const char *pmf_dimm_group(const char *bus, unsigned int dimm)
{
	static const char *const groups[] = { "nfit", "papr", "cxl" };
	char path[PATH_MAX + 32];
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		snprintf(path, sizeof(path), "%s/nmem%u/%s", bus, dimm,
			 groups[i]);
		if (!stat(path, &st) && S_ISDIR(st.st_mode))
			return groups[i];
	}
	return NULL;
}
