// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What sysfs says about device-dax devices and nd regions: the library's
 * view when the pmemflush module is not loaded, and the source of device-dax
 * size and alignment.
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

/*
 * The device's sysfs directory lies below its nd region's:
 * .../ndbusB/regionN/{daxN.M,namespaceN.M,pfnN.M,bttN.M}/..., and the bus
 * above tells an NFIT region from a virtio-pmem one. Only a regionN right
 * below an ndbusB counts: CXL names its own devices regionN too
 * (.../decoder0.0/region0/ndbus1/region1/...), and the nd region is the one
 * whose deep_flush exists.
 */
static int pmf_region_walk(bool chr, dev_t dev, char real[PATH_MAX],
			   unsigned int *id, char **region_end, char **bus_end)
{
	char path[PATH_MAX + 32];
	char *p = real, *end;
	bool bus = false;
	unsigned int unused;

	snprintf(path, sizeof(path), "%s/dev/%s/%u:%u", pmf_sysfs,
		 chr ? "char" : "block", major(dev), minor(dev));
	if (!realpath(path, real))
		return -errno;
	while (*p) {
		size_t len;

		p += strspn(p, "/");
		end = p + strcspn(p, "/");
		len = (size_t)(end - p);
		if (bus && pmf_name_num(p, len, "region", false, id)) {
			*region_end = end;
			return 1;
		}
		bus = pmf_name_num(p, len, "ndbus", false, &unused);
		if (bus)
			*bus_end = end;
		p = end;
	}
	return 0;
}

int pmf_region_find(bool chr, dev_t dev, struct pmf_region *r)
{
	char path[PATH_MAX + 32], real[PATH_MAX], attr[64];
	char *end = NULL, *bus_end = NULL;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pmf_region_walk(chr, dev, real, &r->id, &end, &bus_end);
	if (ret <= 0)
		return ret;
	r->found = true;

	*end = '\0';
	snprintf(path, sizeof(path), "%s/persistence_domain", real);
	r->cpu_cache = !pmf_read_attr(path, attr, sizeof(attr)) &&
		       !strcmp(attr, "cpu_cache");
	/* has_flush is fixed for the region's life: read it once, here */
	snprintf(path, sizeof(path), "%s/deep_flush", real);
	r->no_flush = !pmf_read_attr(path, attr, sizeof(attr)) &&
		      !strcmp(attr, "0");
	*bus_end = '\0';
	snprintf(path, sizeof(path), "%s/provider", real);
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
	char real[PATH_MAX], *end = NULL, *bus_end = NULL;
	unsigned int id;
	int ret = pmf_region_walk(chr, dev, real, &id, &end, &bus_end);

	if (ret <= 0)
		return ret;
	*end = '\0';
	strcpy(region, real);
	*bus_end = '\0';
	strcpy(bus, real);
	return 1;
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
