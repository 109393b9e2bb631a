// SPDX-License-Identifier: GPL-2.0
/*
 * usc: unsafe shutdown detection as libpmem2_unsafe_shutdown(7) recommends,
 * one libpmem2 usage pattern built twice, against PMDK's libpmem2
 * (-DPAT_PMDK, -lpmem2) and against libpmemflush (-lpmemflush). Output is
 * deterministic for a given machine.
 *
 *   usc write TARGET  read the device id and the unsafe shutdown count (or
 *                     the error and its errno), store them with an "in use"
 *                     flag in a header on the medium (deep-flushed), do some
 *                     work, clear the flag: a clean close
 *   usc read TARGET   read them again and compare with the header: the same
 *                     device and count is a clean history; another device
 *                     means the data moved (start over); the same device
 *                     with another count while the flag was set is a
 *                     possible unsafe shutdown; no count: cannot tell
 *
 * Layout (first 4 MiB of TARGET): the header at 0, the "work" at 4096.
 */
#include <stddef.h>

#define PAT_NAME "usc"
#include "pat.h"

#define USC_MAGIC	"PATUSC1"
#define ID_MAX		1024

struct usc_hdr {
	char magic[8];
	uint64_t in_use;
	int64_t id_ret;		/* 0 or the error of pmem2_source_device_id */
	int64_t usc_ret;	/* 0 or the error of pmem2_source_device_usc */
	uint64_t usc;
	uint64_t id_len;	/* with the NUL */
	char id[ID_MAX];
};

struct ident {
	int id_ret, usc_ret;
	size_t id_len;
	uint64_t usc;
	char id[ID_MAX];
};

/* the device id and USC of @src, printed */
static void identify(struct pmem2_source *src, struct ident *d)
{
	char *small;
	size_t len;
	int ret;

	memset(d, 0, sizeof(*d));
	d->id_ret = pmem2_source_device_id(src, NULL, &d->id_len);
	if (!d->id_ret && (d->id_len == 0 || d->id_len > ID_MAX)) {
		printf("device_id length %zu out of range\n", d->id_len);
		exit(1);
	}
	if (!d->id_ret) {
		len = d->id_len;
		/* libpmem2 appends to the buffer: it must start empty */
		d->id_ret = pmem2_source_device_id(src, d->id, &len);
	}
	if (d->id_ret) {
		printf("device_id error %d errno %d\n", d->id_ret,
		       err_to_errno(d->id_ret));
	} else {
		printf("device_id len %zu \"%s\" %s\n", d->id_len, d->id,
		       strlen(d->id) + 1 == d->id_len ? "ok" : "BAD-LENGTH");
		/* one byte short: too small, unless the id is empty */
		len = d->id_len - 1;
		small = calloc(1, d->id_len);
		if (!small)
			exit(1);
		ret = pmem2_source_device_id(src, small, &len);
		printf("device_id in %zu bytes: %d\n", len, ret);
		free(small);
	}

	d->usc_ret = pmem2_source_device_usc(src, &d->usc);
	if (d->usc_ret)
		printf("device_usc error %d errno %d\n", d->usc_ret,
		       err_to_errno(d->usc_ret));
	else
		printf("device_usc %" PRIu64 "\n", d->usc);
}

static void set_in_use(struct pmem2_map *map, uint64_t v)
{
	char *base = pmem2_map_get_address(map);

	pmem2_get_memcpy_fn(map)(base + offsetof(struct usc_hdr, in_use), &v,
				 sizeof(v), 0);
	deep_flush(map, base, sizeof(struct usc_hdr));
}

static int do_write(struct pmem2_map *map, const struct ident *d)
{
	char *base = pmem2_map_get_address(map);
	struct usc_hdr h;

	memcpy(&h, base, sizeof(h));
	printf("header %s\n", memcmp(h.magic, USC_MAGIC, 8) ? "new" : "replaced");
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, USC_MAGIC, 8);
	h.in_use = 1;
	h.id_ret = d->id_ret;
	h.usc_ret = d->usc_ret;
	h.usc = d->usc;
	h.id_len = d->id_len;
	memcpy(h.id, d->id, sizeof(h.id));
	pmem2_get_memcpy_fn(map)(base, &h, sizeof(h), PMEM2_F_MEM_NONTEMPORAL);
	deep_flush(map, base, sizeof(h));

	/* the work the flag covers */
	pmem2_get_memset_fn(map)(base + 4096, 0x3c, 64 << 10, 0);
	deep_flush(map, base + 4096, 64 << 10);

	set_in_use(map, 0);
	printf("stored, closed cleanly\n");
	return 0;
}

static int do_read(struct pmem2_map *map, const struct ident *d)
{
	const char *base = pmem2_map_get_address(map);
	const char *verdict;
	struct usc_hdr h;
	int same_id;

	memcpy(&h, base, sizeof(h));
	if (memcmp(h.magic, USC_MAGIC, 8) || h.id_len > ID_MAX) {
		printf("no header\n");
		return 1;
	}
	printf("stored: device_id %s%s%s, device_usc ",
	       h.id_ret ? "error" : "\"", h.id_ret ? "" : h.id,
	       h.id_ret ? "" : "\"");
	if (h.usc_ret)
		printf("error %" PRId64 "\n", h.usc_ret);
	else
		printf("%" PRIu64 "\n", h.usc);
	printf("in_use %" PRIu64 "\n", h.in_use);

	same_id = !h.id_ret && !d->id_ret && h.id_len == d->id_len &&
		  !strcmp(h.id, d->id);
	printf("device_id %s\n", h.id_ret || d->id_ret ? "unavailable" :
	       same_id ? "same" : "changed");
	printf("device_usc %s\n", h.usc_ret || d->usc_ret ? "unavailable" :
	       h.usc == d->usc ? "same" : "changed");

	if (h.usc_ret || d->usc_ret)
		verdict = "cannot tell: no unsafe shutdown count";
	else if (h.id_ret || d->id_ret)
		verdict = "cannot tell: no device id";
	else if (!same_id)
		verdict = "moved to another device: start over";
	else if (h.usc == d->usc)
		verdict = "clean";
	else if (h.in_use)
		verdict = "unsafe shutdown while in use: data may be corrupt";
	else
		verdict = "unsafe shutdown while closed: data intact";
	printf("verdict %s\n", verdict);
	return 0;
}

int main(int argc, char **argv)
{
	struct pmem2_source *src;
	struct pmem2_map *map;
	struct ident d;
	int fd, ret, rc, writing;

	writing = pat_args(argc, argv, 1);
	fd = pat_open(argv[2]);
	ret = pmem2_source_from_fd(&src, fd);
	if (ret)
		fail("pmem2_source_from_fd", ret);
	identify(src, &d);
	map = map_window_src(src, PMEM2_SHARED, NULL);
	rc = writing ? do_write(map, &d) : do_read(map, &d);
	rc |= pmem2_map_delete(&map) != 0;
	pmem2_source_delete(&src);
	close(fd);
	return rc;
}
