/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpmemflush internals. Nothing here is exported; the pmf_test_* hooks are
 * reached by the host tests, which link the objects statically.
 */
#ifndef PMF_H
#define PMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpmemflush.h>
#include <linux/pmemflush.h>

#define PMF_EXPORT __attribute__((visibility("default")))
#define PMF_CACHELINE 64

/* error.c: the thread's message; every failing call sets one */
int pmf_err(int ret, const char *fmt, ...)
	__attribute__((__format__(__printf__, 2, 3)));
void pmf_err_clear(void);
/* the one table from a kernel errno (positive) to our return value */
int pmf_map_kernel_errno(int err);
/* @ret (-errno) of an ioctl through the table, with a message about @what */
int pmf_kernel_err(int ret, const char *what);

/*
 * kops.c: everything that reaches the kernel for a map goes through one
 * table, so tests can put a fake kernel behind the library.
 */
struct pmf_kops {
	/* 0 when /dev/pmemflush is usable, else -errno (-ENOENT: no module) */
	int (*dev_open)(void);
	/* the ioctls: 0 or -errno */
	int (*query)(int fd, struct pmemflush_query *q);
	int (*flush)(int fd, uint64_t offset, uint64_t length);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*msync)(void *addr, size_t len, int flags);
};

extern const struct pmf_kops *pmf_kops;
/* where sysfs is; "/sys" but for tests */
extern const char *pmf_sysfs;

/* check that @fd is the pmemflush misc device; 0 or -errno */
int pmf_dev_check(int fd, const char *sysfs);

/* test hooks: NULL restores the real one */
void pmf_test_set_kops(const struct pmf_kops *ops);
void pmf_test_set_sysfs(const char *root);
const struct pmf_kops *pmf_real_kops(void);

/* cpu.c: the one CPU-flush dispatcher */
enum pmf_cpu_flush {
	PMF_CPU_CLFLUSH,
	PMF_CPU_CLFLUSHOPT,
	PMF_CPU_CLWB,
};

struct pmf_cpuid {
	bool clflush, clflushopt, clwb;
};

/* env: a getenv-like function, so tests need not touch the environment */
enum pmf_cpu_flush pmf_cpu_select(const struct pmf_cpuid *id,
				  char *(*env)(const char *));
void pmf_cpuid_read(struct pmf_cpuid *id);
/* the choice made once for this process */
enum pmf_cpu_flush pmf_cpu_flush_kind(void);
const char *pmf_cpu_flush_name(enum pmf_cpu_flush kind);

/* the dispatcher's choice: write back (no fence), and write back + drain */
pmem2_flush_fn pmf_cpu_flush_get(void);
pmem2_persist_fn pmf_cpu_persist_get(void);
void pmf_cpu_flush(const void *ptr, size_t size);
void pmf_cpu_drain(void);
/* test hook: CPUID as the one-time choice will see it (NULL: the CPU's) */
extern const struct pmf_cpuid *pmf_test_cpuid;

/*
 * Calls @line once for each cache line that [ptr, ptr + size) touches, in
 * ascending order. Every flush function uses this, so testing it with a
 * recording @line tests the set of lines each one flushes.
 */
static inline void pmf_for_each_line(const void *ptr, size_t size,
				     void (*line)(const void *))
{
	const uintptr_t mask = ~(uintptr_t)(PMF_CACHELINE - 1);
	uintptr_t p = (uintptr_t)ptr & mask;
	uintptr_t last;

	if (!size)
		return;
	/* the last line, not the end: a range may end at the top of memory */
	last = ((uintptr_t)ptr + size - 1) & mask;
	for (;; p += PMF_CACHELINE) {
		line((const void *)p);
		if (p == last)
			break;
	}
}

/* sysfs.c */
struct pmf_region {
	bool found;
	unsigned int id;
	bool cpu_cache;		/* persistence_domain reads cpu_cache */
	bool async;		/* the nd bus provider is virtio-pmem */
};

int pmf_devdax_check(dev_t rdev);
int pmf_devdax_read_size(dev_t rdev, size_t *size);
int pmf_devdax_read_align(dev_t rdev, size_t *align);
/* find regionN above /sys/dev/{char,block}/M:m; 0 or -errno */
int pmf_region_find(bool chr, dev_t dev, struct pmf_region *r);
void pmf_region_path(char *buf, size_t len, unsigned int id);
/* the sysfs deep flush: "0" -> done; else write "1"; 0 or -errno */
int pmf_region_deep_flush(const char *path);

/* library objects */
enum pmf_ftype {
	PMF_FTYPE_REG,
	PMF_FTYPE_DEVDAX,
};

struct pmem2_source {
	int fd;
	enum pmf_ftype ftype;
	dev_t dev;		/* st_rdev of device-dax, st_dev of a file */
	size_t size;		/* device-dax only; files are fstat'ed at map */
	size_t align;
};

#define PMF_GRANULARITY_UNSET (-1)

struct pmem2_config {
	int granularity;	/* enum pmem2_granularity or _UNSET */
	size_t offset;
	size_t length;
};

/* how pmem2_deep_flush() reaches the device, decided at map time */
enum pmf_deep {
	PMF_DEEP_MSYNC,		/* msync of the pages (fsdax, files) */
	PMF_DEEP_IOCTL,		/* PMEMFLUSH_FLUSH on map->fd */
	PMF_DEEP_SYSFS,		/* write the region's deep_flush file */
	PMF_DEEP_NO_REGION,	/* device-dax outside any nd region */
};

struct pmem2_map {
	void *addr;
	size_t size;
	size_t offset;		/* of addr in the source */
	enum pmem2_granularity granularity;
	enum pmf_deep deep;
	bool deep_cpu_flush;	/* write back CPU caches before the device flush */
	int fd;			/* our dup of the source fd, for the ioctl */
	pmem2_persist_fn persist;
	pmem2_flush_fn flush;
	pmem2_drain_fn drain;
	char *deep_path;	/* PMF_DEEP_SYSFS: the deep_flush file */
};

/* granularity as libpmem2 decides it; force: PMEM2_FORCE_GRANULARITY */
enum pmem2_granularity pmf_min_granularity(bool map_sync, bool eadr,
					   const char *force);

#endif /* PMF_H */
