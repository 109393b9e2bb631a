// SPDX-License-Identifier: GPL-2.0
/*
 * Deep flush latency and throughput, one target per run; prints one JSON
 * object per line. Built twice from this file: against libpmemflush
 * (deepflush_bench) and against Debian's PMDK libpmem2 (deepflush_bench.pmdk,
 * -DBENCH_PMDK), so both libraries run the same code in separate processes.
 *
 *   deepflush_bench clock     TARGET      the clock's own cost per read, and
 *                                         whether it is a system call
 *   deepflush_bench floor     TARGET      null ioctl, FLUSH ioctl by fd and
 *                                         by id, sysfs, msync
 *   deepflush_bench pmem2     TARGET      pmem2_deep_flush on 64 B, 4 KiB,
 *                                         2 MiB after a store, and store +
 *                                         flush timed together (4 KiB); per
 *                                         row, the ioctl (FLUSH by id among
 *                                         them), msync, open, read, write
 *                                         and fsync calls the library made
 *                                         per call (an untimed pass)
 *   deepflush_bench threads   TARGET N    N threads of pmem2_deep_flush (64 B)
 *   deepflush_bench idthreads TARGET N... N threads of the FLUSH ioctl by id
 *                                         (64 B) on one /dev/pmemflush and
 *                                         one id, each count N in turn
 *
 * TARGET is a device-dax node or a file on a DAX filesystem (created and
 * filled to 4 MiB when missing). BENCH_NAME labels the output (default: the
 * path); BENCH_FSYNC_COUNT names QEMU's fsync count file for the target's
 * virtio-pmem device, if any.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/pmemflush.h>

#include "bench.h"
#ifdef BENCH_PMDK
#include <libpmem2.h>
#define LIBRARY "pmdk"
#else
#include <libpmemflush.h>
#define LIBRARY "pmemflush"
#endif

#define MAX_SAMPLES	4000
#define MIN_SAMPLES	1000	/* for ops under 100 us */
#define FEW_SAMPLES	10	/* floor for slow ops */
#define BUDGET_NS	4000000000ULL
#define THREAD_SECONDS	3	/* each threads and idthreads run */
#define CLOCK_READS	1000

static const char *target, *label;

/*
 * What a library's deep flush asks of the kernel: this executable defines
 * ioctl, msync, open, read, pread, write, pwrite and fsync, so the library's
 * calls to them bind here (a shared library's references to libc resolve to
 * the executable's definition first), are counted while count_on is set and
 * go on to libc's through dlsym(RTLD_NEXT). The bench's own raw calls in the
 * floor and idthreads modes call libc's directly through LIBC().
 */
enum {
	C_IOCTL, C_FLUSH_ID, C_MSYNC, C_OPEN, C_READ, C_WRITE, C_FSYNC, C_MAX
};

/* flush_id_ioctls: those of the ioctls that were PMEMFLUSH_FLUSH by id */
static const char *const count_names[C_MAX] = {
	"ioctls", "flush_id_ioctls", "msyncs", "opens", "reads", "writes",
	"fsyncs",
};

static unsigned long counts[C_MAX];
static int count_on;

static void *libc_ioctl, *libc_msync, *libc_open, *libc_read, *libc_pread,
	    *libc_write, *libc_pwrite, *libc_fsync;

static void *libc_fn(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!fn) {
		fn = dlsym(RTLD_NEXT, name);
		if (!fn) {
			fprintf(stderr, "dlsym(RTLD_NEXT, %s): %s\n", name,
				dlerror());
			abort();
		}
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

/* libc's @name, with the type of this file's definition */
#define LIBC(name)	((__typeof__(&name))libc_fn(&libc_##name, #name))

static void count(int c)
{
	if (__atomic_load_n(&count_on, __ATOMIC_RELAXED))
		__atomic_fetch_add(&counts[c], 1, __ATOMIC_RELAXED);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	count(C_IOCTL);
	if (req == PMEMFLUSH_FLUSH && arg &&
	    __atomic_load_n(&count_on, __ATOMIC_RELAXED) &&
	    (((struct pmemflush_flush *)arg)->flags & PMEMFLUSH_BY_ID))
		count(C_FLUSH_ID);
	return LIBC(ioctl)(fd, req, arg);
}

int msync(void *addr, size_t len, int flags)
{
	count(C_MSYNC);
	return LIBC(msync)(addr, len, flags);
}

int open(const char *path, int flags, ...)
{
	int mode = 0;

	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	count(C_OPEN);
	return LIBC(open)(path, flags, mode);
}

ssize_t read(int fd, void *buf, size_t len)
{
	count(C_READ);
	return LIBC(read)(fd, buf, len);
}

ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	count(C_READ);
	return LIBC(pread)(fd, buf, len, off);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	count(C_WRITE);
	return LIBC(write)(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	count(C_WRITE);
	return LIBC(pwrite)(fd, buf, len, off);
}

int fsync(int fd)
{
	count(C_FSYNC);
	return LIBC(fsync)(fd);
}

static void report(const char *op, const char *library, size_t size,
		   uint64_t *ns, int n, const char *extra)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("{\"target\":\"%s\",\"op\":\"%s\",\"library\":\"%s\",\"size\":%zu,"
	       "\"n\":%d,\"median_us\":%.3f,\"p99_us\":%.3f%s%s}\n",
	       label, op, library, size, n, ns[n / 2] / 1e3,
	       ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e3,
	       extra ? "," : "", extra ? extra : "");
	fflush(stdout);
}

/*
 * Time fn until MIN_SAMPLES (fast ops) or the budget is spent (slow ops,
 * at least FEW_SAMPLES); before each timed call, prep runs untimed.
 */
static int sample(uint64_t *ns, int (*fn)(void *), void (*prep)(void *),
		  void *arg)
{
	uint64_t start = now_ns(), t;
	int n;

	for (n = 0; n < MAX_SAMPLES; n++) {
		if (prep)
			prep(arg);
		t = now_ns();
		if (fn(arg))
			return -1;
		ns[n] = now_ns() - t;
		if (n + 1 >= FEW_SAMPLES && now_ns() - start > BUDGET_NS)
			return n + 1;
		if (n + 1 >= MIN_SAMPLES && now_ns() - start > BUDGET_NS / 8)
			return n + 1;
	}
	return n;
}

static int open_target(int *is_file)
{
	return bench_open_target(target, is_file);
}

/* floor: what the kernel side costs, without any library */
struct floor_ctx {
	int dev, fd, sysfs;
	__u32 id;
	char *map;
	size_t len;
};

static int null_ioctl(void *p)
{
	struct floor_ctx *c = p;

	return LIBC(ioctl)(c->dev, _IO(PMEMFLUSH_TYPE, 0x7f), NULL) == -1 &&
	       errno == ENOTTY ? 0 : -1;
}

static int flush_ioctl(void *p)
{
	struct floor_ctx *c = p;
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .fd = c->fd, .offset = 0, .length = 64,
	};

	return LIBC(ioctl)(c->dev, PMEMFLUSH_FLUSH, &arg);
}

static int flush_id_ioctl(void *p)
{
	struct floor_ctx *c = p;
	struct pmemflush_flush arg = {
		.size = sizeof(arg), .flags = PMEMFLUSH_BY_ID, .id = c->id,
		.offset = 0, .length = 64,
	};

	return LIBC(ioctl)(c->dev, PMEMFLUSH_FLUSH, &arg);
}

/* an id for @fd on the open /dev/pmemflush @dev, or 0 (errno set) */
static __u32 register_fd(int dev, int fd)
{
	struct pmemflush_register arg = { .size = sizeof(arg), .fd = fd };

	return ioctl(dev, PMEMFLUSH_REGISTER, &arg) ? 0 : arg.id;
}

static void unregister_id(int dev, __u32 id)
{
	struct pmemflush_unregister arg = { .size = sizeof(arg), .id = id };

	if (id && ioctl(dev, PMEMFLUSH_UNREGISTER, &arg))
		perror("PMEMFLUSH_UNREGISTER");
}

/* what PMDK does per call: read deep_flush, write "1" when it says 1 */
static int sysfs_deep_flush(void *p)
{
	struct floor_ctx *c = p;
	char buf[8];

	if (LIBC(pread)(c->sysfs, buf, sizeof(buf), 0) <= 0)
		return -1;
	if (buf[0] == '1' && LIBC(pwrite)(c->sysfs, "1", 1, 0) != 1)
		return -1;
	return 0;
}

static void store_page(void *p)
{
	struct floor_ctx *c = p;

	c->map[0]++;
}

static int msync_page(void *p)
{
	struct floor_ctx *c = p;

	return LIBC(msync)(c->map, 4096, MS_SYNC);
}

/* the region's deep_flush file, found the way sysfs lays it out */
static int open_sysfs_deep_flush(int target_fd)
{
	char link[128], real[PATH_MAX], path[PATH_MAX];
	struct stat st;
	const char *r;
	dev_t dev;
	int id, fd;

	if (fstat(target_fd, &st))
		return -1;
	dev = S_ISCHR(st.st_mode) ? st.st_rdev : st.st_dev;
	snprintf(link, sizeof(link), "/sys/dev/%s/%u:%u",
		 S_ISCHR(st.st_mode) ? "char" : "block", major(dev), minor(dev));
	if (!realpath(link, real))
		return -1;
	r = strstr(real, "/region");
	if (!r || sscanf(r, "/region%d", &id) != 1)
		return -1;
	snprintf(path, sizeof(path), "/sys/bus/nd/devices/region%d/deep_flush", id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	/* 0444 where the platform needs no flush: PMDK then only reads it */
	return fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC);
}

/* one timed call of fn into *ns */
static int time_one(int (*fn)(void *), void *arg, uint64_t *ns)
{
	uint64_t t = now_ns();

	if (fn(arg))
		return -1;
	*ns = now_ns() - t;
	return 0;
}

static int bench_floor(void)
{
	struct floor_ctx c = { .sysfs = -1 };
	static uint64_t ns[MAX_SAMPLES], ns2[MAX_SAMPLES], ns3[MAX_SAMPLES];
	int n, i, by_id, is_file, reg_errno;
	uint64_t start;

	c.dev = open("/dev/pmemflush", O_RDWR | O_CLOEXEC);
	c.fd = open_target(&is_file);
	if (c.dev < 0 || c.fd < 0)
		return 1;
	/* registered once; FLUSH by id then skips resolving the fd */
	c.id = register_fd(c.dev, c.fd);
	reg_errno = errno;
	/*
	 * interleaved, so that drift in the host's speed hits all alike; the
	 * flushes by fd and by id swap places every round, so that neither
	 * always runs right after the null ioctl. Where a flush is a round
	 * trip to the host (virtio-pmem), MIN_SAMPLES rounds will do.
	 */
	start = now_ns();
	for (n = 0; n < MAX_SAMPLES &&
	     (n < MIN_SAMPLES || now_ns() - start < BUDGET_NS / 8); n++) {
		if (time_one(null_ioctl, &c, &ns[n]))
			return 1;
		for (i = 0; i < 2; i++) {
			by_id = (n + i) & 1;
			if (by_id && !c.id)
				continue;
			if (time_one(by_id ? flush_id_ioctl : flush_ioctl, &c,
				     by_id ? &ns3[n] : &ns2[n]))
				return 1;
		}
	}
	report("null_ioctl", "none", 0, ns, n, NULL);
	report("flush_ioctl", "none", 64, ns2, n, NULL);
	if (c.id)
		report("flush_ioctl_id", "none", 64, ns3, n, NULL);
	else
		printf("{\"target\":\"%s\",\"op\":\"flush_ioctl_id\",\"absent\":true,"
		       "\"error\":\"PMEMFLUSH_REGISTER: %s\"}\n", label,
		       strerror(reg_errno));
	unregister_id(c.dev, c.id);

	/* read-only (0444) where the platform needs no flush: read it then */
	c.sysfs = open_sysfs_deep_flush(c.fd);
	if (c.sysfs < 0) {
		c.sysfs = -1;
		printf("{\"target\":\"%s\",\"op\":\"sysfs_deep_flush\",\"absent\":true}\n",
		       label);
	} else {
		n = sample(ns, sysfs_deep_flush, NULL, &c);
		if (n > 0)
			report("sysfs_deep_flush", "none", 0, ns, n, NULL);
	}

	if (is_file) {
		c.map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, c.fd, 0);
		if (c.map == MAP_FAILED)
			return 1;
		n = sample(ns, msync_page, store_page, &c);
		if (n > 0)
			report("msync", "none", 4096, ns, n, NULL);
	}
	return 0;
}

/* pmem2: the library path a program takes */
struct pmem2_ctx {
	struct pmem2_map *map;
	char *addr;
	size_t size;
};

static int map_target(struct pmem2_ctx *c, int fd)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	int ret;

	if (pmem2_config_new(&cfg) || pmem2_source_from_fd(&src, fd))
		return -1;
	pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
	ret = pmem2_map_new(&c->map, cfg, src);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	if (ret) {
		fprintf(stderr, "pmem2_map_new: %s\n", pmem2_errormsg());
		return -1;
	}
	c->addr = pmem2_map_get_address(c->map);
	return 0;
}

static void store_range(void *p)
{
	struct pmem2_ctx *c = p;
	size_t i;

	for (i = 0; i < c->size; i += 64)
		c->addr[i]++;
}

static int deep_flush(void *p)
{
	struct pmem2_ctx *c = p;
	int ret = pmem2_deep_flush(c->map, c->addr, c->size);

	if (ret)
		fprintf(stderr, "pmem2_deep_flush: %d %s\n", ret, pmem2_errormsg());
	return ret;
}

/* a store and its deep flush together: what an application pays per update */
static int store_and_deep_flush(void *p)
{
	store_range(p);
	return deep_flush(p);
}

static const char *granularity_name(enum pmem2_granularity g)
{
	switch (g) {
	case PMEM2_GRANULARITY_BYTE:
		return "byte";
	case PMEM2_GRANULARITY_CACHE_LINE:
		return "cache_line";
	default:
		return "page";
	}
}

/*
 * The library's calls per op, from an untimed pass of up to COUNT_CALLS
 * calls (at least COUNT_MIN, else until COUNT_NS is spent), as JSON fields
 * appended to @extra; -1 when fn fails. Slow ops (PMDK's region lookup on
 * device-dax takes over 100 ms in TCG) get the few calls the budget allows.
 */
#define COUNT_CALLS	100
#define COUNT_MIN	3
#define COUNT_NS	1000000000ULL

static int count_calls(int (*fn)(void *), void (*prep)(void *), void *arg,
		       char *extra, size_t len)
{
	uint64_t start = now_ns();
	size_t off;
	int n, i;

	for (i = 0; i < C_MAX; i++)
		__atomic_store_n(&counts[i], 0, __ATOMIC_RELAXED);
	for (n = 0; n < COUNT_CALLS &&
	     (n < COUNT_MIN || now_ns() - start < COUNT_NS); n++) {
		int ret;

		if (prep)
			prep(arg);
		__atomic_store_n(&count_on, 1, __ATOMIC_RELAXED);
		ret = fn(arg);
		__atomic_store_n(&count_on, 0, __ATOMIC_RELAXED);
		if (ret)
			return -1;
	}
	off = strlen(extra);
	for (i = 0; i < C_MAX && off < len; i++) {
		unsigned long v = __atomic_load_n(&counts[i], __ATOMIC_RELAXED);

		off += snprintf(extra + off, len - off, ",\"%s_per_op\":%.2f",
				count_names[i], (double)v / n);
	}
	if (off < len)
		snprintf(extra + off, len - off, ",\"counted_calls\":%d", n);
	return 0;
}

static int bench_pmem2(void)
{
	static const size_t sizes[] = { 64, 4096, 2UL << 20 };
	static uint64_t ns[MAX_SAMPLES];
	struct pmem2_ctx c;
	char gran[64], extra[256];
	int fd, n, is_file;
	unsigned int i;

	fd = open_target(&is_file);
	if (fd < 0 || map_target(&c, fd))
		return 1;
	snprintf(gran, sizeof(gran), "\"granularity\":\"%s\"",
		 granularity_name(pmem2_map_get_store_granularity(c.map)));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		c.size = sizes[i];
		n = sample(ns, deep_flush, store_range, &c);
		if (n < 0)
			return 1;
		strcpy(extra, gran);
		if (count_calls(deep_flush, store_range, &c, extra, sizeof(extra)))
			return 1;
		report("pmem2_deep_flush", LIBRARY, c.size, ns, n, extra);
	}
	c.size = 4096;
	n = sample(ns, store_and_deep_flush, NULL, &c);
	if (n < 0)
		return 1;
	strcpy(extra, gran);
	if (count_calls(store_and_deep_flush, NULL, &c, extra, sizeof(extra)))
		return 1;
	report("store_and_deep_flush", LIBRARY, c.size, ns, n, extra);
	pmem2_map_delete(&c.map);
	close(fd);
	return 0;
}

/* threads: N flushers on one region for a fixed time */
struct thread_ctx {
	struct pmem2_ctx c;
	volatile int *stop;
	long ops;
	int err;
};

static void *flusher(void *p)
{
	struct thread_ctx *t = p;

	while (!*t->stop) {
		t->c.addr[0]++;
		if (pmem2_deep_flush(t->c.map, t->c.addr, 64)) {
			t->err = 1;
			break;
		}
		t->ops++;
	}
	return NULL;
}

static int bench_threads(int nthreads)
{
	struct thread_ctx t[64];
	volatile int stop = 0;
	pthread_t tid[64];
	long long fs0, fs1;
	uint64_t start, elapsed;
	long ops = 0;
	int fd, i, is_file, err = 0;

	if (nthreads < 1 || nthreads > 64)
		return 1;
	fd = open_target(&is_file);
	if (fd < 0)
		return 1;
	memset(t, 0, sizeof(t));
	if (map_target(&t[0].c, fd))
		return 1;
	fs0 = read_count();
	start = now_ns();
	for (i = 0; i < nthreads; i++) {
		t[i].c = t[0].c;
		/* each thread stores into its own cache line of the map */
		t[i].c.addr += 64 * i;
		t[i].stop = &stop;
		if (pthread_create(&tid[i], NULL, flusher, &t[i]))
			return 1;
	}
	sleep(THREAD_SECONDS);
	stop = 1;
	for (i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		ops += t[i].ops;
		err |= t[i].err;
	}
	elapsed = now_ns() - start;
	fs1 = read_count();
	printf("{\"target\":\"%s\",\"op\":\"threads\",\"library\":\"%s\",\"threads\":%d,"
	       "\"ops\":%ld,\"ops_per_s\":%.1f,\"fsync_per_op\":%.3f}\n",
	       label, LIBRARY, nthreads, ops, ops * 1e9 / elapsed,
	       fs0 >= 0 && ops ? (double)(fs1 - fs0) / ops : -1.0);
	pmem2_map_delete(&t[0].c.map);
	close(fd);
	return err;
}

/*
 * idthreads: N threads on one open /dev/pmemflush and one id, raw FLUSH of
 * 64 B with no CPU flush: what group commit makes of concurrent callers.
 * Several thread counts take turns in short slices, so that drift in the
 * host's speed hits every count alike and their ratios stay fair.
 */
#define ID_ROUNDS	6	/* slices of THREAD_SECONDS per thread count */
#define MAX_COUNTS	8

struct id_thread_ctx {
	int dev;
	__u32 id;
	volatile int *stop;
	long ops;
	__u64 seq_first, seq_last;	/* device flushes that served the calls */
	int err;
};

/* what one thread count did over all its slices */
struct id_result {
	int nthreads;
	long ops;
	uint64_t ns;
	long long fsyncs;	/* -1: no count file */
	__u64 dev_flushes;
};

static void *id_flusher(void *p)
{
	struct id_thread_ctx *t = p;
	struct pmemflush_flush arg;

	while (!*t->stop) {
		arg = (struct pmemflush_flush){
			.size = sizeof(arg), .flags = PMEMFLUSH_BY_ID,
			.id = t->id, .offset = 0, .length = 64,
		};
		if (LIBC(ioctl)(t->dev, PMEMFLUSH_FLUSH, &arg)) {
			t->err = errno;
			break;
		}
		if (!t->ops || arg.flush_seq < t->seq_first)
			t->seq_first = arg.flush_seq;
		if (arg.flush_seq > t->seq_last)
			t->seq_last = arg.flush_seq;
		t->ops++;
	}
	return NULL;
}

/* one slice of @res->nthreads flushers, added to @res */
static int id_slice(int dev, __u32 id, uint64_t slice_ns, struct id_result *res)
{
	struct timespec ts = {
		.tv_sec = slice_ns / 1000000000ULL,
		.tv_nsec = slice_ns % 1000000000ULL,
	};
	struct id_thread_ctx t[64];
	volatile int stop = 0;
	pthread_t tid[64];
	__u64 first = UINT64_MAX, last = 0;
	long long fs0, fs1;
	uint64_t start;
	long ops = 0;
	int i, err = 0;

	memset(t, 0, sizeof(t));
	fs0 = read_count();
	start = now_ns();
	for (i = 0; i < res->nthreads; i++) {
		t[i].dev = dev;
		t[i].id = id;
		t[i].stop = &stop;
		if (pthread_create(&tid[i], NULL, id_flusher, &t[i]))
			return -1;
	}
	nanosleep(&ts, NULL);
	stop = 1;
	for (i = 0; i < res->nthreads; i++) {
		pthread_join(tid[i], NULL);
		if (t[i].err) {
			fprintf(stderr, "PMEMFLUSH_FLUSH by id: %s\n",
				strerror(t[i].err));
			err = -1;
		}
		if (!t[i].ops)
			continue;
		ops += t[i].ops;
		if (t[i].seq_first < first)
			first = t[i].seq_first;
		if (t[i].seq_last > last)
			last = t[i].seq_last;
	}
	res->ns += now_ns() - start;
	fs1 = read_count();
	res->ops += ops;
	if (ops)
		res->dev_flushes += last - first + 1;
	if (fs0 < 0 || fs1 < 0)
		res->fsyncs = -1;
	else if (res->fsyncs >= 0)
		res->fsyncs += fs1 - fs0;
	return err;
}

static int bench_idthreads(int ncounts, char **counts)
{
	struct id_result res[MAX_COUNTS];
	uint64_t slice_ns = THREAD_SECONDS * 1000000000ULL / ID_ROUNDS;
	int dev, fd, i, k, round, is_file;
	__u32 id;

	if (ncounts < 1 || ncounts > MAX_COUNTS)
		return 2;
	memset(res, 0, sizeof(res));
	for (i = 0; i < ncounts; i++) {
		res[i].nthreads = atoi(counts[i]);
		if (res[i].nthreads < 1 || res[i].nthreads > 64)
			return 2;
	}
	dev = open("/dev/pmemflush", O_RDWR | O_CLOEXEC);
	fd = open_target(&is_file);
	if (dev < 0 || fd < 0)
		return 1;
	id = register_fd(dev, fd);
	if (!id) {
		perror("PMEMFLUSH_REGISTER");
		return 1;
	}
	/* every other round runs the counts in reverse order */
	for (round = 0; round < ID_ROUNDS; round++) {
		for (k = 0; k < ncounts; k++) {
			i = round & 1 ? ncounts - 1 - k : k;
			if (id_slice(dev, id, slice_ns, &res[i]))
				return 1;
		}
	}
	for (i = 0; i < ncounts; i++) {
		struct id_result *r = &res[i];

		printf("{\"target\":\"%s\",\"op\":\"idthreads\",\"library\":\"none\","
		       "\"threads\":%d,\"rounds\":%d,\"ops\":%ld,\"ops_per_s\":%.1f,"
		       "\"fsync_per_op\":%.3f,\"dev_flush_per_op\":%.3f}\n",
		       label, r->nthreads, ID_ROUNDS, r->ops,
		       r->ops * 1e9 / r->ns,
		       r->fsyncs >= 0 && r->ops ? (double)r->fsyncs / r->ops : -1.0,
		       r->ops ? (double)r->dev_flushes / r->ops : -1.0);
	}
	unregister_id(dev, id);
	close(fd);
	close(dev);
	return 0;
}

/*
 * The instrument: what one clock read costs and whether it is a system
 * call. Every timed interval holds one read, so a clock that costs
 * microseconds pulls every ratio towards 1.
 */
static int bench_clock(void)
{
	static uint64_t ns[CLOCK_READS];
	long long calls = -1;
	char src[64] = "unknown";
	FILE *f;
	int pfd, i;

	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (!fgets(src, sizeof(src), f))
			strcpy(src, "unknown");
		src[strcspn(src, "\n")] = 0;
		fclose(f);
	}
	pfd = bench_syscall_counter();
	if (pfd >= 0) {
		ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
		for (i = 0; i < CLOCK_READS; i++)
			now_ns();
		ioctl(pfd, PERF_EVENT_IOC_DISABLE, 0);
		calls = bench_syscalls_read(pfd);
		close(pfd);
	}
	for (i = 0; i < CLOCK_READS; i++) {
		uint64_t t = now_ns();

		ns[i] = now_ns() - t;
	}
	qsort(ns, CLOCK_READS, sizeof(*ns), cmp_u64);
	/* the disabling ioctl is counted too */
	printf("{\"target\":\"%s\",\"op\":\"clock\",\"clocksource\":\"%s\","
	       "\"read_ns\":%llu,\"syscalls_per_read\":%.3f}\n", label, src,
	       (unsigned long long)ns[CLOCK_READS / 2],
	       calls < 0 ? -1.0 : (calls - 1.0) / CLOCK_READS);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s clock|floor|pmem2|threads|idthreads TARGET [N...]\n", argv[0]);
		return 2;
	}
	target = argv[2];
	label = getenv("BENCH_NAME") ? getenv("BENCH_NAME") : target;
	if (!strcmp(argv[1], "clock"))
		return bench_clock();
	if (!strcmp(argv[1], "floor"))
		return bench_floor();
	if (!strcmp(argv[1], "pmem2"))
		return bench_pmem2();
	if (!strcmp(argv[1], "threads") && argc == 4)
		return bench_threads(atoi(argv[3]));
	if (!strcmp(argv[1], "idthreads"))
		return bench_idthreads(argc - 3, argv + 3);
	fprintf(stderr, "%s: unknown mode %s\n", argv[0], argv[1]);
	return 2;
}
