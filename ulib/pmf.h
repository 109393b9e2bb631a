/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpmemflush internals. Nothing here is exported. The pmf_test_* hooks
 * exist only in the host tests' build (-DPMF_TEST_HOOKS), which links the
 * objects statically; in the shipped library they are NULL constants, so
 * the paths that test them compile to nothing.
 */
#ifndef PMF_H
#define PMF_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpmemflush.h>
#include <linux/pmemflush.h>

#define PMF_EXPORT __attribute__((visibility("default")))
#if defined(__x86_64__)
#define PMF_CACHELINE 64
#elif defined(__powerpc64__)
/*
 * POWER8, POWER9 and POWER10 all have 128-byte L1 data cache lines (the
 * device tree's d-cache-line-size, the auxv's AT_DCACHEBSIZE); libpmem2's
 * ppc64 code and the kernel's pmem write-back step by them too
 */
#define PMF_CACHELINE 128
#else
#error "libpmemflush supports x86-64 and 64-bit POWER only"
#endif

struct pmem2_map;

/* util.c */
size_t pmf_page_size(void);
/* @env (a getenv-like function, so tests need not touch the environment) */
bool pmf_env_is(char *(*env)(const char *), const char *name, const char *val);
/* digits in @base (0: as strtoull), nothing else, at most @max; 0 or -1 */
int pmf_parse_ull(const char *s, int base, unsigned long long max,
		  unsigned long long *val);
/* "<prefix>N", or "<prefix>N.M" when @dotted: true, *@id = N if @id */
bool pmf_name_num(const char *name, size_t len, const char *prefix,
		  bool dotted, unsigned int *id);

/* maps sorted by address, none overlapping (maps.c, vmr.c) */
struct pmf_maparr {
	struct pmem2_map **v;
	size_t n, cap;
};

/* index of the first map whose end is above @p */
size_t pmf_maparr_first_above(const struct pmf_maparr *a, uintptr_t p);
/* a map overlaps [@start, @end) */
bool pmf_maparr_overlaps(const struct pmf_maparr *a, uintptr_t start,
			 uintptr_t end);
/* 0 or -ENOMEM; the caller checked that nothing overlaps */
int pmf_maparr_insert(struct pmf_maparr *a, struct pmem2_map *map);
/* frees the array once empty */
void pmf_maparr_remove(struct pmf_maparr *a, struct pmem2_map *map);

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
 * table, so tests can put a fake kernel behind the library. @dev is an fd
 * of /dev/pmemflush from dev_open(); @target an fd of the caller's, or an id
 * when @flags holds PMEMFLUSH_BY_ID.
 */
struct pmf_kops {
	/* a new, checked fd of /dev/pmemflush, or -errno (-ENOENT: no module) */
	int (*dev_open)(void);
	void (*dev_close)(int dev);
	/* the ioctls: 0 or -errno */
	int (*query)(int dev, unsigned int flags, int target,
		     struct pmemflush_query *q);
	int (*flush)(int dev, unsigned int flags, int target, uint64_t offset,
		     uint64_t length);
	int (*reg)(int dev, struct pmemflush_register *r);
	int (*unreg)(int dev, uint32_t id);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*msync)(void *addr, size_t len, int flags);
	/* 1: every mapping of the range is MAP_SYNC; 0: not; -errno */
	int (*map_sync)(const void *addr, size_t len);
};

/* map_sync of /proc/self/smaps' text in @f (pmf_kops' real one reads it) */
int pmf_smaps_map_sync(FILE *f, const void *addr, size_t len);

extern const struct pmf_kops *pmf_kops;
/* where sysfs is; "/sys" but for tests */
extern const char *pmf_sysfs;

/* check that @fd is the pmemflush misc device; 0 or -errno */
int pmf_dev_check(int fd, const char *sysfs);

/*
 * dev.c: the process's /dev/pmemflush files. Slot 0 serves everything
 * until its file holds PMEMFLUSH_MAX_IDS ids; REGISTER then moves on to the
 * next slot. A slot is opened on first use and kept; a failed open is not
 * remembered, so a module loaded later is found by the next call. In a
 * child after fork() every slot is closed and the generation moves on: ids
 * belong to an open file the parent shares, and must not be used or
 * dropped by the child.
 */
#define PMF_DEV_SLOTS 16
/* the fd of slot @slot, opening it if needed; -errno */
int pmf_dev_get(unsigned int slot);
/* the fork generation */
uint32_t pmf_dev_gen(void);

/*
 * reg.c: a registered target: the id REGISTER returned, on which slot, in
 * which fork generation; and how to register again in a forked child (the
 * same address range, or the same fd if it still names the same file).
 */
struct pmf_reg {
	_Atomic uint64_t state;	/* gen << 32 | slot << 16 | id; id 0: none */
	const void *addr;	/* by address when non-NULL */
	size_t length;
	int fd;			/* by fd otherwise */
	dev_t st_dev, st_rdev;
	ino_t st_ino;
	uint64_t offset;	/* out of REGISTER by address */
};

/* register by address range (@addr non-NULL) or by @fd; 0 or -errno */
int pmf_reg_init(struct pmf_reg *r, const void *addr, size_t length, int fd);
/*
 * The device flush of [@offset, @offset + @length) of the target, and its
 * QUERY: 0, or this library's error with the message set.
 */
int pmf_reg_flush(struct pmf_reg *r, uint64_t offset, uint64_t length);
int pmf_reg_query(struct pmf_reg *r, struct pmemflush_query *q);
/* the same flush as an io_uring command: the slot's fd and the FLUSH */
int pmf_reg_cmd(struct pmf_reg *r, uint64_t offset, uint64_t length, int *dev,
		struct pmemflush_flush *f);
/* drop the id if this process registered it */
void pmf_reg_drop(struct pmf_reg *r);

/*
 * fork.c calls these around fork(): each takes its locks in prepare, gives
 * them back in the parent, makes them new in the child
 */
void pmf_vmr_fork_prepare(void);
void pmf_vmr_fork_parent(void);
void pmf_vmr_fork_child(void);
void pmf_maps_fork_prepare(void);
void pmf_maps_fork_parent(void);
void pmf_maps_fork_child(void);
void pmf_mc_fork_prepare(void);
void pmf_mc_fork_parent(void);
void pmf_mc_fork_child(void);
/* the child's /dev/pmemflush files and ids are the parent's: drop them */
void pmf_dev_fork_child(void);


/*
 * cpu.c: the one CPU-flush dispatcher, over one architecture's write-backs
 * and fences (cpu_x86.c, cpu_ppc64.c)
 */
#if defined(__x86_64__)
enum pmf_cpu_flush {
	PMF_CPU_CLFLUSH,
	PMF_CPU_CLFLUSHOPT,
	PMF_CPU_CLWB,
};

struct pmf_cpuid {
	bool clflush, clflushopt, clwb;
};
#else
enum pmf_cpu_flush {
	PMF_CPU_DCBF,		/* dcbf, hwsync: before Power ISA 3.1 */
	PMF_CPU_DCBSTPS,	/* dcbstps, phwsync: ISA 3.1 (POWER10) */
};

struct pmf_cpuid {
	bool arch_3_1;		/* AT_HWCAP2's PPC_FEATURE2_ARCH_3_1 */
};
#endif

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
bool pmf_cpu_can_write_back(unsigned int prot);
void pmf_cpu_drain(void);

/* cpu_<arch>.c: one kind's write-back, its write-back + drain, its drain */
struct pmf_cpu_fns {
	pmem2_flush_fn flush;
	pmem2_persist_fn persist;
	void (*drain)(void);
};

void pmf_cpu_fns_of(enum pmf_cpu_flush kind, struct pmf_cpu_fns *fns);

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
	bool no_flush;		/* deep_flush reads 0: barriers only */
};

int pmf_devdax_check(dev_t rdev);
int pmf_devdax_read_size(dev_t rdev, size_t *size);
int pmf_devdax_read_align(dev_t rdev, size_t *align);
/* find the nd regionN above /sys/dev/{char,block}/M:m; 0 or -errno */
int pmf_region_find(bool chr, dev_t dev, struct pmf_region *r);
void pmf_region_path(char *buf, size_t len, unsigned int id);
/* the sysfs deep flush: "0" -> done; else write "1"; 0 or -errno */
int pmf_region_deep_flush(const char *path);
/* decimal, no sign, no space, fits size_t; 0 or -1 */
int pmf_parse_size(const char *s, size_t *val);
/* first line of a sysfs file, newline stripped; 0 or -errno */
int pmf_read_attr(const char *path, char *buf, size_t len);

/* sysfs.c: the components of /sys/dev/{char,block}/M:m's real path */
struct pmf_nd_path {
	char real[PATH_MAX];
	const char *comp[64];
	size_t clen[64];
	unsigned int n;
};

/* 0 or -errno */
int pmf_nd_path_of(struct pmf_nd_path *p, bool chr, dev_t dev);
/* component @i is "<prefix>N" (@dotted: "<prefix>N.M") */
bool pmf_comp_is(const struct pmf_nd_path *p, unsigned int i,
		 const char *prefix, bool dotted, unsigned int *id);
/* the directory made of the first @n components */
void pmf_comp_dir(const struct pmf_nd_path *p, unsigned int n, char *buf,
		  size_t len);
/* index of the ndbusB component with a regionN below it, or p->n */
unsigned int pmf_nd_region_at(const struct pmf_nd_path *p, unsigned int *bus,
			      unsigned int *region);

/* sysfs.c, for source.c: the DIMMs behind a source, as libndctl sees them */
/* the region's and its ndbusB's directories (PATH_MAX each); 1, 0, -errno */
int pmf_region_dirs(bool chr, dev_t dev, char *region, char *bus);
/* the region's DIMMs (N of nmemN) in libndctl's order; count or -errno */
int pmf_region_dimms(const char *region, const char *bus, unsigned int **ids);
/* "nfit", "papr" or "cxl": the DIMM's attribute group; NULL if none */
const char *pmf_dimm_group(const char *bus, unsigned int dimm);

/*
 * memops.c: pmem2_get_mem{cpy,move,set}_fn. One instruction set's loops
 * (memops_isa.h, compiled per ISA by memops_{sse2,avx,avx512}.c): memmove
 * and memset with ordinary stores, and with non-temporal stores for the
 * whole lines, the pieces before and after them written back by @wb (when
 * not NULL); @wcb: an SFENCE after each run of 12 lines (libpmem2's
 * PMEM_WC_WORKAROUND, SSE2 and AVX only).
 */
struct pmf_mem_isa {
	void (*move)(char *d, const char *s, size_t n);
	void (*move_nt)(char *d, const char *s, size_t n, pmem2_flush_fn wb,
			bool wcb);
	void (*set)(char *d, int c, size_t n);
	void (*set_nt)(char *d, int c, size_t n, pmem2_flush_fn wb, bool wcb);
};

#if defined(__x86_64__)
extern const struct pmf_mem_isa pmf_mem_isa_sse2, pmf_mem_isa_avx,
	pmf_mem_isa_avx512;

enum pmf_mem_kind {
	PMF_MEM_SSE2,
	PMF_MEM_AVX,
	PMF_MEM_AVX512F,
};

/* what the CPU has and the OS saves (XGETBV) */
struct pmf_mem_cpuid {
	bool avx, avx512f, intel;
};
#else
/*
 * memmove and memset of the C library, each piece written back after it:
 * no non-temporal stores (libpmem2's ppc64 code has none either)
 */
extern const struct pmf_mem_isa pmf_mem_isa_generic;

enum pmf_mem_kind {
	PMF_MEM_GENERIC,
};

struct pmf_mem_cpuid {
	bool none;
};
#endif

/* the process's choice, as libpmem2's init.c makes it */
struct pmf_mem_choice {
	enum pmf_mem_kind kind;
	bool movnt;		/* non-temporal stores at all (PMEM_NO_MOVNT) */
	bool wc_barrier;	/* PMEM_WC_WORKAROUND, default: Intel */
	size_t threshold;	/* PMEM_MOVNT_THRESHOLD, default 256 */
};

void pmf_mem_cpuid_read(struct pmf_mem_cpuid *id);
/* env: a getenv-like function, so tests need not touch the environment */
void pmf_mem_select(const struct pmf_mem_cpuid *id,
		    char *(*env)(const char *), struct pmf_mem_choice *c);
const char *pmf_mem_kind_name(enum pmf_mem_kind kind);
/* the choice made once for this process */
void pmf_mem_choice_get(struct pmf_mem_choice *c);
/* set the map's memcpy_fn, memmove_fn, memset_fn from its granularity */
void pmf_map_mem_fns(struct pmem2_map *map);


/* library objects */
enum pmf_ftype {
	PMF_FTYPE_REG,
	PMF_FTYPE_DEVDAX,
	PMF_FTYPE_ANON,		/* pmem2_source_from_anon(): fd is -1 */
};

struct pmem2_source {
	int fd;
	enum pmf_ftype ftype;
	dev_t dev;		/* st_rdev of device-dax, st_dev of a file */
	size_t size;		/* device-dax and anon; files are fstat'ed at map */
	size_t align;
};

#define PMF_GRANULARITY_UNSET (-1)

struct pmem2_config {
	int granularity;	/* enum pmem2_granularity or _UNSET */
	size_t offset;
	size_t length;
	enum pmem2_sharing_type sharing;
	unsigned int prot;	/* PMEM2_PROT_* */
	struct pmem2_vm_reservation *rsv;	/* NULL: anywhere */
	size_t rsv_offset;
};

/* how pmem2_deep_flush() reaches the device, decided at map time */
enum pmf_deep {
	PMF_DEEP_MSYNC,		/* msync of the pages (fsdax, files) */
	PMF_DEEP_CPU,		/* barriers only: CPU write-back + SFENCE */
	PMF_DEEP_IOCTL,		/* PMEMFLUSH_FLUSH by the map's id */
	PMF_DEEP_SYSFS,		/* write the region's deep_flush file */
	PMF_DEEP_NO_REGION,	/* device-dax outside any nd region */
	PMF_DEEP_ANON,		/* anonymous memory: PMEM2_E_NOSUPP */
};

/* what the kernel says is behind the source */
struct pmf_target {
	bool module;		/* PMEMFLUSH_QUERY answered */
	bool region;		/* an nd region is known */
	unsigned int region_id;
	bool eadr;		/* CPU caches are in the persistence domain */
	bool async;		/* durable only after the device flush */
	bool no_flush;		/* synchronous, has_flush 0: barriers only */
	bool try_sync;		/* MAP_SYNC may be trusted if it works */
};

struct pmem2_map {
	void *addr;
	size_t size;
	size_t offset;		/* of addr in the source */
	enum pmem2_granularity granularity;
	enum pmf_deep deep;
	bool devdax;
	bool registered;	/* reg holds an id (PMF_DEEP_IOCTL) */
	struct pmf_reg reg;
	pmem2_persist_fn persist;
	pmem2_flush_fn flush;
	pmem2_drain_fn drain;
	char *deep_path;	/* PMF_DEEP_SYSFS: the deep_flush file */
	enum pmem2_sharing_type sharing;
	bool existing;		/* pmem2_map_from_existing(): not ours to unmap */
	struct pmem2_vm_reservation *rsv;	/* the reservation it lives in */
	pmem2_memcpy_fn memcpy_fn;
	pmem2_memmove_fn memmove_fn;
	pmem2_memset_fn memset_fn;
	unsigned int prot;	/* PMEM2_PROT_* it was mapped with */
	bool write_back;	/* pmf_cpu_can_write_back(prot) */
};

/*
 * vmr.c: virtual memory reservations. pmem2_map_new() takes the lock of
 * the reservation it maps into for writing, checks and places the map with
 * the _locked calls, and drops it once the map is in or has failed.
 */
void pmf_vmr_wrlock(struct pmem2_vm_reservation *rsv);
void pmf_vmr_unlock(struct pmem2_vm_reservation *rsv);
void *pmf_vmr_addr_locked(const struct pmem2_vm_reservation *rsv);
size_t pmf_vmr_size_locked(const struct pmem2_vm_reservation *rsv);
/* the first map overlapping [@offset, @offset + @len) of it, or NULL */
struct pmem2_map *pmf_vmr_find_locked(struct pmem2_vm_reservation *rsv,
				      size_t offset, size_t len);
/* 0, or -ENOMEM */
int pmf_vmr_insert_locked(struct pmem2_vm_reservation *rsv,
			  struct pmem2_map *map);
void pmf_vmr_remove_locked(struct pmem2_vm_reservation *rsv,
			   struct pmem2_map *map);
/* put the PROT_NONE placeholder back over [addr, addr + len); 0 or -errno */
int pmf_vmr_mend(void *addr, size_t len);
/* the same after a failed MAP_FIXED: only where nothing is mapped */
void pmf_vmr_refill(void *addr, size_t len);

/* maps.c: every live map by address, for the functions given only (ptr, len) */
/* 0, -ENOMEM, or -EEXIST when it overlaps a live map */
int pmf_maps_add(struct pmem2_map *map);
void pmf_maps_remove(struct pmem2_map *map);
/*
 * Calls @fn for each map overlapping [ptr, ptr + size), in address order,
 * with the part of the range inside it; stops at the first non-zero return
 * and returns it. Ranges no map covers are skipped, as libpmem2 does.
 */
int pmf_maps_for_range(const void *ptr, size_t size,
		       int (*fn)(struct pmem2_map *map, const void *p,
				 size_t len));

/*
 * source.c: the source's size (files: now) and the alignment of a map's
 * offset and length; 0 or the library's error with the message set
 */
int pmf_source_bounds(const struct pmem2_source *src, size_t *size,
		      size_t *align);

/* persist.c: the map's persist, flush and drain */
void pmf_map_flush_fns(struct pmem2_map *map, const struct pmf_target *t);
/* msync(2) of the pages [ptr, ptr + size) touches: 0 or -errno */
int pmf_msync_range(const void *ptr, size_t size);
/* deep_flush.c: how the map's deep flush reaches the device; 0 or error */
int pmf_map_deep_setup(struct pmem2_map *map, const struct pmf_target *t,
		       bool map_sync);

/* granularity as libpmem2 decides it; force: PMEM2_FORCE_GRANULARITY */
enum pmem2_granularity pmf_min_granularity(bool map_sync, bool eadr,
					   const char *force);

/* test hooks: the host tests' build only */
struct fiemap;
#ifdef PMF_TEST_HOOKS
/* kops.c: NULL restores the real one */
void pmf_test_set_kops(const struct pmf_kops *ops);
void pmf_test_set_sysfs(const char *root);
const struct pmf_kops *pmf_real_kops(void);
/* what fork() does to the /dev/pmemflush slots, for a test that cannot fork */
void pmf_test_atfork_child(void);
/* cpu.c, memops.c: CPUID as the one-time choice will see it (NULL: the CPU's) */
extern const struct pmf_cpuid *pmf_test_cpuid;
extern const struct pmf_mem_cpuid *pmf_test_mem_cpuid;
/* cpu.c: called with each range pmf_cpu_flush() writes back */
extern pmem2_flush_fn pmf_test_cpu_flush_spy;
/* memops.c: use @c from now on, as if the process had chosen it */
void pmf_test_mem_force(const struct pmf_mem_choice *c);
/* memops.c: SFENCEs and non-temporal runs of the memory functions */
extern unsigned int pmf_test_mem_fences, pmf_test_mem_nt_runs;
/* mcsafe.c: pread/pwrite when NULL */
extern ssize_t (*pmf_test_pio)(int fd, void *buf, size_t size, off_t offset,
			       bool write);
/* badblock.c: FS_IOC_FIEMAP when NULL (0 or -1 with errno) */
extern int (*pmf_test_fiemap)(int fd, struct fiemap *fm);
#else
#define pmf_test_cpu_flush_spy ((pmem2_flush_fn)NULL)
#define pmf_test_pio ((ssize_t (*)(int, void *, size_t, off_t, bool))NULL)
#define pmf_test_fiemap ((int (*)(int, struct fiemap *))NULL)
#endif

#endif /* PMF_H */
