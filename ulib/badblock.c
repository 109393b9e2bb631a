// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libpmem2's bad block walk, from sysfs instead of libndctl: the same
 * badblocks files and resource and size attributes libndctl reads, found
 * from the device's own sysfs path instead of a scan of every bus per
 * context (0.6-0.8 s in our TCG guest against 0.4-0.6 ms here), and without
 * libkmod, libudev and libcrypto among the library's dependencies. The
 * FIEMAP half is hand-written either way.
 *
 * The source's nd namespace is found from its device's sysfs path:
 * .../ndbusB/regionN/{namespaceN.M,pfnN.M,bttN.M}/block/pmemX for a file's
 * st_dev (a whole disk: libpmem2 never matches a partition), and
 * .../ndbusB/regionN/daxN.M/daxN.K for device-dax. Then, as libpmem2 does:
 *
 *  - an fsdax namespace (mode "memory"): the block device's badblocks list,
 *    512-byte sectors relative to the block device;
 *  - any other mode (devdax, raw, sector): the region's list, sectors
 *    relative to the region, clipped to the namespace's data (resource and
 *    size of its pfn/dax device, or of the namespace itself) and shifted to
 *    be relative to it. Those attributes are root-only.
 *
 * A regular file's bad blocks are then the parts of them inside the file's
 * FIEMAP extents, as file offsets rounded out to st_blksize. A source on no
 * nd namespace has a context but no bad blocks.
 *
 * Clearing: files get their blocks punched out and allocated again (the
 * file system zeroes new blocks, and a pmem write clears the poison);
 * device-dax sends ARS_CAP and CLEAR_ERROR to the bus's /dev/ndctlB.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/ndctl.h>

#include "pmf.h"

#define PMF_SECTOR 512ULL

struct pmf_extent {
	uint64_t physical;
	uint64_t logical;
	uint64_t length;
};

struct pmem2_badblock_context {
	int fd;
	enum pmf_ftype ftype;
	bool found;		/* the source lies on an nd namespace */
	bool by_region;		/* the region's list, clipped; else the bdev's */
	char *list_path;	/* the badblocks file */
	unsigned int bus;	/* ndbusB: /dev/ndctlB clears device-dax */
	uint64_t ns_beg;	/* the namespace's data, bytes into the region */
	uint64_t ns_size;
	uint64_t ns_res;	/* its physical address */

	/* the list, read by the first pmem2_badblock_next() */
	char *list;
	size_t pos;
	bool read, done;

	/* a regular file's extents, and the walk's place in them */
	struct pmf_extent *ext;
	unsigned int nr_ext;
	uint64_t blksize;
	unsigned int first_ext;	/* where the held bad block resumes */
	struct pmem2_badblock held;	/* length 0: none */
};

/* a whole file (a sysfs badblocks list) into a new NUL-ended buffer */
static int pmf_read_all(const char *path, char **out)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *tmp;
	ssize_t n;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		if (len + 1 == cap) {
			tmp = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
			if (!tmp) {
				err = -ENOMEM;
				goto fail;
			}
			buf = tmp;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

/* @dir/@name as a number; -errno, or 1 when it is not one */
static int pmf_attr_u64(const char *dir, const char *name, uint64_t *val)
{
	char path[PATH_MAX], buf[64];
	int ret;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = pmf_read_attr(path, buf, sizeof(buf));
	if (ret)
		return ret;
	unsigned long long v;

	if (pmf_parse_ull(buf, 0, UINT64_MAX, &v))
		return 1;
	*val = v;
	return 0;
}

/*
 * Find the nd namespace behind the source and set up where its bad blocks
 * come from. Not on one: 0 with ctx->found false. A sysfs path other than
 * libnvdimm's is not an error: libpmem2 would not find that device either.
 */
static int pmf_bb_locate(struct pmem2_badblock_context *ctx,
			 const struct pmem2_source *src)
{
	struct pmf_nd_path *p;
	char region[PATH_MAX], claim[PATH_MAX], ns[PATH_MAX + 80], buf[64];
	char list[PATH_MAX + 128];
	unsigned int i, bus = 0, r = 0, claim_i;
	uint64_t res, size, rres;
	bool chr = src->ftype == PMF_FTYPE_DEVDAX, is_ns, is_pfn, is_dax;
	int ret;

	p = malloc(sizeof(*p));
	if (!p)
		return pmf_err(-ENOMEM, "out of memory");
	ret = pmf_nd_path_of(p, chr, src->dev);
	if (ret) {
		/* no such device in sysfs (tmpfs, overlay...): not on pmem */
		free(p);
		return 0;
	}
	/* ndbusB/regionN/<claim>/... */
	i = pmf_nd_region_at(p, &bus, &r);
	if (i + 2 >= p->n)
		goto not_found;
	claim_i = i + 2;
	is_ns = pmf_comp_is(p, claim_i, "namespace", true, NULL);
	is_pfn = pmf_comp_is(p, claim_i, "pfn", true, NULL);
	is_dax = pmf_comp_is(p, claim_i, "dax", true, NULL);
	if (chr) {
		/* .../daxN.M/daxN.K, or with the old dax class dir between */
		if (!is_dax)
			goto not_found;
		if (!(p->n == claim_i + 2 &&
		      pmf_comp_is(p, claim_i + 1, "dax", true, NULL)) &&
		    !(p->n == claim_i + 3 && p->clen[claim_i + 1] == 3 &&
		      !strncmp(p->comp[claim_i + 1], "dax", 3) &&
		      pmf_comp_is(p, claim_i + 2, "dax", true, NULL)))
			goto not_found;
	} else {
		/* .../<claim>/block/<disk>: a whole disk, no partition */
		if (!is_ns && !is_pfn &&
		    !pmf_comp_is(p, claim_i, "btt", true, NULL))
			goto not_found;
		if (p->n != claim_i + 3 || p->clen[claim_i + 1] != 5 ||
		    strncmp(p->comp[claim_i + 1], "block", 5))
			goto not_found;
	}
	pmf_comp_dir(p, claim_i, region, sizeof(region));
	pmf_comp_dir(p, claim_i + 1, claim, sizeof(claim));
	if (is_ns) {
		snprintf(ns, sizeof(ns), "%s", claim);
	} else {
		snprintf(list, sizeof(list), "%s/namespace", claim);
		ret = pmf_read_attr(list, buf, sizeof(buf));
		if (ret || !pmf_name_num(buf, strlen(buf), "namespace", true,
					NULL))
			goto not_found;	/* libndctl would not list it */
		snprintf(ns, sizeof(ns), "%s/%s", region, buf);
	}
	ctx->found = true;
	ctx->bus = bus;

	/* fsdax: the block device's own list, no bounds needed */
	snprintf(list, sizeof(list), "%s/mode", ns);
	if (!chr && !pmf_read_attr(list, buf, sizeof(buf)) &&
	    !strcmp(buf, "memory")) {
		pmf_comp_dir(p, p->n, list, sizeof(list));
		strcat(list, "/badblocks");
		free(p);
		ctx->list_path = strdup(list);
		return ctx->list_path ? 0 : pmf_err(-ENOMEM, "out of memory");
	}
	free(p);

	/* the data's bounds: of the pfn/dax device, else of the namespace */
	ret = pmf_attr_u64(is_pfn || is_dax ? claim : ns, "resource", &res);
	if (ret)
		return pmf_err(PMEM2_E_CANNOT_READ_BOUNDS,
			       "cannot read the namespace's offset (%s/resource): %s",
			       is_pfn || is_dax ? claim : ns,
			       ret < 0 ? strerror(-ret) : "not a number");
	ret = pmf_attr_u64(is_pfn || is_dax ? claim : ns, "size", &size);
	if (ret)
		return pmf_err(PMEM2_E_CANNOT_READ_BOUNDS,
			       "cannot read the namespace's size (%s/size): %s",
			       is_pfn || is_dax ? claim : ns,
			       ret < 0 ? strerror(-ret) : "not a number");
	ret = pmf_attr_u64(region, "resource", &rres);
	if (ret < 0)
		return pmf_err(ret, "cannot read the region's offset (%s/resource): %s",
			       region, strerror(-ret));
	if (ret || rres > res || size > UINT64_MAX - res)
		return pmf_err(PMEM2_E_CANNOT_READ_BOUNDS,
			       "%s/resource: not the start of the namespace's region",
			       region);
	ctx->by_region = true;
	ctx->ns_beg = res - rres;
	ctx->ns_size = size;
	ctx->ns_res = res;
	snprintf(list, sizeof(list), "%s/badblocks", region);
	ctx->list_path = strdup(list);
	return ctx->list_path ? 0 : pmf_err(-ENOMEM, "out of memory");

not_found:
	free(p);
	return 0;
}

#ifdef PMF_TEST_HOOKS
int (*pmf_test_fiemap)(int fd, struct fiemap *fm);
#endif

static int pmf_fiemap(int fd, struct fiemap *fm)
{
	if (pmf_test_fiemap)
		return pmf_test_fiemap(fd, fm);
	return ioctl(fd, FS_IOC_FIEMAP, fm);
}

/* the file's extents, as FIEMAP gives them (no sync: as libpmem2) */
static int pmf_bb_extents(struct pmem2_badblock_context *ctx)
{
	struct fiemap *fm, *tmp;
	struct stat st;
	unsigned int i;
	size_t size;

	if (fstat(ctx->fd, &st))
		return pmf_err(-errno, "fstat: %s", strerror(errno));
	ctx->blksize = (uint64_t)st.st_blksize;
	if (!ctx->blksize || (ctx->blksize & (ctx->blksize - 1)))
		return pmf_err(-EINVAL, "block size %llu is not a power of 2",
			       (unsigned long long)ctx->blksize);

	fm = calloc(1, sizeof(*fm));
	if (!fm)
		return pmf_err(-ENOMEM, "out of memory");
	fm->fm_length = (uint64_t)st.st_size;
	if (pmf_fiemap(ctx->fd, fm)) {
		int err = errno;

		free(fm);
		return pmf_err(-err, "FIEMAP: %s", strerror(err));
	}
	size = sizeof(*fm) + fm->fm_mapped_extents * sizeof(fm->fm_extents[0]);
	tmp = realloc(fm, size);
	if (!tmp) {
		free(fm);
		return pmf_err(-ENOMEM, "out of memory");
	}
	fm = tmp;
	memset(fm, 0, size);
	fm->fm_length = (uint64_t)st.st_size;
	fm->fm_extent_count = (uint32_t)((size - sizeof(*fm)) /
					 sizeof(fm->fm_extents[0]));
	if (pmf_fiemap(ctx->fd, fm)) {
		int err = errno;

		free(fm);
		return pmf_err(-err, "FIEMAP: %s", strerror(err));
	}
	if (fm->fm_mapped_extents) {
		ctx->ext = calloc(fm->fm_mapped_extents, sizeof(*ctx->ext));
		if (!ctx->ext) {
			free(fm);
			return pmf_err(-ENOMEM, "out of memory");
		}
	}
	for (i = 0; i < fm->fm_mapped_extents; i++) {
		ctx->ext[i].physical = fm->fm_extents[i].fe_physical;
		ctx->ext[i].logical = fm->fm_extents[i].fe_logical;
		ctx->ext[i].length = fm->fm_extents[i].fe_length;
	}
	ctx->nr_ext = fm->fm_mapped_extents;
	free(fm);
	return 0;
}

PMF_EXPORT int pmem2_badblock_context_new(struct pmem2_badblock_context **bbctx,
					  const struct pmem2_source *src)
{
	struct pmem2_badblock_context *ctx;
	int ret;

	pmf_err_clear();
	if (!bbctx || !src)
		return pmf_err(-EINVAL, "bbctx and src must not be NULL");
	*bbctx = NULL;
	if (src->ftype == PMF_FTYPE_ANON)
		return pmf_err(PMEM2_E_NOSUPP,
			       "an anonymous source has no bad blocks");

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return pmf_err(-ENOMEM, "out of memory");
	ctx->fd = src->fd;
	ctx->ftype = src->ftype;
	ret = pmf_bb_locate(ctx, src);
	/* only a file on a namespace is asked for its extents */
	if (!ret && ctx->found && src->ftype == PMF_FTYPE_REG)
		ret = pmf_bb_extents(ctx);
	if (ret) {
		free(ctx->list_path);
		free(ctx->ext);
		free(ctx);
		return ret;
	}
	*bbctx = ctx;
	return 0;
}

PMF_EXPORT void pmem2_badblock_context_delete(
	struct pmem2_badblock_context **bbctx)
{
	pmf_err_clear();
	if (!bbctx || !*bbctx)
		return;
	free((*bbctx)->list_path);
	free((*bbctx)->list);
	free((*bbctx)->ext);
	free(*bbctx);
	*bbctx = NULL;
}

/*
 * The next "sector count" line of the list, in bytes. As libndctl: a list
 * that cannot be read, or a line that is not two numbers, ends the walk.
 */
static int pmf_bb_list_next(struct pmem2_badblock_context *ctx,
			    uint64_t *off, uint64_t *len)
{
	unsigned long long sec, cnt;
	char *line, *end, *next;
	int ret;

	if (!ctx->read) {
		ctx->read = true;
		ret = pmf_read_all(ctx->list_path, &ctx->list);
		if (ret) {
			ctx->done = true;
			return pmf_err(PMEM2_E_NO_BAD_BLOCK_FOUND,
				       "cannot read %s: %s", ctx->list_path,
				       strerror(-ret));
		}
	}
	if (ctx->done || !ctx->list[ctx->pos])
		return pmf_err(PMEM2_E_NO_BAD_BLOCK_FOUND, "no more bad blocks");

	line = ctx->list + ctx->pos;
	next = strchr(line, '\n');
	ctx->pos = next ? (size_t)(next + 1 - ctx->list) :
			  ctx->pos + strlen(line);
	if (*line < '0' || *line > '9')
		goto bad;
	errno = 0;
	sec = strtoull(line, &end, 10);
	if (errno || *end != ' ' || end[1] < '0' || end[1] > '9')
		goto bad;
	cnt = strtoull(end + 1, &end, 10);
	if (errno || (*end && *end != '\n') || !cnt || cnt > UINT32_MAX ||
	    sec > UINT64_MAX / PMF_SECTOR - cnt)
		goto bad;
	*off = sec * PMF_SECTOR;
	*len = cnt * PMF_SECTOR;
	return 0;
bad:
	ctx->done = true;
	if (next)
		*next = '\0';
	return pmf_err(PMEM2_E_NO_BAD_BLOCK_FOUND,
		       "%s: malformed line \"%.40s\": the walk ends there",
		       ctx->list_path, line);
}

/* the next bad block of the namespace, relative to it */
static int pmf_bb_ns_next(struct pmem2_badblock_context *ctx,
			  struct pmem2_badblock *bb)
{
	uint64_t off, len, end, ns_end;
	int ret;

	if (!ctx->by_region) {
		ret = pmf_bb_list_next(ctx, &off, &len);
		if (!ret) {
			bb->offset = off;
			bb->length = len;
		}
		return ret;
	}
	ns_end = ctx->ns_beg + ctx->ns_size;
	do {
		ret = pmf_bb_list_next(ctx, &off, &len);
		if (ret)
			return ret;
		end = off + len;
	} while (off >= ns_end || end <= ctx->ns_beg);
	if (off < ctx->ns_beg)
		off = ctx->ns_beg;
	if (end > ns_end)
		end = ns_end;
	bb->offset = off - ctx->ns_beg;
	bb->length = end - off;
	return 0;
}

/*
 * libpmem2's walk over a file: each bad block is tried against the extents
 * in order; the first one it overlaps gives the answer (the overlap, as
 * file offsets). When it runs past that extent and more follow, it is held
 * and tried again from the next extent by the next call.
 */
PMF_EXPORT int pmem2_badblock_next(struct pmem2_badblock_context *bbctx,
				   struct pmem2_badblock *bb)
{
	struct pmem2_badblock cur;
	uint64_t beg, end, ext_beg = 0, ext_end = 0, off, len, mis;
	unsigned int e;
	int ret;

	pmf_err_clear();
	if (!bbctx || !bb)
		return pmf_err(-EINVAL, "bbctx and bb must not be NULL");
	if (!bbctx->found)
		return pmf_err(PMEM2_E_NO_BAD_BLOCK_FOUND,
			       "the source is on no nd namespace: no bad blocks");
	if (bbctx->ftype != PMF_FTYPE_REG)
		return pmf_bb_ns_next(bbctx, bb);

	for (;;) {
		if (bbctx->held.length) {
			cur = bbctx->held;
			bbctx->held.length = 0;
			bbctx->held.offset = 0;
		} else {
			bbctx->first_ext = 0;
			ret = pmf_bb_ns_next(bbctx, &cur);
			if (ret)
				return ret;
		}
		beg = cur.offset;
		end = beg + cur.length - 1;
		for (e = bbctx->first_ext; e < bbctx->nr_ext; e++) {
			ext_beg = bbctx->ext[e].physical;
			ext_end = ext_beg + bbctx->ext[e].length - 1;
			if (beg <= ext_end && ext_beg <= end)
				break;
		}
		if (e < bbctx->nr_ext)
			break;
		bbctx->first_ext = 0;
	}
	if (end > ext_end && e + 1 < bbctx->nr_ext) {
		bbctx->held = cur;
		bbctx->first_ext = e + 1;
	} else {
		bbctx->first_ext = 0;
	}

	if (beg < ext_beg)
		beg = ext_beg;
	if (end > ext_end)
		end = ext_end;
	off = beg + bbctx->ext[e].logical - bbctx->ext[e].physical;
	len = end - beg + 1;
	mis = off & (bbctx->blksize - 1);
	off -= mis;
	len += mis;
	len = (len + bbctx->blksize - 1) & ~(bbctx->blksize - 1);
	bb->offset = off;
	bb->length = len;
	return 0;
}

/* libpmem2's fsdax clear: punch the blocks out, allocate them again */
static int pmf_bb_clear_file(int fd, const struct pmem2_badblock *bb)
{
	if (bb->offset > (size_t)INT64_MAX)
		return pmf_err(PMEM2_E_OFFSET_OUT_OF_RANGE,
			       "bad block's offset is greater than INT64_MAX");
	if (bb->length > (size_t)INT64_MAX)
		return pmf_err(PMEM2_E_LENGTH_OUT_OF_RANGE,
			       "bad block's length is greater than INT64_MAX");
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)bb->offset, (off_t)bb->length))
		return pmf_err(-errno, "fallocate(PUNCH_HOLE): %s",
			       strerror(errno));
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, (off_t)bb->offset,
		      (off_t)bb->length))
		return pmf_err(-errno, "fallocate: %s", strerror(errno));
	return 0;
}

/* does the bus's "commands" list name @cmd? */
static bool pmf_bus_has_cmd(const char *commands, const char *cmd)
{
	size_t len = strlen(cmd);
	const char *p;

	for (p = commands; (p = strstr(p, cmd)); p += len)
		if ((p == commands || p[-1] == ' ') &&
		    (p[len] == ' ' || !p[len]))
			return true;
	return false;
}

/* the bus's control device, checked against sysfs as libndctl does */
static int pmf_bus_open(unsigned int bus)
{
	char path[PATH_MAX], real[PATH_MAX], want[32];
	const char *base;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/dev/ndctl%u", bus);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return pmf_err(-errno, "open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		goto bad;
	snprintf(path, sizeof(path), "%s/dev/char/%u:%u", pmf_sysfs,
		 major(st.st_rdev), minor(st.st_rdev));
	snprintf(want, sizeof(want), "ndctl%u", bus);
	if (!realpath(path, real))
		goto bad;
	base = strrchr(real, '/');
	if (!base || strcmp(base + 1, want))
		goto bad;
	return fd;
bad:
	close(fd);
	return pmf_err(-ENXIO, "/dev/ndctl%u is not the control device of ndbus%u",
		       bus, bus);
}

/*
 * Device-dax: what libndctl's ars_cap + clear_error commands send. ARS_CAP
 * over the range says the clear unit; the range must be aligned to it.
 */
static int pmf_bb_clear_devdax(struct pmem2_badblock_context *ctx,
			       const struct pmem2_badblock *bb)
{
	struct nd_cmd_ars_cap cap;
	struct nd_cmd_clear_error clr;
	char path[PATH_MAX], cmds[512];
	uint64_t addr;
	int fd, ret;

	if (!ctx->found)
		return pmf_err(PMEM2_E_DAX_REGION_NOT_FOUND,
			       "the device-dax is on no nd namespace");
	if (bb->offset > UINT64_MAX - ctx->ns_res ||
	    bb->length > UINT64_MAX - ctx->ns_res - bb->offset)
		return pmf_err(PMEM2_E_OFFSET_OUT_OF_RANGE,
			       "bad block %zu+%zu is past the end of memory",
			       bb->offset, bb->length);
	addr = ctx->ns_res + bb->offset;

	snprintf(path, sizeof(path), "%s/bus/nd/devices/ndbus%u/commands",
		 pmf_sysfs, ctx->bus);
	ret = pmf_read_attr(path, cmds, sizeof(cmds));
	if (ret)
		return pmf_err(ret, "read %s: %s", path, strerror(-ret));
	if (!pmf_bus_has_cmd(cmds, "ars_cap") ||
	    !pmf_bus_has_cmd(cmds, "clear_error"))
		return pmf_err(PMEM2_E_NOSUPP,
			       "ndbus%u cannot clear errors (commands: %s)",
			       ctx->bus, cmds);

	fd = pmf_bus_open(ctx->bus);
	if (fd < 0)
		return fd;
	memset(&cap, 0, sizeof(cap));
	cap.address = addr;
	cap.length = bb->length;
	if (ioctl(fd, ND_IOCTL_ARS_CAP, &cap) < 0) {
		ret = pmf_err(-errno, "ARS_CAP on ndbus%u: %s", ctx->bus,
			      strerror(errno));
		goto out;
	}
	if (cap.status & 0xffff) {
		ret = pmf_err(-ENXIO, "ARS_CAP on ndbus%u: status %#x",
			      ctx->bus, cap.status);
		goto out;
	}
	if (!cap.clear_err_unit ||
	    (cap.clear_err_unit & (cap.clear_err_unit - 1))) {
		ret = pmf_err(-ENXIO, "ndbus%u: clear unit %u is not a power of 2",
			      ctx->bus, cap.clear_err_unit);
		goto out;
	}
	if ((addr | bb->length) & (cap.clear_err_unit - 1)) {
		ret = pmf_err(-EINVAL,
			      "bad block %zu+%zu is not aligned to the clear unit %u",
			      bb->offset, bb->length, cap.clear_err_unit);
		goto out;
	}
	memset(&clr, 0, sizeof(clr));
	clr.address = addr;
	clr.length = bb->length;
	if (ioctl(fd, ND_IOCTL_CLEAR_ERROR, &clr) < 0) {
		ret = pmf_err(-errno, "CLEAR_ERROR on ndbus%u: %s", ctx->bus,
			      strerror(errno));
		goto out;
	}
	if (clr.cleared < bb->length) {
		ret = pmf_err(-ENXIO, "cleared %llu of %zu bytes",
			      (unsigned long long)clr.cleared, bb->length);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

PMF_EXPORT int pmem2_badblock_clear(struct pmem2_badblock_context *bbctx,
				    const struct pmem2_badblock *bb)
{
	pmf_err_clear();
	if (!bbctx || !bb)
		return pmf_err(-EINVAL, "bbctx and bb must not be NULL");
	if (bbctx->ftype == PMF_FTYPE_DEVDAX)
		return pmf_bb_clear_devdax(bbctx, bb);
	return pmf_bb_clear_file(bbctx->fd, bb);
}
