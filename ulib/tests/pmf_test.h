/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-test helpers: a fake kernel behind the library's kops table, a fake
 * sysfs tree, temp files. Each TEST runs in its own forked child, so the
 * global fake state starts fresh in every test.
 */
#ifndef PMF_TEST_H
#define PMF_TEST_H

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "pmf.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
/* the harness ends each test with _exit(), so LSan must be asked */
#define PMF_LEAK_CHECK() ASSERT_EQ(0, __lsan_do_recoverable_leak_check())
#else
#define PMF_LEAK_CHECK() do { } while (0)
#endif

#define FAKE_MSYNC_LOG 8

static struct {
	int dev_err;		/* dev_open(): 0 = module loaded */
	int dev_opens, dev_closes;
	int query_ret;		/* query(): -errno, or 0 to answer q */
	struct pmemflush_query q;
	unsigned int query_flags;
	int query_target;
	int query_dev;
	int flush_ret;
	int flushes;
	int flush_dev, flush_target;
	unsigned int flush_flags;
	uint64_t flush_offset, flush_length;
	int reg_ret;		/* register(): -errno, or 0 to hand out ids */
	int reg_enospc;		/* this many registers fail with ENOSPC first */
	int regs, unregs, live_ids;
	struct pmemflush_register reg;	/* the last one, as answered */
	int reg_dev;
	uint32_t next_id, unreg_id;
	int unreg_dev;
	uint64_t reg_offset;	/* what REGISTER by address answers */
	bool sync_ok;		/* MAP_SYNC "works" (dropped before mmap) */
	/*
	 * as 6.1 refuses MAP_SYNC in ->mmap(): a MAP_FIXED one unmaps its
	 * range first, and hole_hook (if set) sees the hole
	 */
	bool sync_fixed_unmaps;
	/* the same for a MAP_FIXED mmap failing with mmap_errno */
	bool fixed_fail_unmaps;
	void (*hole_hook)(void *addr, size_t len);
	/* called first by every mmap */
	void (*mmap_hook)(void *addr, size_t len, int flags);
	bool anon;		/* map anonymous memory (device-dax stand-in) */
	int mmap_errno;
	int mmaps, sync_tries;
	int msync_ret;		/* errno to fail msync with */
	int msyncs;
	int map_sync;		/* what kops->map_sync answers */
	int map_sync_calls;
	uintptr_t msync_addr;
	size_t msync_len;
	struct {		/* the first FAKE_MSYNC_LOG msyncs */
		uintptr_t addr;
		size_t len;
	} msync_log[FAKE_MSYNC_LOG];
	int cpu_flushes;	/* pmf_cpu_flush() calls (the spy) */
	uintptr_t cpu_flush_addr;
	size_t cpu_flush_len;
} fake;

/* a real fd (of /dev/null), so closing it is real and leaks show */
static int fake_dev_open(void)
{
	int fd;

	if (fake.dev_err)
		return fake.dev_err;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		fake.dev_opens++;
	return fd < 0 ? -errno : fd;
}

static void fake_dev_close(int dev)
{
	fake.dev_closes++;
	close(dev);
}

static int fake_query(int dev, unsigned int flags, int target,
		      struct pmemflush_query *q)
{
	fake.query_dev = dev;
	fake.query_flags = flags;
	fake.query_target = target;
	if (fake.query_ret)
		return fake.query_ret;
	*q = fake.q;
	q->flags = flags;
	q->fd = target;
	return 0;
}

static int fake_flush(int dev, unsigned int flags, int target,
		      uint64_t offset, uint64_t length)
{
	fake.flushes++;
	fake.flush_dev = dev;
	fake.flush_flags = flags;
	fake.flush_target = target;
	fake.flush_offset = offset;
	fake.flush_length = length;
	return fake.flush_ret;
}

static int fake_reg(int dev, struct pmemflush_register *r)
{
	fake.regs++;
	if (fake.reg_enospc > 0) {
		fake.reg_enospc--;
		return -ENOSPC;
	}
	if (fake.reg_ret)
		return fake.reg_ret;
	r->id = ++fake.next_id;
	r->offset = (r->flags & PMEMFLUSH_BY_ADDR) ? fake.reg_offset : 0;
	fake.reg = *r;
	fake.reg_dev = dev;
	fake.live_ids++;
	return 0;
}

static int fake_unreg(int dev, uint32_t id)
{
	fake.unreg_dev = dev;
	fake.unregs++;
	fake.unreg_id = id;
	fake.live_ids--;
	return 0;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd,
		       off_t off)
{
	fake.mmaps++;
	if (fake.mmap_hook)
		fake.mmap_hook(addr, len, flags);
	if (flags & MAP_SYNC) {
		fake.sync_tries++;
		if (!fake.sync_ok) {
			if (fake.sync_fixed_unmaps && (flags & MAP_FIXED)) {
				munmap(addr, len);
				if (fake.hole_hook)
					fake.hole_hook(addr, len);
			}
			errno = EOPNOTSUPP;
			return MAP_FAILED;
		}
		flags &= ~(MAP_SYNC | MAP_SHARED_VALIDATE);
		flags |= MAP_SHARED;
	}
	if (fake.mmap_errno) {
		if (fake.fixed_fail_unmaps && (flags & MAP_FIXED)) {
			munmap(addr, len);
			if (fake.hole_hook)
				fake.hole_hook(addr, len);
		}
		errno = fake.mmap_errno;
		return MAP_FAILED;
	}
	if (fake.anon)
		return mmap(addr, len, prot,
			    MAP_SHARED | MAP_ANONYMOUS | (flags & MAP_FIXED),
			    -1, 0);
	return mmap(addr, len, prot, flags, fd, off);
}

static int fake_msync(void *addr, size_t len, int flags)
{
	if (fake.msyncs < FAKE_MSYNC_LOG) {
		fake.msync_log[fake.msyncs].addr = (uintptr_t)addr;
		fake.msync_log[fake.msyncs].len = len;
	}
	fake.msyncs++;
	fake.msync_addr = (uintptr_t)addr;
	fake.msync_len = len;
	if (fake.msync_ret) {
		errno = fake.msync_ret;
		return -1;
	}
	return msync(addr, len, flags);
}

static int fake_map_sync(const void *addr, size_t len)
{
	(void)addr;
	(void)len;
	fake.map_sync_calls++;
	return fake.map_sync;
}

static void fake_cpu_flush_spy(const void *ptr, size_t size)
{
	fake.cpu_flushes++;
	fake.cpu_flush_addr = (uintptr_t)ptr;
	fake.cpu_flush_len = size;
}

static const struct pmf_kops fake_kops = {
	.dev_open = fake_dev_open,
	.dev_close = fake_dev_close,
	.query = fake_query,
	.flush = fake_flush,
	.reg = fake_reg,
	.unreg = fake_unreg,
	.mmap = fake_mmap,
	.msync = fake_msync,
	.map_sync = fake_map_sync,
};

/* module loaded, target as given */
static inline void fake_module(__u32 kind, __u32 domain, __u32 flags)
{
	pmf_test_set_kops(&fake_kops);
	pmf_test_cpu_flush_spy = fake_cpu_flush_spy;
	fake.q.region_id = 7;
	fake.q.has_flush = 1;
	fake.q.target_kind = kind;
	fake.q.persistence_domain = domain;
	fake.q.out_flags = flags;
	fake.sync_ok = flags & PMEMFLUSH_DAX_SYNC;
}

static inline void fake_no_module(void)
{
	pmf_test_set_kops(&fake_kops);
	pmf_test_cpu_flush_spy = fake_cpu_flush_spy;
	fake.dev_err = -ENOENT;
}

/* an O_RDWR temp file of @size bytes */
static inline int tmp_file(size_t size)
{
	char path[] = "/tmp/pmf-test-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
	chmod(path, mode);
}

static inline void read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);

	buf[n < 0 ? 0 : n] = '\0';
	if (fd >= 0)
		close(fd);
}

static inline void mkdirs(const char *fmt, ...)
	__attribute__((__format__(__printf__, 1, 2)));

static inline void mkdirs(const char *fmt, ...)
{
	char path[PATH_MAX], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

static inline int rm_tree(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

/* each errno of the uapi DOC block and what the library must turn it into */
struct pmf_errno_case {
	int err, want;
};

static const struct pmf_errno_case pmf_kernel_errnos[] __attribute__((unused)) = {
	{ ENODEV, PMEM2_E_DAX_REGION_NOT_FOUND },
	{ ENXIO, PMEM2_E_DAX_REGION_NOT_FOUND },
	{ ERANGE, PMEM2_E_DEEP_FLUSH_RANGE },
	{ EOVERFLOW, PMEM2_E_DEEP_FLUSH_RANGE },
	{ EOPNOTSUPP, -EOPNOTSUPP }, { EBADF, -EBADF },
	{ EINVAL, -EINVAL }, { E2BIG, -E2BIG }, { EFAULT, -EFAULT },
	{ EIO, -EIO }, { ENOMEM, -ENOMEM },
};

#define PMF_NR_KERNEL_ERRNOS \
	(sizeof(pmf_kernel_errnos) / sizeof(pmf_kernel_errnos[0]))

/*
 * pmem2_map_new() of @fd with protection @prot (PMEM2_PROT_*): @gran < 0
 * leaves the granularity unset, @off and @len as
 * pmem2_config_set_offset/_length take them (0: the whole source).
 */
static inline int pmf_test_map_prot(int fd, int gran, size_t off, size_t len,
				    unsigned int prot, struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int ret;

	if (pmem2_config_new(&cfg))
		return -1000;
	if (gran >= 0)
		pmem2_config_set_required_store_granularity(cfg, gran);
	pmem2_config_set_offset(cfg, off);
	pmem2_config_set_length(cfg, len);
	if (pmem2_config_set_protection(cfg, prot)) {
		pmem2_config_delete(&cfg);
		return -1001;
	}
	ret = pmem2_source_from_fd(&src, fd);
	if (!ret)
		ret = pmem2_map_new(map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	return ret;
}

/* pmf_test_map_prot() with the default protection, read and write */
static inline int pmf_test_map(int fd, int gran, size_t off, size_t len,
			       struct pmem2_map **map)
{
	return pmf_test_map_prot(fd, gran, off, len,
				 PMEM2_PROT_READ | PMEM2_PROT_WRITE, map);
}

#endif /* PMF_TEST_H */
