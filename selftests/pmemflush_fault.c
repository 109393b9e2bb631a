// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection into every command path (QEMU stack, built as
 * pmemflush_fault-injection.qemu). For n = 1, 2, ... the n-th fault point
 * of one command fails (/proc/thread-self/fail-nth, with failslab and
 * fail_page_alloc armed for every allocation of this task and nothing
 * else), until a command passes all its fault points. Each command must
 * then succeed, with the result it has without faults, or return its
 * documented errno (ENOMEM; EIO for a failed device flush), and leave
 * nothing behind: the next command on the same open file works, a failed
 * REGISTER takes no id, no region object outlives its users, and kmemleak
 * finds nothing of the module's.
 *
 * Needs a kernel with CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS
 * (the sanitizer kernel of tools/debug-kernel.sh); elsewhere every test
 * skips, saying so.
 */
#include <stddef.h>
#include <sys/utsname.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#define DBG		"/sys/kernel/debug"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define MAX_POINTS	5000
#define NERR		200

/* a note in the TAP output */
#define note(fmt, ...) fprintf(stderr, "# " fmt "\n", ##__VA_ARGS__)

/* failslab and fail_page_alloc: only fail-nth fires, silently */
static const struct knob {
	const char *file;
	const char *value;
	int optional;
} knobs[] = {
	{ DBG "/failslab/probability", "0", 0 },
	{ DBG "/failslab/interval", "1", 0 },
	{ DBG "/failslab/times", "-1", 0 },
	{ DBG "/failslab/space", "0", 0 },
	{ DBG "/failslab/verbose", "0", 0 },
	{ DBG "/failslab/task-filter", "N", 0 },
	{ DBG "/failslab/ignore-gfp-wait", "N", 0 },
	{ DBG "/failslab/cache-filter", "N", 0 },
	{ DBG "/fail_page_alloc/probability", "0", 1 },
	{ DBG "/fail_page_alloc/interval", "1", 1 },
	{ DBG "/fail_page_alloc/times", "-1", 1 },
	{ DBG "/fail_page_alloc/space", "0", 1 },
	{ DBG "/fail_page_alloc/verbose", "0", 1 },
	{ DBG "/fail_page_alloc/task-filter", "N", 1 },
	{ DBG "/fail_page_alloc/ignore-gfp-wait", "N", 1 },
	{ DBG "/fail_page_alloc/ignore-gfp-highmem", "N", 1 },
	{ DBG "/fail_page_alloc/min-order", "0", 1 },
};

#define NKNOBS (sizeof(knobs) / sizeof(knobs[0]))

/* why the tests skip, or "" */
static void fault_unavailable(char *why, size_t len)
{
	struct utsname u;
	struct stat st;

	why[0] = '\0';
	uname(&u);
	if (stat(DBG "/failslab", &st))
		snprintf(why, len, "no " DBG "/failslab on %s: kernel without CONFIG_FAULT_INJECTION/CONFIG_FAILSLAB/CONFIG_FAULT_INJECTION_DEBUG_FS",
			 u.release);
	else if (stat(FAIL_NTH, &st))
		snprintf(why, len, "no " FAIL_NTH " on %s", u.release);
}

struct target {
	const char *name;
	char path[PATH_MAX];
	int fd;
	struct pmemflush_query q;	/* without faults */
};

enum { T_DEVDAX, T_EXT4, T_XFS, T_PMEM, T_VIRTIO, NTARGETS };

FIXTURE(fault)
{
	int armed;
	char saved[NKNOBS][32];
	int have[NKNOBS];
	int nth;		/* /proc/thread-self/fail-nth */
	struct target t[NTARGETS];
	char *map;		/* 2 MiB of the device-dax device, shared */
	int dev;		/* the open /dev/pmemflush a path works on */
	__u32 id;		/* a registered id of the path's target */
	const struct target *cur;
	/* the sweep's tally: results by errno, and the unexpected ones */
	int points;
	long results[NERR];
	int bad, wrong, inconsistent;
};

/* the files the tests use, opened once without faults */
static int open_targets(struct __test_metadata *_metadata,
			FIXTURE_DATA(fault) *self)
{
	static const char *const env[NTARGETS] = {
		"PMF_NFIT_DEVDAX", "PMF_NFIT_EXT4", "PMF_NFIT_XFS",
		"PMF_NFIT_PMEM", "PMF_VIRTIO_DEVDAX",
	};
	static const char *const names[NTARGETS] = {
		"device-dax", "ext4 DAX file", "xfs DAX file",
		"fsdax block device", "virtio-pmem device-dax",
	};
	int i, dev;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev) TH_LOG("%s: %s", PMEMFLUSH_DEV, strerror(errno));
	for (i = 0; i < NTARGETS; i++) {
		struct target *t = &self->t[i];
		const char *p = getenv(env[i]);

		t->name = names[i];
		ASSERT_NE(NULL, p) TH_LOG("%s is not set", env[i]);
		if (i == T_EXT4 || i == T_XFS) {
			snprintf(t->path, sizeof(t->path), "%s/pmf-fault", p);
			t->fd = open(t->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
			ASSERT_LE(0, t->fd) TH_LOG("%s: %s", t->path, strerror(errno));
			ASSERT_EQ(0, ftruncate(t->fd, 1 << 20));
		} else {
			snprintf(t->path, sizeof(t->path), "%s", p);
			t->fd = open(t->path, O_RDWR | O_CLOEXEC);
			ASSERT_LE(0, t->fd) TH_LOG("%s: %s", t->path, strerror(errno));
		}
		ASSERT_EQ(0, pmf_query(dev, t->fd, &t->q))
			TH_LOG("%s: %s", t->path, strerror(errno));
	}
	close(dev);
	self->map = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->t[T_DEVDAX].fd, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	return 0;
}

FIXTURE_SETUP(fault)
{
	char why[256];
	unsigned int i;

	self->nth = -1;
	self->dev = -1;
	for (i = 0; i < NTARGETS; i++)
		self->t[i].fd = -1;
	self->map = MAP_FAILED;
	fault_unavailable(why, sizeof(why));
	if (why[0])
		SKIP(return, "%s", why);

	for (i = 0; i < NKNOBS; i++) {
		self->have[i] = !pmf_read_line(knobs[i].file, self->saved[i],
					       sizeof(self->saved[i]));
		if (!self->have[i]) {
			ASSERT_TRUE(knobs[i].optional) TH_LOG("%s missing", knobs[i].file);
			continue;
		}
		ASSERT_EQ(0, pmf_write_file(knobs[i].file, knobs[i].value, O_TRUNC))
			TH_LOG("%s: %s", knobs[i].file, strerror(errno));
	}
	self->armed = 1;
	self->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	open_targets(_metadata, self);
	/*
	 * Every page this process touches is present and its own (the fork
	 * of the harness shares them copy-on-write): a page fault inside a
	 * command's window would allocate, and take the fault meant for it.
	 */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
}

FIXTURE_TEARDOWN(fault)
{
	unsigned int i;

	if (self->map != MAP_FAILED)
		munmap(self->map, 2 << 20);
	for (i = 0; i < NTARGETS; i++) {
		if (self->t[i].fd >= 0)
			close(self->t[i].fd);
		if (self->t[i].fd >= 0 && (i == T_EXT4 || i == T_XFS))
			unlink(self->t[i].path);
	}
	if (self->dev >= 0)
		close(self->dev);
	if (self->nth >= 0)
		close(self->nth);
	for (i = 0; self->armed && i < NKNOBS; i++)
		if (self->have[i])
			pmf_write_file(knobs[i].file, self->saved[i], O_TRUNC);
}

/* an errno's name, "ok" for 0 */
static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "ok";

	return s ? s : "unknown errno";
}

static int nth_set(FIXTURE_DATA(fault) *self, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(self->nth, buf, len, 0) == len ? 0 : -1;
}

static long nth_get(FIXTURE_DATA(fault) *self)
{
	char buf[16];
	ssize_t n = pread(self->nth, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 0);
}

/*
 * One command path: prepare() sets up what the command needs (no faults),
 * run() issues the command alone and returns 0 or its errno, check() looks
 * at the state it left (no faults) and returns a description of what is
 * wrong or NULL; then the path's open /dev/pmemflush is closed.
 */
struct path {
	const char *name;
	int target;
	int (*prepare)(FIXTURE_DATA(fault) *self);
	int (*run)(FIXTURE_DATA(fault) *self);
	const char *(*check)(FIXTURE_DATA(fault) *self, int err);
	int eio;	/* EIO is documented: a device flush ran */
	int query;	/* a success must return what QUERY returns without faults */
	int may_not_allocate;	/* a path that may have no fault point */
};

static int ioctl_err(int dev, unsigned long cmd, void *arg)
{
	return ioctl(dev, cmd, arg) ? errno : 0;
}

static int prep_dev(FIXTURE_DATA(fault) *self)
{
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	return self->dev < 0 ? -1 : 0;
}

static int prep_id(FIXTURE_DATA(fault) *self)
{
	long long id;

	if (prep_dev(self))
		return -1;
	id = pmf_register(self->dev, self->cur->fd);
	if (id < 0)
		return -1;
	self->id = id;
	return 0;
}

static void cleanup_dev(FIXTURE_DATA(fault) *self)
{
	if (self->dev >= 0)
		close(self->dev);
	self->dev = -1;
}

/* QUERY's output, compared with the one without faults */
static int query_differs(const struct pmemflush_query *a,
			 const struct pmemflush_query *b)
{
	return a->region_id != b->region_id || a->has_flush != b->has_flush ||
	       a->persistence_domain != b->persistence_domain ||
	       a->target_kind != b->target_kind ||
	       a->out_flags != b->out_flags ||
	       a->target_size != b->target_size;
}

/* the last QUERY's output, for check() */
static struct pmemflush_query last_q;

static int run_open(FIXTURE_DATA(fault) *self)
{
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	return self->dev < 0 ? errno : 0;
}

static const char *check_open(FIXTURE_DATA(fault) *self, int err)
{
	(void)err;
	cleanup_dev(self);
	if (prep_dev(self))
		return "open without a fault fails";
	if (pmf_unregister(self->dev, 0) != -1 || errno != ENOENT)
		return "the next open file does not answer";
	return NULL;
}

static int run_query_fd(FIXTURE_DATA(fault) *self)
{
	memset(&last_q, 0, sizeof(last_q));
	last_q.size = sizeof(last_q);
	last_q.fd = self->cur->fd;
	return ioctl_err(self->dev, PMEMFLUSH_QUERY, &last_q);
}

static int run_query_id(FIXTURE_DATA(fault) *self)
{
	memset(&last_q, 0, sizeof(last_q));
	last_q.size = sizeof(last_q);
	last_q.flags = PMEMFLUSH_BY_ID;
	last_q.id = self->id;
	return ioctl_err(self->dev, PMEMFLUSH_QUERY, &last_q);
}

/* the same QUERY again, without a fault: the open file is not poisoned */
static const char *check_query(FIXTURE_DATA(fault) *self, int err)
{
	struct pmemflush_query q;
	int rc;

	(void)err;
	rc = self->id ? pmf_query_id(self->dev, self->id, &q) :
			pmf_query(self->dev, self->cur->fd, &q);
	if (rc)
		return "the next QUERY fails";
	if (query_differs(&q, &self->cur->q))
		return "the next QUERY answers differently";
	return NULL;
}

static int run_flush_fd(FIXTURE_DATA(fault) *self)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .fd = self->cur->fd, .length = 4096,
	};

	return ioctl_err(self->dev, PMEMFLUSH_FLUSH, &f);
}

static int run_flush_id(FIXTURE_DATA(fault) *self)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = PMEMFLUSH_BY_ID, .id = self->id,
		.length = 4096,
	};

	return ioctl_err(self->dev, PMEMFLUSH_FLUSH, &f);
}

/*
 * The next FLUSH works and reports the region; the region's group commit
 * is idle again (every device flush issued has completed).
 */
static const char *check_flush(FIXTURE_DATA(fault) *self, int err)
{
	unsigned long long issued, completed;
	struct pmemflush_flush f;
	int rc;

	(void)err;
	rc = self->id ? pmf_flush_id(self->dev, self->id, 0, 4096, &f) :
			pmf_flush(self->dev, self->cur->fd, 0, 4096, &f);
	if (rc)
		return "the next FLUSH fails";
	if (f.region_id != self->cur->q.region_id)
		return "the next FLUSH flushes another region";
	if (f.out_flags & PMEMFLUSH_FLUSHED_DEVICE) {
		if (pmf_region_seq(f.region_id, &issued, &completed))
			return "the region is missing from debugfs regions";
		if (issued != completed)
			return "the region's group commit is left busy";
	}
	return NULL;
}

static int run_register_fd(FIXTURE_DATA(fault) *self)
{
	struct pmemflush_register r = { .size = sizeof(r), .fd = self->cur->fd };

	return ioctl_err(self->dev, PMEMFLUSH_REGISTER, &r);
}

static int run_register_addr(FIXTURE_DATA(fault) *self)
{
	struct pmemflush_register r = {
		.size = sizeof(r), .flags = PMEMFLUSH_BY_ADDR,
		.addr = (__u64)(uintptr_t)self->map, .length = 4096,
	};

	return ioctl_err(self->dev, PMEMFLUSH_REGISTER, &r);
}

/* a failed REGISTER took no id: the next one is the lowest free id */
static const char *check_register(FIXTURE_DATA(fault) *self, int err)
{
	long long id = pmf_register(self->dev, self->cur->fd);

	if (id < 0)
		return "the next REGISTER fails";
	if (id != (err ? 1 : 2))
		return err ? "a failed REGISTER took an id" :
			     "a REGISTER took another id than 1";
	if (pmf_flush_id(self->dev, id, 0, 4096, NULL))
		return "the next id does not flush";
	if (!err && pmf_flush_id(self->dev, 1, 0, 4096, NULL))
		return "the id REGISTER returned does not flush";
	return NULL;
}

static int run_unregister(FIXTURE_DATA(fault) *self)
{
	struct pmemflush_unregister u = { .size = sizeof(u), .id = self->id };

	return ioctl_err(self->dev, PMEMFLUSH_UNREGISTER, &u);
}

static const char *check_unregister(FIXTURE_DATA(fault) *self, int err)
{
	if (err) {
		if (pmf_flush_id(self->dev, self->id, 0, 4096, NULL))
			return "a failed UNREGISTER dropped the id";
		if (pmf_unregister(self->dev, self->id))
			return "the id cannot be unregistered after a failed UNREGISTER";
	}
	if (pmf_flush_id(self->dev, self->id, 0, 4096, NULL) != -1 ||
	    errno != ENOENT)
		return "the unregistered id still answers";
	if (pmf_register(self->dev, self->cur->fd) != 1)
		return "the unregistered id is not free again";
	return NULL;
}

/*
 * Sweep @p: n = 1, 2, ... until the command passes all its fault points.
 */
static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(fault) *self,
		  const struct path *p)
{
	struct timespec t0, t1;
	char line[512];
	const char *why;
	long left = 0;
	int n, err, len, i;

	self->cur = &self->t[p->target];
	memset(self->results, 0, sizeof(self->results));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 1; n <= MAX_POINTS; n++) {
		self->id = 0;
		ASSERT_EQ(0, p->prepare(self))
			TH_LOG("%s: setting up: %s", p->name, strerror(errno));
		ASSERT_EQ(0, nth_set(self, n));
		err = p->run(self);
		left = nth_get(self);
		ASSERT_EQ(0, nth_set(self, 0));
		ASSERT_LE(0, left);
		if (err < 0 || err >= NERR)
			err = NERR - 1;
		if (!left) {
			self->results[err]++;
			if (err && err != ENOMEM && !(p->eio && err == EIO)) {
				self->bad++;
				note("%s: fault point %d: %s (%s), not a documented errno",
				     p->name, n, errname(err), strerror(err));
			}
		} else if (err) {
			/* fewer than n fault points: this run had no fault */
			self->bad++;
			note("%s: without a fault: %s", p->name, strerror(err));
		}
		if (p->query && !err && query_differs(&last_q, &self->cur->q)) {
			self->wrong++;
			note("%s: fault point %d: succeeded, but persistence_domain %u (without faults %u), region %u (%u), has_flush %d (%d), kind %u (%u), out_flags %#x (%#x), size %llu (%llu)",
			     p->name, n, last_q.persistence_domain,
			     self->cur->q.persistence_domain, last_q.region_id,
			     self->cur->q.region_id, last_q.has_flush,
			     self->cur->q.has_flush, last_q.target_kind,
			     self->cur->q.target_kind, last_q.out_flags,
			     self->cur->q.out_flags,
			     (unsigned long long)last_q.target_size,
			     (unsigned long long)self->cur->q.target_size);
		}
		why = p->check(self, err);
		if (why) {
			self->inconsistent++;
			note("%s: after fault point %d (%s): %s", p->name, n,
			     err ? errname(err) : "succeeded", why);
		}
		cleanup_dev(self);
		if (left)
			break;	/* the command passed all its fault points */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	self->points = n - 1;

	len = snprintf(line, sizeof(line), "%s (%s): %d fault points swept in %.1f s; with the fault:",
		       p->name, self->cur->name, self->points,
		       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < NERR; i++)
		if (self->results[i] && len < (int)sizeof(line))
			len += snprintf(line + len, sizeof(line) - len, " %s %ld",
					errname(i), self->results[i]);
	if (len < (int)sizeof(line))
		snprintf(line + len, sizeof(line) - len, "; without: %s",
			 errname(err));
	note("%s", line);
	EXPECT_LT(n, MAX_POINTS);
	if (!p->may_not_allocate)
		EXPECT_LT(0, self->points) TH_LOG("%s: no fault point fired", p->name);
	EXPECT_EQ(0, self->bad);
	EXPECT_EQ(0, self->inconsistent);
}

static int prep_none(FIXTURE_DATA(fault) *self)
{
	(void)self;
	return 0;
}

FIXTURE_VARIANT(fault)
{
	struct path p;
};

#define PATH_VARIANT(vname, ...) \
	FIXTURE_VARIANT_ADD(fault, vname) { .p = { .name = #vname, __VA_ARGS__ } }

PATH_VARIANT(open, .target = T_DEVDAX, .prepare = prep_none,
	     .run = run_open, .check = check_open);
PATH_VARIANT(query_fd_devdax, .target = T_DEVDAX, .prepare = prep_dev,
	     .run = run_query_fd, .check = check_query, .query = 1);
PATH_VARIANT(query_fd_file, .target = T_EXT4, .prepare = prep_dev,
	     .run = run_query_fd, .check = check_query, .query = 1);
PATH_VARIANT(flush_fd_devdax, .target = T_DEVDAX, .prepare = prep_dev,
	     .run = run_flush_fd, .check = check_flush, .eio = 1);
PATH_VARIANT(flush_fd_ext4_file, .target = T_EXT4, .prepare = prep_dev,
	     .run = run_flush_fd, .check = check_flush, .eio = 1);
PATH_VARIANT(flush_fd_xfs_file, .target = T_XFS, .prepare = prep_dev,
	     .run = run_flush_fd, .check = check_flush, .eio = 1);
/* a block device is not cached: resolved on the stack at every call */
PATH_VARIANT(flush_fd_blockdev, .target = T_PMEM, .prepare = prep_dev,
	     .run = run_flush_fd, .check = check_flush, .eio = 1);
PATH_VARIANT(register_fd, .target = T_DEVDAX, .prepare = prep_dev,
	     .run = run_register_fd, .check = check_register);
PATH_VARIANT(register_fd_file, .target = T_EXT4, .prepare = prep_dev,
	     .run = run_register_fd, .check = check_register);
PATH_VARIANT(register_addr, .target = T_DEVDAX, .prepare = prep_dev,
	     .run = run_register_addr, .check = check_register);
/* on a region without flush hints: barriers under RCU, nothing to allocate */
PATH_VARIANT(flush_id, .target = T_DEVDAX, .prepare = prep_id,
	     .run = run_flush_id, .check = check_flush, .eio = 1,
	     .may_not_allocate = 1);
/*
 * the region's facts are read once, at REGISTER: QUERY by id allocates
 * nothing (it used to read sysfs attributes, with a path each)
 */
PATH_VARIANT(query_id, .target = T_DEVDAX, .prepare = prep_id,
	     .run = run_query_id, .check = check_query, .query = 1,
	     .may_not_allocate = 1);
PATH_VARIANT(unregister, .target = T_DEVDAX, .prepare = prep_id,
	     .run = run_unregister, .check = check_unregister,
	     .may_not_allocate = 1);
PATH_VARIANT(virtio_flush_fd, .target = T_VIRTIO, .prepare = prep_dev,
	     .run = run_flush_fd, .check = check_flush, .eio = 1);
PATH_VARIANT(virtio_flush_id, .target = T_VIRTIO, .prepare = prep_id,
	     .run = run_flush_id, .check = check_flush, .eio = 1);

/* every failure is ENOMEM (or EIO), every success has the right result */
TEST_F_TIMEOUT(fault, sweep, 900)
{
	if (_metadata->skip)
		return;
	sweep(_metadata, self, &variant->p);
	EXPECT_EQ(0, self->wrong)
		TH_LOG("%s: %d successful calls under a fault answered differently than without",
		       variant->p.name, self->wrong);
}

/*
 * The tests after the sweeps: on one open file, REGISTERs under every fault
 * point keep the ids they got, and the open file still takes exactly
 * PMEMFLUSH_MAX_IDS; no region object is left once every file is closed;
 * kmemleak finds nothing of the module's.
 */
FIXTURE(after)
{
	FIXTURE_DATA(fault) f;
};

FIXTURE_SETUP(after)
{
	fault_setup(_metadata, &self->f, NULL);
}

FIXTURE_TEARDOWN(after)
{
	fault_teardown(_metadata, &self->f, NULL);
}

/* REGISTER (@addr: by address) under fault points 1, 2, ... on @dev */
static void register_sweep(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fault) *self, int addr,
			   unsigned char *seen, int *ok, int *failed)
{
	struct pmemflush_register r;
	long left;
	int n, err;

	for (n = 1; n <= MAX_POINTS; n++) {
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		if (addr) {
			r.flags = PMEMFLUSH_BY_ADDR;
			r.addr = (__u64)(uintptr_t)self->map;
			r.length = 4096;
		} else {
			r.fd = self->t[T_DEVDAX].fd;
		}
		ASSERT_EQ(0, nth_set(self, n));
		err = ioctl_err(self->dev, PMEMFLUSH_REGISTER, &r);
		left = nth_get(self);
		ASSERT_EQ(0, nth_set(self, 0));
		if (err) {
			EXPECT_EQ(ENOMEM, err) TH_LOG("fault point %d: %s", n,
						      strerror(err));
			EXPECT_EQ(0, left);
			(*failed)++;
		} else {
			ASSERT_LE(1, r.id);
			ASSERT_GE(PMEMFLUSH_MAX_IDS, r.id);
			EXPECT_EQ(0, seen[r.id]) TH_LOG("id %u twice", r.id);
			seen[r.id] = 1;
			(*ok)++;
		}
		if (left)
			break;
	}
}

TEST_F_TIMEOUT(after, ids_after_failed_registers, 900)
{
	static unsigned char seen[PMEMFLUSH_MAX_IDS + 1];
	FIXTURE_DATA(fault) *f = &self->f;
	int ok = 0, failed = 0, filled = 0, i;
	long long id;

	if (_metadata->skip)
		return;
	f->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f->dev);
	register_sweep(_metadata, f, 0, seen, &ok, &failed);
	register_sweep(_metadata, f, 1, seen, &ok, &failed);
	/* the rest of the ids, with the cheapest target */
	while ((id = pmf_register(f->dev, f->t[T_EXT4].fd)) > 0) {
		ASSERT_GE(PMEMFLUSH_MAX_IDS, id);
		EXPECT_EQ(0, seen[id]) TH_LOG("id %lld twice", id);
		seen[id] = 1;
		filled++;
	}
	EXPECT_EQ(ENOSPC, errno);
	note("REGISTER by fd and by address under every fault point: %d ids, %d ENOMEM; then %d more ids until ENOSPC: %d in all (PMEMFLUSH_MAX_IDS %d)",
	     ok, failed, filled, ok + filled, PMEMFLUSH_MAX_IDS);
	EXPECT_LT(0, failed);
	EXPECT_EQ(PMEMFLUSH_MAX_IDS, ok + filled);
	for (i = 1; i <= PMEMFLUSH_MAX_IDS; i++)
		EXPECT_TRUE(seen[i]) TH_LOG("id %d never given", i);
	/* every id works */
	EXPECT_EQ(0, pmf_flush_id(f->dev, 1, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_flush_id(f->dev, PMEMFLUSH_MAX_IDS, 0, 4096, NULL));
}

/* every file closed: no region object is left in the module */
TEST_F(after, regions_released)
{
	char line[256];
	int left = 0;
	FILE *r;

	if (_metadata->skip)
		return;
	r = fopen(PMF_DEBUGFS "/regions", "r");
	ASSERT_NE(NULL, r) TH_LOG(PMF_DEBUGFS "/regions: %s", strerror(errno));
	while (fgets(line, sizeof(line), r)) {
		line[strcspn(line, "\n")] = '\0';
		note("still in use: %s", line);
		left++;
	}
	fclose(r);
	EXPECT_EQ(0, left);
}

#define KMEMLEAK DBG "/kmemleak"

/*
 * After the sweeps: two kmemleak scans (an object is reported once it is
 * 5 s old and unreferenced in a scan after the one that first saw it
 * change), then no unreferenced object may mention pmemflush, in its
 * allocation backtrace or as the allocating command.
 */
TEST_F_TIMEOUT(after, kmemleak, 900)
{
	char line[512], block[4096];
	int objects = 0, ours = 0, i;
	size_t used = 0;
	struct stat st;
	FILE *k;

	if (_metadata->skip)
		return;
	if (stat(KMEMLEAK, &st))
		SKIP(return, "no " KMEMLEAK " (CONFIG_DEBUG_KMEMLEAK)");
	for (i = 0; i < 2; i++) {
		sleep(6);
		ASSERT_EQ(0, pmf_write_file(KMEMLEAK, "scan", O_TRUNC))
			TH_LOG("scan: %s (kmemleak disabled?)", strerror(errno));
	}
	k = fopen(KMEMLEAK, "r");
	ASSERT_NE(NULL, k);
	block[0] = '\0';
	for (;;) {
		int end = !fgets(line, sizeof(line), k);

		if (end || !strncmp(line, "unreferenced object", 19)) {
			if (used && strstr(block, "pmemflush")) {
				ours++;
				fprintf(stderr, "%s", block);
			}
			if (end)
				break;
			objects++;
			used = 0;
			block[0] = '\0';
		}
		if (used + strlen(line) + 3 < sizeof(block))
			used += snprintf(block + used, sizeof(block) - used,
					 "# %s", line);
	}
	fclose(k);
	note("kmemleak: %d unreferenced objects, %d of them mention pmemflush",
	     objects, ours);
	EXPECT_EQ(0, ours);
}

TEST_HARNESS_MAIN
