// SPDX-License-Identifier: GPL-2.0
/*
 * Soak (QEMU stack), for PMF_SOAK_SECONDS (default 120), everything at once:
 *
 * - flushers (PMF_SOAK_THREADS, default 8) by fd and by id, with random
 *   ranges, on the NFIT device-dax device, DAX files on ext4, xfs and
 *   virtio-pmem ext4, and fsdax, raw and BTT pmem block devices;
 * - registrars: REGISTER by fd and by address (shared mappings of the
 *   device-dax device and of the files) and UNREGISTER, on the shared
 *   /dev/pmemflush whose ids the flushers use;
 * - opens and closes of /dev/pmemflush with ids on them, and children
 *   killed in the middle of their flushes;
 * - the device-dax device's namespace disabled and enabled about once a
 *   second (its claim unbound from dax_pmem, every fifth time ndctl
 *   disable-namespace), with an fd, an id and an id by address checked to
 *   answer ENXIO while it is disabled and after it is back;
 * - delete_module("pmemflush") twice a second, which must be refused while
 *   /dev/pmemflush is open, and every PMF_SOAK_RELOAD_EVERY seconds
 *   (default 30, 0: never) a real unload and reload of PMF_MODULE while
 *   only the reopen logic runs.
 *
 * Every call's result is checked against what the uapi documents for the
 * state its target may have been in, and counted per call, target and
 * errno. At the end the device is re-enabled (always), every target must
 * flush, and the kernel log and kmemleak are checked. Hand-written TAP.
 */
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "pmemflush_test.h"

#define MAX_TARGETS	8
#define T_NONE		MAX_TARGETS	/* counts of calls without a target */
#define T_DEVDAX	0
#define NSLOTS		96	/* ids on the shared file: flat table and xarray */
#define MAX_FLUSHERS	64
#define NREGISTRARS	2
#define FILE_SIZE	(4ULL << 20)
#define MAP_LEN		(2ULL << 20)
#define ERR_BUCKETS	135	/* errno 1..133; 134: anything else */

enum op {
	OP_FLUSH_FD, OP_FLUSH_ID, OP_QUERY_FD, OP_QUERY_ID, OP_REG_FD,
	OP_REG_ADDR, OP_UNREG, OP_OPEN_PMF, OP_OPEN_TARGET, OP_MMAP,
	OP_DELMOD, OP_INSMOD, OP_DISABLE, OP_ENABLE, OP_NDCTL_DISABLE,
	OP_NDCTL_ENABLE, OP_CHILD, OP_FLUSH_RACY, OP_NR
};

static const char *const op_name[OP_NR] = {
	"flush-fd", "flush-id", "query-fd", "query-id", "register-fd",
	"register-addr", "unregister", "open-pmemflush", "open-target",
	"mmap-target", "delete_module", "finit_module", "claim-unbind",
	"claim-bind", "ndctl-disable", "ndctl-enable", "killed-child",
	"flush-id-racy",
};

/* the TAP test points */
enum check {
	C_SETUP, C_ERRNOS, C_CYCLES, C_UNLOAD_REFUSED, C_RELOAD, C_THREADS,
	C_RESTORE, C_KMSG, C_KMEMLEAK, C_NR
};

static const char *const check_name[C_NR] = {
	"setup", "documented_errnos", "namespace_cycles", "unload_refused",
	"module_reload", "threads_stopped", "targets_restored", "kernel_log",
	"kmemleak",
};

struct target {
	const char *name;
	char path[PATH_MAX];
	bool dies;	/* the device-dax device, whose namespace is cycled */
	bool can_reg;	/* REGISTER takes it; otherwise EOPNOTSUPP */
	bool can_map;	/* registered by address of a mapping too */
	bool file;	/* created by the soak, unlinked at the end */
	int weight;
	__u32 kind;
	__u32 region;
	__u64 size;
};

/* an id on the shared /dev/pmemflush, held by one slot */
struct slot {
	pthread_mutex_t lock;
	bool used;
	bool dead;	/* answered ENXIO: the registrars replace it first */
	__u32 id;
	unsigned int epoch;
	int tgt;
	unsigned long s0;
};

struct worker {
	pthread_t th;
	char name[24];
	__u64 rnd;
	const char *volatile doing;
	bool maps;	/* keeps shared mappings, to register by address */
	bool joined;
	int fd[MAX_TARGETS];
	unsigned long s0;	/* cseq before the device-dax fd was opened */
	char *map[MAX_TARGETS];
	__u64 mapoff[MAX_TARGETS];
};

/* what killed children did, in shared memory */
struct child_stats {
	unsigned long long flushes;
};

static struct {
	struct target t[MAX_TARGETS];
	int nt;
	int weight_sum;

	/*
	 * The device-dax namespace's state: 4k stable enabled, 4k+1
	 * disabling, 4k+2 disabled (the old device is dead), 4k+3 enabling,
	 * 4k+4 enabled again and checked to flush.
	 */
	unsigned long cseq;
	pthread_mutex_t path_lock;
	char dd_path[64];	/* the device-dax node, current name */
	char dd_orig[64];
	char claim[64], region[64], ns[64];

	/* the shared /dev/pmemflush: readers use it, the reload replaces it */
	pthread_rwlock_t devlock;
	int dev;
	unsigned int epoch;	/* of @dev: ids of an older one are gone */
	unsigned int reload_seq;	/* odd while a reload is under way */
	volatile int hold;	/* churn, killer, probes: keep off it */
	bool reload_ok;
	char reload_skip[160];
	double reload_every;
	/*
	 * a namespace reconfiguration under way (its start, 0: none) and the
	 * end of the last one: the reload's wait for users runs from then
	 */
	__u64 reconf_since, reconf_end;	/* now_ns() */

	struct slot slots[NSLOTS];
	volatile int stop;
	double t0, duration;

	unsigned long long counts[OP_NR][MAX_TARGETS + 1][ERR_BUCKETS];
	unsigned long long max_ns[OP_NR][MAX_TARGETS + 1];
	int fails[C_NR];
	int skips[C_NR];
	char skip_why[C_NR][160];
	char note[C_NR][200];
	int printed_fails;

	unsigned long cycles, ndctl_cycles, renames, probe_checks;
	unsigned long unload_attempts, reloads, reload_busy;
	unsigned long kernel_reports, kmsg_lost;
	struct child_stats *child;
	pthread_mutex_t out_lock;
	int kmsg;
	volatile int kmsg_stop;
} g = {
	.path_lock = PTHREAD_MUTEX_INITIALIZER,
	.out_lock = PTHREAD_MUTEX_INITIALIZER,
	.dev = -1,
	.kmsg = -1,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void msleep(unsigned int ms)
{
	usleep(ms * 1000);
}

/* sleep @s seconds, or less once the soak stops */
static void nap(double s)
{
	double end = now() + s;

	while (!g.stop && now() < end)
		msleep(20);
}

static __u64 rnd(struct worker *w)
{
	w->rnd ^= w->rnd >> 12;
	w->rnd ^= w->rnd << 25;
	w->rnd ^= w->rnd >> 27;
	return w->rnd * 2685821657736338717ULL;
}

static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g.out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&g.out_lock);
}

/* a failure of test point @c; the first 40 are printed */
static void failf(enum check c, const char *fmt, ...)
{
	va_list ap;

	__atomic_add_fetch(&g.fails[c], 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&g.out_lock);
	if (g.printed_fails++ < 40) {
		printf("# FAIL %s at %.1f s: ", check_name[c], now() - g.t0);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		fflush(stdout);
	}
	pthread_mutex_unlock(&g.out_lock);
}

static const char *errname(int err)
{
	const char *s = err ? strerrorname_np(err) : "ok";

	return s ? s : "E?";
}

static int bucket(int rc, int err)
{
	if (!rc)
		return 0;
	return err > 0 && err < ERR_BUCKETS - 1 ? err : ERR_BUCKETS - 1;
}

static void account(enum op op, int t, int rc, int err, __u64 ns)
{
	unsigned long long *max = &g.max_ns[op][t], old;

	__atomic_add_fetch(&g.counts[op][t][bucket(rc, err)], 1,
			   __ATOMIC_RELAXED);
	old = __atomic_load_n(max, __ATOMIC_RELAXED);
	while (ns > old && !__atomic_compare_exchange_n(max, &old, ns, true,
							__ATOMIC_RELAXED,
							__ATOMIC_RELAXED))
		;
}

static unsigned long long total(enum op op, bool ok_only)
{
	unsigned long long n = 0;
	int t, e;

	for (t = 0; t <= MAX_TARGETS; t++)
		for (e = 0; e < (ok_only ? 1 : ERR_BUCKETS); e++)
			n += g.counts[op][t][e];
	return n;
}

static unsigned long cseq(void)
{
	return __atomic_load_n(&g.cseq, __ATOMIC_ACQUIRE);
}

static void cseq_set(unsigned long v)
{
	__atomic_store_n(&g.cseq, v, __ATOMIC_RELEASE);
}

static unsigned int reload_seq(void)
{
	return __atomic_load_n(&g.reload_seq, __ATOMIC_ACQUIRE);
}

/*
 * The first cseq at which the device an fd opened at cseq @s0 is surely
 * dead: the end of the disable that follows. Opened while enabled or while
 * being disabled, that is this cycle's disable; opened while disabled or
 * being enabled, the fd can only be the next incarnation's.
 */
static unsigned long dead_by(unsigned long s0)
{
	return (s0 & ~3UL) + ((s0 & 3) <= 1 ? 2 : 6);
}

/*
 * Is the result of a call documented for the state its target may have
 * been in? @s0: cseq when the device-dax fd behind the call (or behind the
 * id) was opened; @c1, @c2: cseq before and after the call; @bad: ERANGE
 * or EOVERFLOW when the range was made to be refused.
 *
 * - Success is wrong on a device whose disable had completed before the
 *   call began, and for a range out of bounds.
 * - ENXIO is right only if the device may have been disabled since the fd
 *   was opened: a transition began after it, or it was opened during one
 *   (an fd opened while device_dax probes, before run_dax(), sees a device
 *   that is not alive yet).
 * - A range out of bounds may get its ERANGE/EOVERFLOW even from a dead
 *   device: the uapi does not order the range check and the liveness check
 *   (the module checks the range first for an id or a cached fd, and
 *   answers ENXIO first for an fd it has to resolve).
 *
 * ENOMEM is documented for every call, but the guest has memory to spare:
 * a soak that runs out has found a leak, and fails.
 */
static bool acceptable(const struct target *t, unsigned long s0,
		       unsigned long c1, unsigned long c2, int rc, int err,
		       int bad)
{
	bool may_be_gone = t->dies && ((s0 & 3) || c2 != s0);
	bool gone = t->dies && c1 >= dead_by(s0);

	if (!rc)
		return !bad && !gone;
	if (err == ENXIO)
		return may_be_gone;
	return bad && err == bad;
}

static void judge(enum op op, int ti, unsigned long s0, unsigned long c1,
		  unsigned long c2, int rc, int err, int bad, const char *what)
{
	const struct target *t = &g.t[ti];

	if (acceptable(t, s0, c1, c2, rc, err, bad))
		return;
	failf(C_ERRNOS, "%s %s%s%s: %s (fd opened at cseq %lu, call from %lu to %lu%s%s)",
	      op_name[op], t->name, what ? " " : "", what ? what : "",
	      rc ? errname(err) : "succeeded", s0, c1, c2,
	      bad ? ", range made to get " : "", bad ? errname(bad) : "");
}

/* the device-dax node's current name */
static void dd_get_path(char *buf)
{
	pthread_mutex_lock(&g.path_lock);
	memcpy(buf, g.dd_path, sizeof(g.dd_path));
	pthread_mutex_unlock(&g.path_lock);
}

static void dd_set(const char *node, const char *claim, const char *region,
		   const char *ns)
{
	pthread_mutex_lock(&g.path_lock);
	snprintf(g.dd_path, sizeof(g.dd_path), "%s", node);
	snprintf(g.claim, sizeof(g.claim), "%s", claim);
	snprintf(g.region, sizeof(g.region), "%s", region);
	snprintf(g.ns, sizeof(g.ns), "%s", ns);
	pthread_mutex_unlock(&g.path_lock);
}

/*
 * A device-dax node's sysfs directory, .../regionR/daxR.N/daxR.M: its
 * claim (the nd_dax device dax_pmem binds), region and namespace.
 */
static int dd_topology(const char *node, char *sysdir, char *claim,
		       char *region, char *ns)
{
	char link[PATH_MAX], real[PATH_MAX], attr[PATH_MAX + 32], *s;
	struct stat st;

	if (stat(node, &st) || !S_ISCHR(st.st_mode))
		return -1;
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(link, real))
		return -1;
	snprintf(sysdir, PATH_MAX, "%s", real);
	s = strrchr(real, '/');
	*s = '\0';
	s = strrchr(real, '/');
	snprintf(claim, 64, "%s", s + 1);
	*s = '\0';
	snprintf(region, 64, "%s", strrchr(real, '/') + 1);
	if (strncmp(region, "region", 6) || strncmp(claim, "dax", 3))
		return -1;
	snprintf(attr, sizeof(attr), "/sys/bus/nd/devices/%s/namespace", claim);
	if (pmf_read_line(attr, ns, 64) || strncmp(ns, "namespace", 9))
		return -1;
	return 0;
}

static int sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return pmf_write_file(path, val, O_TRUNC);
}

/* ---------------------------------------------------------------- */
/* a worker's own fds and mappings */

static void own_close(struct worker *w, int t)
{
	if (w->map[t]) {
		munmap(w->map[t], g.t[t].dies ? MAP_LEN : FILE_SIZE);
		w->map[t] = NULL;
	}
	if (w->fd[t] >= 0) {
		close(w->fd[t]);
		w->fd[t] = -1;
	}
}

/*
 * The worker's fd of target @t; the device-dax device is reopened after it
 * went away, which fails (ENOENT: no node, ENXIO: no cdev yet, or a
 * device not alive yet for the mapping) only while its namespace is not
 * enabled. -1 when there is none now.
 */
static int own_fd(struct worker *w, int ti)
{
	struct target *t = &g.t[ti];
	unsigned long o0, o1;
	char path[64];
	__u64 t1, off;
	int fd, err;
	void *p;

	if (w->fd[ti] >= 0 || !t->dies)
		return w->fd[ti];
	w->doing = "open device-dax";
	dd_get_path(path);
	o0 = cseq();
	t1 = now_ns();
	fd = open(path, O_RDWR | O_CLOEXEC);
	err = errno;
	o1 = cseq();
	account(OP_OPEN_TARGET, ti, fd < 0, err, now_ns() - t1);
	if (fd < 0) {
		if (!((o0 & 3) || o1 != o0) || (err != ENOENT && err != ENXIO))
			failf(C_ERRNOS, "open %s: %s (cseq %lu to %lu)", path,
			      errname(err), o0, o1);
		return -1;
	}
	w->fd[ti] = fd;
	w->s0 = o0;
	/*
	 * device_dax's dax_open() stores a NULL dev_dax in private_data when
	 * the device is not alive (opened between kill_dax() and cdev_del(),
	 * or between cdev_add() and run_dax()), and dax_mmap() dereferences
	 * it: a NULL pointer Oops in check_vma() (6.1 and 6.12). Only an fd
	 * opened while the device was surely alive is mapped; the others are
	 * flushed and registered by fd.
	 */
	if (!w->maps || o1 != o0 || (o0 & 3))
		return fd;
	w->doing = "mmap device-dax";
	off = (rnd(w) % (t->size / MAP_LEN)) * MAP_LEN;
	o0 = cseq();
	t1 = now_ns();
	p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	err = errno;
	o1 = cseq();
	account(OP_MMAP, ti, p == MAP_FAILED, err, now_ns() - t1);
	if (p == MAP_FAILED) {
		/* device_dax refuses to map a device that is not alive */
		if (err != ENXIO || !acceptable(t, w->s0, o0, o1, -1, err, 0))
			failf(C_ERRNOS, "mmap %s: %s (cseq %lu to %lu)", path,
			      errname(err), o0, o1);
		own_close(w, ti);
		return -1;
	}
	w->map[ti] = p;
	w->mapoff[ti] = off;
	return fd;
}

static int own_open_files(struct worker *w)
{
	int i;

	for (i = 0; i < MAX_TARGETS; i++) {
		w->fd[i] = -1;
		w->map[i] = NULL;
	}
	for (i = 0; i < g.nt; i++) {
		if (g.t[i].dies)
			continue;
		w->fd[i] = open(g.t[i].path, O_RDWR | O_CLOEXEC);
		if (w->fd[i] < 0)
			return -1;
		if (!w->maps || !g.t[i].can_map)
			continue;
		w->map[i] = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED, w->fd[i], 0);
		if (w->map[i] == MAP_FAILED) {
			w->map[i] = NULL;
			return -1;
		}
		w->mapoff[i] = 0;
	}
	return 0;
}

static void own_close_all(struct worker *w)
{
	int i;

	for (i = 0; i < g.nt; i++)
		own_close(w, i);
}

static int pick_target(struct worker *w)
{
	int r = rnd(w) % g.weight_sum, i;

	for (i = 0; i < g.nt - 1; i++) {
		r -= g.t[i].weight;
		if (r < 0)
			break;
	}
	return i;
}

/* a random range, mostly valid: 0 or the errno it is made to get */
static int pick_range(struct worker *w, __u64 size, __u64 *off, __u64 *len)
{
	unsigned int r = rnd(w) % 64;
	__u64 max, l;

	if (r == 0) {
		*off = rnd(w) % (size + 1);
		*len = size - *off + 1 + rnd(w) % 4096;
		return ERANGE;
	}
	if (r == 1) {
		*off = ~0ULL - rnd(w) % 4096;
		*len = 4096 + rnd(w) % 4096;
		return EOVERFLOW;
	}
	*off = rnd(w) % (size + 1);
	if (r & 2)
		*off &= ~63ULL;
	max = size - *off;
	switch (r % 4) {
	case 0:
		l = rnd(w) % 65;
		break;
	case 3:
		l = rnd(w) % (max + 1);
		break;
	default:
		l = rnd(w) % (1 << 20);
		break;
	}
	*len = l < max ? l : max;
	return 0;
}

static int flush_call(int dev, __u32 flags, int fd, __u64 off, __u64 len,
		      bool ver0, struct pmemflush_flush *out)
{
	memset(out, 0, sizeof(*out));
	out->size = ver0 ? PMEMFLUSH_FLUSH_SIZE_VER0 : sizeof(*out);
	out->flags = flags;
	if (flags & PMEMFLUSH_BY_ID)
		out->id = (__u32)fd;
	else
		out->fd = fd;
	out->offset = off;
	out->length = len;
	/* the first version's struct with the number binaries built with it use */
	return ioctl(dev, ver0 ? PMEMFLUSH_FLUSH_VER0 : PMEMFLUSH_FLUSH, out);
}

/* what a successful FLUSH or QUERY says must be the target's */
static void check_out(enum op op, int ti, const struct pmemflush_flush *f,
		      const struct pmemflush_query *q)
{
	const struct target *t = &g.t[ti];

	if (f && f->region_id != t->region)
		failf(C_ERRNOS, "%s %s: region%u flushed, not region%u",
		      op_name[op], t->name, f->region_id, t->region);
	if (q && (q->region_id != t->region || q->target_kind != t->kind ||
		  q->target_size != t->size))
		failf(C_ERRNOS, "%s %s: region%u kind %u size %llu, not region%u kind %u size %llu",
		      op_name[op], t->name, q->region_id, q->target_kind,
		      (unsigned long long)q->target_size, t->region, t->kind,
		      (unsigned long long)t->size);
}

/* ---------------------------------------------------------------- */
/* flushers */

/* one FLUSH or QUERY by fd; false when there was no fd to use */
static bool by_fd(struct worker *w, int dev, bool query)
{
	int ti = pick_target(w), fd, rc, err, bad = 0;
	struct target *t = &g.t[ti];
	struct pmemflush_flush f;
	struct pmemflush_query q;
	unsigned long c1, c2;
	__u64 off = 0, len = 0, t1;

	fd = own_fd(w, ti);
	if (fd < 0)
		return false;
	if (!query)
		bad = pick_range(w, t->size, &off, &len);
	w->doing = query ? "query by fd" : "flush by fd";
	c1 = cseq();
	t1 = now_ns();
	rc = query ? pmf_query(dev, fd, &q) :
		     flush_call(dev, 0, fd, off, len, !(rnd(w) % 16), &f);
	err = errno;
	c2 = cseq();
	account(query ? OP_QUERY_FD : OP_FLUSH_FD, ti, rc, err, now_ns() - t1);
	judge(query ? OP_QUERY_FD : OP_FLUSH_FD, ti, w->s0, c1, c2, rc, err,
	      bad, NULL);
	if (!rc)
		check_out(query ? OP_QUERY_FD : OP_FLUSH_FD, ti,
			  query ? NULL : &f, query ? &q : NULL);
	if (rc && err == ENXIO && t->dies)
		own_close(w, ti);
	return true;
}

static void by_id(struct worker *w, int dev, bool query)
{
	struct slot *s = &g.slots[rnd(w) % NSLOTS];
	int rc, err, bad = 0;
	struct pmemflush_flush f;
	struct pmemflush_query q;
	unsigned long c1, c2;
	__u64 off = 0, len = 0, t1;
	struct target *t;

	pthread_mutex_lock(&s->lock);
	if (!s->used || s->epoch != g.epoch) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	t = &g.t[s->tgt];
	if (!query)
		bad = pick_range(w, t->size, &off, &len);
	w->doing = query ? "query by id" : "flush by id";
	c1 = cseq();
	t1 = now_ns();
	rc = query ? pmf_query_id(dev, s->id, &q) :
		     flush_call(dev, PMEMFLUSH_BY_ID, s->id, off, len,
				!(rnd(w) % 16), &f);
	err = errno;
	c2 = cseq();
	account(query ? OP_QUERY_ID : OP_FLUSH_ID, s->tgt, rc, err,
		now_ns() - t1);
	judge(query ? OP_QUERY_ID : OP_FLUSH_ID, s->tgt, s->s0, c1, c2, rc, err,
	      bad, NULL);
	if (!rc)
		check_out(query ? OP_QUERY_ID : OP_FLUSH_ID, s->tgt,
			  query ? NULL : &f, query ? &q : NULL);
	if (rc && err == ENXIO)
		__atomic_store_n(&s->dead, true, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&s->lock);
}

/*
 * FLUSH of a slot's id without its lock: the id may be unregistered
 * meanwhile ("calls already using it finish with it"), or be another
 * target's by now, or a dead device's: 0, ENOENT or ENXIO. The range is
 * within every target.
 */
static void racy_by_id(struct worker *w, int dev)
{
	struct slot *s = &g.slots[rnd(w) % NSLOTS];
	__u32 id = __atomic_load_n(&s->id, __ATOMIC_RELAXED);
	struct pmemflush_flush f;
	int rc, err;
	__u64 t1;

	if (!id)
		return;
	w->doing = "flush by id, racing its unregister";
	t1 = now_ns();
	rc = flush_call(dev, PMEMFLUSH_BY_ID, id, 0, 64, false, &f);
	err = errno;
	account(OP_FLUSH_RACY, T_NONE, rc, err, now_ns() - t1);
	if (rc && err != ENOENT && err != ENXIO)
		failf(C_ERRNOS, "flush by id %u racing its unregister: %s", id,
		      errname(err));
}

static void *flusher(void *arg)
{
	struct worker *w = arg;
	unsigned int r;
	bool idle;

	if (own_open_files(w))
		failf(C_SETUP, "%s: cannot open the targets: %s", w->name,
		      strerror(errno));
	while (!g.stop) {
		w->doing = "wait for the shared /dev/pmemflush";
		pthread_rwlock_rdlock(&g.devlock);
		r = rnd(w) % 16;
		idle = false;
		if (r < 8)
			idle = !by_fd(w, g.dev, r == 0);
		else if (r < 14)
			by_id(w, g.dev, r == 8);
		else
			racy_by_id(w, g.dev);
		pthread_rwlock_unlock(&g.devlock);
		if (idle)
			msleep(2);
	}
	w->doing = "exit";
	own_close_all(w);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* registrars */

/* REGISTER target @ti by fd or by address; the id, or 0 */
static __u32 register_target(struct worker *w, int dev, int ti, bool by_addr,
			     unsigned long *s0)
{
	struct target *t = &g.t[ti];
	__u64 a = 0, l = 0, off = ~0ULL, maplen, t1;
	unsigned long c1, c2;
	long long id;
	int fd, err;

	/* an fd opened in a transition is not mapped: reopen when stable */
	if (by_addr && t->dies && w->fd[ti] >= 0 && !w->map[ti] &&
	    !(cseq() & 3))
		own_close(w, ti);
	fd = own_fd(w, ti);
	if (fd < 0)
		return 0;
	by_addr = by_addr && t->can_map && w->map[ti];
	if (by_addr) {
		maplen = t->dies ? MAP_LEN : FILE_SIZE;
		a = rnd(w) % maplen;
		l = 1 + rnd(w) % (maplen - a);
	}
	w->doing = by_addr ? "register by address" : "register by fd";
	c1 = cseq();
	t1 = now_ns();
	id = by_addr ? pmf_register_addr(dev, w->map[ti] + a, l, &off) :
		       pmf_register(dev, fd);
	err = errno;
	c2 = cseq();
	account(by_addr ? OP_REG_ADDR : OP_REG_FD, ti, id < 0, err,
		now_ns() - t1);
	if (!t->can_reg) {
		/* raw without struct pages, BTT: flushed by fd only */
		if (id >= 0 || err != EOPNOTSUPP)
			failf(C_ERRNOS, "register %s: %s, not EOPNOTSUPP",
			      t->name, id < 0 ? errname(err) : "succeeded");
		if (id > 0)
			pmf_unregister(dev, id);
		return 0;
	}
	judge(by_addr ? OP_REG_ADDR : OP_REG_FD, ti, w->s0, c1, c2,
	      id < 0 ? -1 : 0, err, 0, NULL);
	if (id < 0) {
		if (err == ENXIO && t->dies)
			own_close(w, ti);
		return 0;
	}
	if (id < 1 || id > PMEMFLUSH_MAX_IDS)
		failf(C_ERRNOS, "register %s: id %lld", t->name, id);
	if (by_addr && off != w->mapoff[ti] + a)
		failf(C_ERRNOS, "register %s by address: offset %llu, not %llu",
		      t->name, (unsigned long long)off,
		      (unsigned long long)(w->mapoff[ti] + a));
	*s0 = t->dies ? w->s0 : 0;
	return id;
}

static void registrar_step(struct worker *w, int dev)
{
	unsigned int i, start = rnd(w) % NSLOTS;
	struct slot *s = &g.slots[start];
	unsigned long s0 = 0;
	__u64 t1;
	int ti, rc, err;
	__u32 id;

	/* half the time, replace an id whose device went away */
	if (rnd(w) & 1) {
		for (i = 0; i < NSLOTS; i++) {
			s = &g.slots[(start + i) % NSLOTS];
			if (__atomic_load_n(&s->dead, __ATOMIC_RELAXED))
				break;
		}
		if (i == NSLOTS)
			s = &g.slots[start];
	}
	pthread_mutex_lock(&s->lock);
	if (s->used && s->epoch == g.epoch) {
		w->doing = "unregister";
		t1 = now_ns();
		rc = pmf_unregister(dev, s->id);
		err = errno;
		account(OP_UNREG, s->tgt, rc, err, now_ns() - t1);
		if (rc)
			failf(C_ERRNOS, "unregister id %u of %s: %s", s->id,
			      g.t[s->tgt].name, errname(err));
	}
	s->used = false;
	s->dead = false;
	if (rnd(w) % 8) {
		ti = pick_target(w);
		id = register_target(w, dev, ti, rnd(w) & 1, &s0);
		if (id) {
			s->used = true;
			__atomic_store_n(&s->id, id, __ATOMIC_RELAXED);
			s->epoch = g.epoch;
			s->tgt = ti;
			s->s0 = s0;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static void *registrar(void *arg)
{
	struct worker *w = arg;

	if (own_open_files(w))
		failf(C_SETUP, "%s: cannot open or map the targets: %s",
		      w->name, strerror(errno));
	while (!g.stop) {
		w->doing = "wait for the shared /dev/pmemflush";
		pthread_rwlock_rdlock(&g.devlock);
		registrar_step(w, g.dev);
		pthread_rwlock_unlock(&g.devlock);
	}
	w->doing = "exit";
	own_close_all(w);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* opens and closes of /dev/pmemflush */

/* open /dev/pmemflush; only a reload may make it fail (ENOENT, ENODEV) */
static int open_pmf(struct worker *w)
{
	unsigned int r0, r1;
	int fd, err;
	__u64 t1;

	w->doing = "open /dev/pmemflush";
	r0 = reload_seq();
	t1 = now_ns();
	fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	err = errno;
	r1 = reload_seq();
	account(OP_OPEN_PMF, T_NONE, fd < 0, err, now_ns() - t1);
	if (fd < 0 && (!((r0 & 1) || r1 != r0) ||
		       (err != ENOENT && err != ENODEV && err != ENXIO)))
		failf(C_ERRNOS, "open %s: %s (no reload under way)",
		      PMEMFLUSH_DEV, errname(err));
	return fd;
}

static void churn_step(struct worker *w, int dev)
{
	int n = 1 + rnd(w) % 4, i, ti, tg[4], rc, err, bad, d;
	unsigned long s0[4], c1, c2;
	struct pmemflush_flush f;
	__u64 off, len, t1;
	__u32 ids[4];

	for (i = 0; i < n; i++) {
		ti = pick_target(w);
		tg[i] = ti;
		ids[i] = g.t[ti].can_reg ?
			 register_target(w, dev, ti, rnd(w) & 1, &s0[i]) : 0;
	}
	/* ids through the open file and, half the time, a dup of it */
	d = rnd(w) & 1 ? dup(dev) : -1;
	for (i = 0; i < n; i++) {
		if (!ids[i])
			continue;
		bad = pick_range(w, g.t[tg[i]].size, &off, &len);
		w->doing = "flush by id (churn)";
		c1 = cseq();
		t1 = now_ns();
		rc = flush_call(d >= 0 ? d : dev, PMEMFLUSH_BY_ID, ids[i], off,
				len, false, &f);
		err = errno;
		c2 = cseq();
		account(OP_FLUSH_ID, tg[i], rc, err, now_ns() - t1);
		judge(OP_FLUSH_ID, tg[i], s0[i], c1, c2, rc, err, bad, "(churn)");
	}
	if (d >= 0)
		close(d);
	/* the last close drops the ids the other half of the time */
	if (rnd(w) & 1)
		return;
	for (i = 0; i < n; i++) {
		if (!ids[i])
			continue;
		t1 = now_ns();
		rc = pmf_unregister(dev, ids[i]);
		err = errno;
		account(OP_UNREG, tg[i], rc, err, now_ns() - t1);
		if (rc)
			failf(C_ERRNOS, "unregister id %u (churn): %s", ids[i],
			      errname(err));
	}
}

static void *churn(void *arg)
{
	struct worker *w = arg;
	int dev;

	w->maps = true;
	if (own_open_files(w))
		failf(C_SETUP, "%s: cannot open the targets: %s", w->name,
		      strerror(errno));
	while (!g.stop) {
		if (g.hold) {
			w->doing = "hold";
			msleep(2);
			continue;
		}
		dev = open_pmf(w);
		if (dev < 0) {
			msleep(1);
			continue;
		}
		churn_step(w, dev);
		w->doing = "close /dev/pmemflush";
		close(dev);
	}
	w->doing = "exit";
	own_close_all(w);
	return NULL;
}

/* ---------------------------------------------------------------- */
/* children killed while they flush */

/*
 * The child flushes the targets that stay (not the device-dax device) by fd
 * and by id on its own /dev/pmemflush until it is killed; virtio-pmem's
 * flushes make it wait for others' often. Any error is unexpected: it
 * exits with 100 + errno. Only system calls after fork().
 */
static void __attribute__((noreturn)) child_main(void)
{
	int fd[MAX_TARGETS], id[MAX_TARGETS], dev, i;
	struct pmemflush_flush f;

	syscall(SYS_close_range, 3, ~0U, 0);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		_exit(0);	/* a reload is under way */
	for (i = 0; i < g.nt; i++) {
		fd[i] = g.t[i].dies ? -1 : open(g.t[i].path, O_RDWR | O_CLOEXEC);
		id[i] = fd[i] >= 0 && g.t[i].can_reg ? pmf_register(dev, fd[i]) : 0;
		if (g.t[i].dies)
			continue;
		if (fd[i] < 0 || id[i] < 0)
			_exit(100 + errno % 100);
	}
	for (;;) {
		for (i = 0; i < g.nt; i++) {
			if (fd[i] < 0)
				continue;
			if (flush_call(dev, 0, fd[i], 0, 4096, false, &f))
				_exit(100 + errno % 100);
			__atomic_add_fetch(&g.child->flushes, 1, __ATOMIC_RELAXED);
			if (!id[i])
				continue;
			if (flush_call(dev, PMEMFLUSH_BY_ID, id[i], 0, 4096,
				       false, &f))
				_exit(100 + errno % 100);
			__atomic_add_fetch(&g.child->flushes, 1, __ATOMIC_RELAXED);
		}
	}
}

static void *killer(void *arg)
{
	struct worker *w = arg;
	int status;
	pid_t pid;

	while (!g.stop) {
		if (g.hold) {
			w->doing = "hold";
			msleep(2);
			continue;
		}
		w->doing = "fork";
		pid = fork();
		if (pid < 0) {
			failf(C_SETUP, "fork: %s", strerror(errno));
			break;
		}
		if (!pid)
			child_main();
		w->doing = "let the child flush";
		msleep(10 + rnd(w) % 200);
		kill(pid, SIGKILL);
		w->doing = "reap the child";
		if (waitpid(pid, &status, 0) != pid)
			continue;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			account(OP_CHILD, T_NONE, 0, 0, 0);
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			account(OP_CHILD, T_NONE, -1, ENOENT, 0);
		} else {
			account(OP_CHILD, T_NONE, -1, EIO, 0);
			failf(C_ERRNOS, "killed child: status 0x%x (exit 100+errno: %s)",
			      status, WIFEXITED(status) && WEXITSTATUS(status) >= 100 ?
			      errname(WEXITSTATUS(status) - 100) : "?");
		}
	}
	w->doing = "exit";
	return NULL;
}

/* ---------------------------------------------------------------- */
/* the namespace controller */

/* the region's device-dax device, bound to device_dax and flushing */
static int wait_enabled(struct worker *w, const char *region, int pdev,
			char *node, double timeout)
{
	char pattern[128], dir[PATH_MAX], drv[PATH_MAX + 8], devnode[64];
	struct pmemflush_flush f;
	double end = now() + timeout;
	struct stat st;
	glob_t gl;
	int fd, rc;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/nd/devices/%s/dax*.*/dax*.*/dev", region);
	w->doing = "wait for the device-dax device";
	while (now() < end) {
		if (glob(pattern, 0, NULL, &gl)) {
			msleep(20);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s", gl.gl_pathv[0]);
		globfree(&gl);
		*strrchr(dir, '/') = '\0';
		snprintf(drv, sizeof(drv), "%s/driver", dir);
		snprintf(devnode, sizeof(devnode), "/dev/%s",
			 strrchr(dir, '/') + 1);
		/* opened through a twin on ramfs: see pmf_own_node() */
		if (stat(drv, &st) || pmf_own_node(devnode, node, 64)) {
			msleep(20);
			continue;
		}
		fd = open(node, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			msleep(20);
			continue;
		}
		rc = pdev >= 0 ? flush_call(pdev, 0, fd, 0, 4096, false, &f) : 0;
		close(fd);
		if (!rc)
			return 0;
		msleep(20);
	}
	return -1;
}

/* a probe call that must answer ENXIO: the device is gone */
static void expect_gone(int rc, int err, const char *what, unsigned long cycle)
{
	g.probe_checks++;
	if (rc != -1 || err != ENXIO)
		failf(C_CYCLES, "cycle %lu: %s: %s, not ENXIO", cycle, what,
		      rc == -1 ? errname(err) : "succeeded");
}

static void expect_ok(int rc, int err, const char *what, unsigned long cycle)
{
	g.probe_checks++;
	if (rc)
		failf(C_CYCLES, "cycle %lu: %s: %s", cycle, what, errname(err));
}

struct probe {
	int dev, fd;
	char *map;
	long long id, aid;
};

/* an fd, an id and an id by address of the device, on a private file */
static void probe_setup(struct worker *w, struct probe *p, const char *node,
			unsigned long cycle)
{
	p->dev = -1;
	p->fd = -1;
	p->map = NULL;
	p->id = -1;
	p->aid = -1;
	if (g.hold)
		return;
	p->dev = open_pmf(w);
	if (p->dev < 0)
		return;
	w->doing = "probe setup";
	p->fd = open(node, O_RDWR | O_CLOEXEC);
	expect_ok(p->fd < 0 ? -1 : 0, errno, "open the device", cycle);
	if (p->fd < 0)
		return;
	p->map = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->fd, 0);
	expect_ok(p->map == MAP_FAILED ? -1 : 0, errno, "mmap the device", cycle);
	if (p->map == MAP_FAILED)
		p->map = NULL;
	p->id = pmf_register(p->dev, p->fd);
	expect_ok(p->id < 0 ? -1 : 0, errno, "register", cycle);
	if (p->map) {
		p->aid = pmf_register_addr(p->dev, p->map + 4096, 4096, NULL);
		expect_ok(p->aid < 0 ? -1 : 0, errno, "register by address",
			  cycle);
	}
	expect_ok(pmf_flush(p->dev, p->fd, 0, 4096, NULL), errno,
		  "flush by fd", cycle);
	if (p->id > 0)
		expect_ok(pmf_flush_id(p->dev, p->id, 0, 4096, NULL), errno,
			  "flush by id", cycle);
	if (p->aid > 0)
		expect_ok(pmf_flush_id(p->dev, p->aid, 4096, 4096, NULL), errno,
			  "flush by id by address", cycle);
}

/* the old device's fd and ids, after its disable: ENXIO, all of them */
static void probe_gone(struct probe *p, unsigned long cycle, bool after)
{
	struct pmemflush_query q;
	char what[64];
	int rc;

	if (p->fd < 0)
		return;
	rc = pmf_flush(p->dev, p->fd, 0, 4096, NULL);
	snprintf(what, sizeof(what), "%s: flush by old fd",
		 after ? "re-enabled" : "disabled");
	expect_gone(rc, errno, what, cycle);
	rc = pmf_query(p->dev, p->fd, &q);
	snprintf(what, sizeof(what), "%s: query by old fd",
		 after ? "re-enabled" : "disabled");
	expect_gone(rc, errno, what, cycle);
	if (p->id > 0) {
		rc = pmf_flush_id(p->dev, p->id, 0, 4096, NULL);
		snprintf(what, sizeof(what), "%s: flush by old id",
			 after ? "re-enabled" : "disabled");
		expect_gone(rc, errno, what, cycle);
		rc = pmf_query_id(p->dev, p->id, &q);
		snprintf(what, sizeof(what), "%s: query by old id",
			 after ? "re-enabled" : "disabled");
		expect_gone(rc, errno, what, cycle);
	}
	if (p->aid > 0) {
		rc = pmf_flush_id(p->dev, p->aid, 4096, 4096, NULL);
		snprintf(what, sizeof(what), "%s: flush by old id by address",
			 after ? "re-enabled" : "disabled");
		expect_gone(rc, errno, what, cycle);
	}
	rc = pmf_register(p->dev, p->fd) < 0 ? -1 : 0;
	snprintf(what, sizeof(what), "%s: register the old fd",
		 after ? "re-enabled" : "disabled");
	expect_gone(rc, errno, what, cycle);
	if (p->map) {
		rc = pmf_register_addr(p->dev, p->map, 4096, NULL) < 0 ? -1 : 0;
		snprintf(what, sizeof(what), "%s: register the old mapping",
			 after ? "re-enabled" : "disabled");
		expect_gone(rc, errno, what, cycle);
	}
}

static void probe_end(struct probe *p, unsigned long cycle)
{
	/* the ids go with the unregister half the time, with the close else */
	if (p->dev >= 0 && cycle & 1) {
		if (p->id > 0)
			expect_ok(pmf_unregister(p->dev, p->id), errno,
				  "unregister the old id", cycle);
		if (p->aid > 0)
			expect_ok(pmf_unregister(p->dev, p->aid), errno,
				  "unregister the old id by address", cycle);
	}
	if (p->map)
		munmap(p->map, MAP_LEN);
	if (p->fd >= 0)
		close(p->fd);
	if (p->dev >= 0)
		close(p->dev);
}

static int ns_disable(bool ndctl, const char *claim, const char *ns)
{
	char cmd[160];

	if (!ndctl)
		return sysfs_write("/sys/bus/nd/drivers/dax_pmem", "unbind", claim);
	snprintf(cmd, sizeof(cmd), "ndctl disable-namespace %s >/dev/null 2>&1", ns);
	return system(cmd) ? -1 : 0;
}

static int ns_enable(bool ndctl, const char *claim, const char *ns)
{
	char cmd[160];

	if (!ndctl)
		return sysfs_write("/sys/bus/nd/drivers/dax_pmem", "bind", claim);
	snprintf(cmd, sizeof(cmd), "ndctl enable-namespace %s >/dev/null 2>&1", ns);
	return system(cmd) ? -1 : 0;
}

/*
 * One disable/enable cycle. False when the namespace could not be cycled
 * (the cycles stop; cseq stays in its transition, where every flusher's
 * ENXIO is accepted).
 */
static bool cycle_once(struct worker *w, unsigned long cycle)
{
	char node[64], sysdir[PATH_MAX], claim[64], region[64], ns[64];
	char newnode[64];
	bool ndctl = cycle % 5 == 4;
	unsigned long c = cseq();
	struct probe p;
	struct stat st;
	__u64 t1;
	int rc, err, i, fd;

	dd_get_path(node);
	if (dd_topology(node, sysdir, claim, region, ns)) {
		failf(C_CYCLES, "cycle %lu: %s has no nd topology", cycle, node);
		return false;
	}
	probe_setup(w, &p, node, cycle);

	w->doing = ndctl ? "ndctl disable-namespace" : "unbind the claim";
	cseq_set(c + 1);
	t1 = now_ns();
	__atomic_store_n(&g.reconf_since, now_ns(), __ATOMIC_RELAXED);
	rc = ns_disable(ndctl, claim, ns);
	err = errno;
	__atomic_store_n(&g.reconf_since, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g.reconf_end, now_ns(), __ATOMIC_RELAXED);
	account(ndctl ? OP_NDCTL_DISABLE : OP_DISABLE, T_DEVDAX, rc,
		ndctl ? EIO : err, now_ns() - t1);
	if (now_ns() - t1 > 5000000000ULL)
		say("# cycle %lu: %s took %.1f s\n", cycle,
		    ndctl ? "ndctl disable-namespace" : "the claim's unbind",
		    (now_ns() - t1) / 1e9);
	if (rc || !stat(sysdir, &st)) {
		failf(C_CYCLES, "cycle %lu: %s of %s: %s", cycle,
		      ndctl ? "ndctl disable-namespace" : "dax_pmem unbind",
		      ndctl ? ns : claim,
		      rc ? "failed" : "the device is still there");
		probe_end(&p, cycle);
		return false;
	}
	cseq_set(c + 2);
	unlink(node);	/* the twin goes as the /dev node did */

	/* gone: the old fd and ids answer ENXIO, the node does not open */
	w->doing = "probe the disabled device";
	probe_gone(&p, cycle, false);
	fd = open(node, O_RDWR | O_CLOEXEC);
	g.probe_checks++;
	if (fd >= 0 || (errno != ENOENT && errno != ENXIO))
		failf(C_CYCLES, "cycle %lu: open %s while disabled: %s", cycle,
		      node, fd >= 0 ? "succeeded" : errname(errno));
	if (fd >= 0)
		close(fd);
	/* let the flushers run into the dead device for a while */
	msleep(150 + cycle % 4 * 50);

	w->doing = ndctl ? "ndctl enable-namespace" : "bind the claim";
	cseq_set(c + 3);
	for (i = 0; i < 5; i++) {
		t1 = now_ns();
		__atomic_store_n(&g.reconf_since, now_ns(), __ATOMIC_RELAXED);
		rc = ns_enable(ndctl, claim, ns);
		err = errno;
		__atomic_store_n(&g.reconf_since, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&g.reconf_end, now_ns(), __ATOMIC_RELAXED);
		account(ndctl ? OP_NDCTL_ENABLE : OP_ENABLE, T_DEVDAX, rc,
			ndctl ? EIO : err, now_ns() - t1);
		if (!rc)
			break;
		failf(C_CYCLES, "cycle %lu: %s of %s failed (try %d)", cycle,
		      ndctl ? "ndctl enable-namespace" : "dax_pmem bind",
		      ndctl ? ns : claim, i + 1);
		msleep(500);
	}
	if (wait_enabled(w, region, p.dev, newnode,
			 pmf_scaled_limit(60))) {
		failf(C_CYCLES, "cycle %lu: the device-dax device of %s did not come back",
		      cycle, region);
		probe_end(&p, cycle);
		return false;
	}
	if (strcmp(newnode, node))
		g.renames++;
	if (dd_topology(newnode, sysdir, claim, region, ns)) {
		failf(C_CYCLES, "cycle %lu: %s has no nd topology", cycle,
		      newnode);
		probe_end(&p, cycle);
		return false;
	}
	dd_set(newnode, claim, region, ns);
	cseq_set(c + 4);

	/* a new device: the old fd and ids stay dead */
	w->doing = "probe the re-enabled device";
	probe_gone(&p, cycle, true);
	probe_end(&p, cycle);
	g.cycles++;
	if (ndctl)
		g.ndctl_cycles++;
	return true;
}

static void *controller(void *arg)
{
	struct worker *w = arg;
	unsigned long cycle;

	for (cycle = 0; !g.stop; cycle++) {
		w->doing = "enabled";
		nap(0.8 + rnd(w) % 400 / 1000.0);
		if (g.stop || !cycle_once(w, cycle))
			break;
	}
	w->doing = "exit";
	return NULL;
}

/* ---------------------------------------------------------------- */
/* module unload attempts and reloads */

static long delete_module(void)
{
	return syscall(SYS_delete_module, "pmemflush", O_NONBLOCK);
}

static int insert_module(void)
{
	const char *path = getenv("PMF_MODULE");
	int fd, rc, err;
	__u64 t1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	t1 = now_ns();
	rc = syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	account(OP_INSMOD, T_NONE, rc, err, now_ns() - t1);
	close(fd);
	errno = err;
	return rc;
}

/* the shared /dev/pmemflush is closed, the module gone and back */
static void reload(struct worker *w)
{
	double start, busy_since, quiet;
	struct stat st;
	long rc;
	int i, err;

	w->doing = "reload: wait for the readers";
	pthread_rwlock_wrlock(&g.devlock);
	__atomic_add_fetch(&g.reload_seq, 1, __ATOMIC_RELEASE);
	close(g.dev);
	g.dev = -1;
	w->doing = "reload: unload";
	start = now();
	busy_since = start;
	for (;;) {
		rc = delete_module();
		err = errno;
		account(OP_DELMOD, T_NONE, rc, err, 0);
		if (!rc)
			break;
		/* after a delete_module() that should have failed and did not */
		if (err == ENOENT) {
			rc = 0;
			break;
		}
		if (err != EWOULDBLOCK && err != EBUSY) {
			failf(C_RELOAD, "delete_module: %s", errname(err));
			break;
		}
		g.reload_busy++;
		/* a second of racing the opens, then they hold off */
		if (now() - busy_since > 1)
			g.hold = 1;
		/*
		 * 60 s, counted from the end of a namespace reconfiguration
		 * if one ran meanwhile: a user of the module (a killed child
		 * that still holds the file, a call) may wait for the device
		 * lock the reconfiguration holds, which took 60 s on a busy
		 * machine's sanitizer guest
		 */
		quiet = __atomic_load_n(&g.reconf_end, __ATOMIC_RELAXED) / 1e9;
		if (quiet < start)
			quiet = start;
		if (!__atomic_load_n(&g.reconf_since, __ATOMIC_RELAXED) &&
		    now() - quiet > 60) {
			failf(C_RELOAD, "delete_module: still %s after %.0f s with every user held off, 60 s after any reconfiguration (refcnt %lld)",
			      errname(err), now() - start,
			      pmf_read_ll("/sys/module/pmemflush/refcnt"));
			break;
		}
		msleep(5);
	}
	if (!rc) {
		g.reloads++;
		if (!stat(PMEMFLUSH_DEV, &st))
			failf(C_RELOAD, "%s still there after the unload",
			      PMEMFLUSH_DEV);
		if (!stat("/sys/module/pmemflush", &st))
			failf(C_RELOAD, "/sys/module/pmemflush still there after the unload");
		/* the opens and the probes race an absent device a little */
		msleep(50);
		w->doing = "reload: finit_module";
		if (insert_module())
			failf(C_RELOAD, "finit_module %s: %s",
			      getenv("PMF_MODULE"), strerror(errno));
	}
	w->doing = "reload: reopen";
	for (i = 0; i < 200; i++) {
		g.dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
		if (g.dev >= 0)
			break;
		msleep(10);
	}
	if (g.dev < 0) {
		failf(C_RELOAD, "open %s after the reload: %s", PMEMFLUSH_DEV,
		      strerror(errno));
		g.stop = 1;
	}
	g.epoch++;
	__atomic_add_fetch(&g.reload_seq, 1, __ATOMIC_RELEASE);
	g.hold = 0;
	pthread_rwlock_unlock(&g.devlock);
}

static void *modthread(void *arg)
{
	struct worker *w = arg;
	double next = g.t0 + g.reload_every / 2;
	long rc;
	int err;

	while (!g.stop) {
		w->doing = "sleep";
		nap(0.5);
		if (g.stop)
			break;
		/* /dev/pmemflush is open (g.dev): the module is pinned */
		w->doing = "delete_module";
		g.unload_attempts++;
		rc = delete_module();
		err = errno;
		account(OP_DELMOD, T_NONE, rc, err, 0);
		if (!rc) {
			failf(C_UNLOAD_REFUSED, "delete_module succeeded with %s open",
			      PMEMFLUSH_DEV);
			/* bring it back for the rest */
			reload(w);
		} else if (err != EWOULDBLOCK && err != EBUSY) {
			failf(C_UNLOAD_REFUSED, "delete_module: %s, not EAGAIN or EBUSY",
			      errname(err));
		}
		if (g.reload_ok && g.reload_every > 0 && now() >= next &&
		    now() + 8 < g.t0 + g.duration) {
			reload(w);
			next = now() + g.reload_every;
		}
	}
	w->doing = "exit";
	return NULL;
}

/* ---------------------------------------------------------------- */
/* the kernel log */

static int kmsg_since_header = 1000;

/* pmemflush_test.h's reports, a call trace counted with the one before it */
static void kmsg_line(const char *msg)
{
	kmsg_since_header++;
	if (!pmf_is_report(msg))
		return;
	if (!strstr(msg, "Call Trace:") || kmsg_since_header > 30)
		g.kernel_reports++;
	kmsg_since_header = 0;
	if (g.kernel_reports <= 40)
		say("# kmsg: %s\n", msg);
}

static void kmsg_drain(void)
{
	char buf[8192];
	const char *msg;

	while ((msg = pmf_kmsg_next(g.kmsg, buf, sizeof(buf), &g.kmsg_lost)))
		kmsg_line(msg);
}

static void *kmsg_reader(void *arg)
{
	struct pollfd pfd = { .fd = g.kmsg, .events = POLLIN };

	(void)arg;
	while (!g.kmsg_stop) {
		poll(&pfd, 1, 200);
		kmsg_drain();
	}
	kmsg_drain();
	return NULL;
}

/* ---------------------------------------------------------------- */
/* setup and the end */

static int add_target(const char *name, const char *path, bool dies,
		      bool file, int weight)
{
	struct target *t = &g.t[g.nt];
	struct pmemflush_query q;
	long long id;
	int fd, dev;

	if (!path)
		return 0;
	t->name = name;
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->dies = dies;
	t->file = file;
	t->weight = weight;
	fd = open(path, O_RDWR | O_CLOEXEC | (file ? O_CREAT | O_TRUNC : 0),
		  0644);
	if (fd < 0) {
		failf(C_SETUP, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (file && ftruncate(fd, FILE_SIZE)) {
		failf(C_SETUP, "ftruncate %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0 || pmf_query(dev, fd, &q)) {
		failf(C_SETUP, "query %s: %s", path, strerror(errno));
		close(fd);
		if (dev >= 0)
			close(dev);
		return -1;
	}
	t->kind = q.target_kind;
	t->region = q.region_id;
	t->size = q.target_size;
	/* what REGISTER says of it now, it must say throughout */
	id = pmf_register(dev, fd);
	t->can_reg = id > 0;
	if (id < 0 && errno != EOPNOTSUPP)
		failf(C_SETUP, "register %s: %s", path, strerror(errno));
	t->can_map = t->can_reg && (dies || file);
	close(dev);
	close(fd);
	if (t->size < (dies ? 2 * MAP_LEN : 4096)) {
		failf(C_SETUP, "%s: %llu bytes", path,
		      (unsigned long long)t->size);
		return -1;
	}
	g.weight_sum += weight;
	g.nt++;
	return 0;
}

static int setup_targets(void)
{
	char p[MAX_TARGETS][PATH_MAX];
	const char *e;
	pid_t pid = getpid();

	e = getenv("PMF_NFIT_EXT4");
	if (e) {
		snprintf(p[0], PATH_MAX, "%s/pmf-soak-%d-a", e, pid);
		snprintf(p[1], PATH_MAX, "%s/pmf-soak-%d-b", e, pid);
	}
	e = getenv("PMF_NFIT_XFS");
	if (e)
		snprintf(p[2], PATH_MAX, "%s/pmf-soak-%d", e, pid);
	e = getenv("PMF_VIRTIO_EXT4");
	if (e)
		snprintf(p[3], PATH_MAX, "%s/pmf-soak-%d", e, pid);
	if (add_target("devdax", g.dd_orig, true, false, 6) ||
	    add_target("ext4-a", getenv("PMF_NFIT_EXT4") ? p[0] : NULL, false, true, 2) ||
	    add_target("ext4-b", getenv("PMF_NFIT_EXT4") ? p[1] : NULL, false, true, 2) ||
	    add_target("xfs", getenv("PMF_NFIT_XFS") ? p[2] : NULL, false, true, 2) ||
	    add_target("virtio-ext4", getenv("PMF_VIRTIO_EXT4") ? p[3] : NULL,
		       false, true, 1) ||
	    add_target("pmem-blk", getenv("PMF_NFIT_PMEM"), false, false, 1) ||
	    add_target("raw-blk", getenv("PMF_NFIT_RAW"), false, false, 1) ||
	    add_target("btt-blk", getenv("PMF_NFIT_BTT"), false, false, 1))
		return -1;
	return 0;
}

/* the device-dax device back and enabled, whatever the soak left */
static int restore_devdax(struct worker *w)
{
	char node[64], sysdir[PATH_MAX], claim[64], region[64], ns[64];
	int dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC), rc;

	pthread_mutex_lock(&g.path_lock);
	snprintf(claim, sizeof(claim), "%s", g.claim);
	snprintf(region, sizeof(region), "%s", g.region);
	snprintf(ns, sizeof(ns), "%s", g.ns);
	pthread_mutex_unlock(&g.path_lock);
	rc = wait_enabled(w, region, dev, node, 1);
	if (rc) {
		say("# restore: binding %s back\n", claim);
		ns_enable(false, claim, ns);
		rc = wait_enabled(w, region, dev, node,
				  pmf_scaled_limit(10));
	}
	if (rc) {
		say("# restore: ndctl enable-namespace %s\n", ns);
		ns_enable(true, claim, ns);
		rc = wait_enabled(w, region, dev, node,
				  pmf_scaled_limit(60));
	}
	if (!rc && !dd_topology(node, sysdir, claim, region, ns))
		dd_set(node, claim, region, ns);
	if (dev >= 0)
		close(dev);
	return rc;
}

/* after the soak: each target flushes by fd, and by id where it can */
static void final_flushes(void)
{
	struct pmemflush_flush f;
	long long id;
	char node[64];
	int i, fd, dev;

	dd_get_path(node);
	if (strcmp(node, g.dd_orig))
		failf(C_RESTORE, "the device-dax device is %s now, not %s",
		      node, g.dd_orig);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		failf(C_RESTORE, "open %s: %s", PMEMFLUSH_DEV, strerror(errno));
		return;
	}
	for (i = 0; i < g.nt; i++) {
		fd = open(g.t[i].path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			failf(C_RESTORE, "open %s: %s", g.t[i].path,
			      strerror(errno));
			continue;
		}
		if (flush_call(dev, 0, fd, 0, 4096, false, &f))
			failf(C_RESTORE, "flush %s by fd: %s", g.t[i].name,
			      strerror(errno));
		else if (f.region_id != g.t[i].region)
			failf(C_RESTORE, "flush %s: region%u, not region%u",
			      g.t[i].name, f.region_id, g.t[i].region);
		if (g.t[i].can_reg) {
			id = pmf_register(dev, fd);
			if (id < 0 || pmf_flush_id(dev, id, 0, 4096, NULL))
				failf(C_RESTORE, "register and flush %s by id: %s",
				      g.t[i].name, strerror(errno));
		}
		close(fd);
	}
	close(dev);
}

/* jiffies now, from /proc/timer_list; 0 when unknown */
static unsigned long long read_jiffies(void)
{
	FILE *f = fopen("/proc/timer_list", "r");
	unsigned long long j = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "jiffies: %llu", &j) == 1)
			break;
	fclose(f);
	return j;
}

/*
 * kmemleak's report after two scans (an object is reported once it was
 * unreferenced at two scans and is older than 5 s). The objects allocated
 * since the soak began (kmemleak's "jiffies" is the allocation's) are the
 * soak's; the others are earlier tests', which the boot's judge reports.
 */
static void check_kmemleak(unsigned long long jiffies0)
{
	const char *path = "/sys/kernel/debug/kmemleak";
	int objs = 0, ours = 0, printed = 0;
	char *buf, *obj, *next;
	unsigned long long j;
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd;

	if (stat(path, &st)) {
		g.skips[C_KMEMLEAK] = 1;
		snprintf(g.skip_why[C_KMEMLEAK], 160, "no %s in this kernel", path);
		return;
	}
	sleep(5);
	if (pmf_write_file(path, "scan", 0)) {
		g.skips[C_KMEMLEAK] = 1;
		snprintf(g.skip_why[C_KMEMLEAK], 160, "kmemleak scan: %s",
			 strerror(errno));
		return;
	}
	sleep(1);
	pmf_write_file(path, "scan", 0);
	buf = malloc(4 << 20);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0) {
		failf(C_KMEMLEAK, "read %s: %s", path, strerror(errno));
		free(buf);
		return;
	}
	while (n < (4 << 20) - 1 && (r = read(fd, buf + n, (4 << 20) - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	for (obj = strstr(buf, "unreferenced object"); obj; obj = next) {
		next = strstr(obj + 1, "unreferenced object");
		if (next)
			next[-1] = '\0';
		objs++;
		j = 0;
		if (strstr(obj, "jiffies "))
			j = strtoull(strstr(obj, "jiffies ") + 8, NULL, 10);
		/* without a start time, those of pmemflush are the soak's */
		if (jiffies0 ? (long long)(j - jiffies0) < 0 :
			       !strstr(obj, "pmemflush"))
			continue;
		ours++;
		if (printed++ < 20)
			say("# kmemleak: %s\n", obj);
	}
	free(buf);
	if (ours)
		failf(C_KMEMLEAK, "%d unreferenced object(s) allocated during the soak",
		      ours);
	snprintf(g.note[C_KMEMLEAK], 200, "%d unreferenced, %d of them from the soak",
		 objs, ours);
}

static void print_counts(void)
{
	char line[1024];
	int op, t, e;
	size_t n;

	say("# calls per target (result count), slowest call:\n");
	for (op = 0; op < OP_NR; op++) {
		for (t = 0; t <= MAX_TARGETS; t++) {
			n = 0;
			for (e = 0; e < ERR_BUCKETS; e++)
				if (g.counts[op][t][e] && n < sizeof(line) - 64)
					n += snprintf(line + n, sizeof(line) - n,
						      " %s %llu",
						      e == ERR_BUCKETS - 1 ? "other" :
						      errname(e), g.counts[op][t][e]);
			if (n)
				say("#   %-14s %-12s%s, max %.1f ms\n", op_name[op],
				    t == T_NONE ? "-" : g.t[t].name, line,
				    g.max_ns[op][t] / 1e6);
		}
	}
	say("#   killed children flushed %llu times\n", g.child->flushes);
}

static void start_worker(struct worker *w, const char *name, int i,
			 void *(*fn)(void *))
{
	snprintf(w->name, sizeof(w->name), "%s%d", name, i);
	w->rnd = 0x9e3779b97f4a7c15ULL ^ ((__u64)getpid() << 20) ^
		 ((__u64)i << 8) ^ (__u64)(unsigned long)w ^ now_ns();
	w->fd[0] = -1;
	w->doing = "start";
	if (pthread_create(&w->th, NULL, fn, w)) {
		failf(C_SETUP, "pthread_create: %s", strerror(errno));
		w->joined = true;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	g.stop = 1;
}

int main(void)
{
	static struct worker fl[MAX_FLUSHERS], reg[NREGISTRARS], ch, kl, ctl, mod;
	struct worker *all[MAX_FLUSHERS + NREGISTRARS + 4];
	const char *e = getenv("PMF_SOAK_SECONDS");
	int nfl = 8, nall = 0, i, pass = 0, fail = 0, skip = 0;
	char sysdir[PATH_MAX], claim[64], region[64], ns[64], holders[64];
	pthread_rwlockattr_t ra;
	struct timespec dl;
	pthread_t kmsg_th;
	double last_report;
	struct stat st;
	unsigned long long jiffies0;
	bool kmsg_ok;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g.duration = e ? atof(e) : 120;
	if (g.duration <= 0)
		g.duration = 120;
	e = getenv("PMF_SOAK_THREADS");
	if (e && atoi(e) > 0)
		nfl = atoi(e) < MAX_FLUSHERS ? atoi(e) : MAX_FLUSHERS;
	e = getenv("PMF_SOAK_RELOAD_EVERY");
	g.reload_every = e ? atof(e) : 30;
	printf("TAP version 13\n1..%d\n", C_NR);
	printf("# soak: %.0f s, %d flushers, %d registrars, reload every %.0f s\n",
	       g.duration, nfl, NREGISTRARS, g.reload_every);

	if (geteuid() || !pmf_dev_exists() || !getenv("PMF_NFIT_DEVDAX")) {
		for (i = 0; i < C_NR; i++)
			printf("ok %d %s # SKIP %s\n", i + 1, check_name[i],
			       geteuid() ? "not root" : !pmf_dev_exists() ?
			       "no " PMEMFLUSH_DEV : "no PMF_NFIT_DEVDAX (QEMU stack only)");
		printf("# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:%d error:0\n", C_NR);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	g.t0 = now();
	jiffies0 = read_jiffies();

	/* the kernel log from now on */
	g.kmsg = pmf_kmsg_open();
	kmsg_ok = g.kmsg >= 0 &&
		  !pthread_create(&kmsg_th, NULL, kmsg_reader, NULL);
	if (!kmsg_ok)
		failf(C_KMSG, "cannot follow /dev/kmsg: %s", strerror(errno));

	/* the device-dax device is opened through a twin: pmf_own_node() */
	e = getenv("PMF_NFIT_DEVDAX");
	if (pmf_own_node(e, g.dd_orig, sizeof(g.dd_orig))) {
		failf(C_SETUP, "%s: no twin node: %s", e, strerror(errno));
		goto report;
	}
	if (dd_topology(g.dd_orig, sysdir, claim, region, ns)) {
		failf(C_SETUP, "%s: no nd topology", g.dd_orig);
		goto report;
	}
	dd_set(g.dd_orig, claim, region, ns);
	say("# device-dax %s: claim %s of %s, %s\n", g.dd_orig, claim, ns, region);
	if (setup_targets())
		goto report;
	for (i = 0; i < g.nt; i++)
		say("# target %-12s %-40s region%u kind %u size %llu%s\n",
		    g.t[i].name, g.t[i].path, g.t[i].region, g.t[i].kind,
		    (unsigned long long)g.t[i].size,
		    g.t[i].can_reg ? "" : " (not registrable)");

	/* a real reload needs the module file and no module using ours */
	snprintf(holders, sizeof(holders), "/sys/module/pmemflush/holders");
	if (g.reload_every <= 0) {
		snprintf(g.reload_skip, sizeof(g.reload_skip),
			 "PMF_SOAK_RELOAD_EVERY=0");
	} else if (!getenv("PMF_MODULE") || stat(getenv("PMF_MODULE"), &st)) {
		snprintf(g.reload_skip, sizeof(g.reload_skip),
			 "PMF_MODULE does not name pmemflush.ko");
	} else {
		glob_t gl;
		char pat[80];

		snprintf(pat, sizeof(pat), "%s/*", holders);
		if (!glob(pat, 0, NULL, &gl)) {
			snprintf(g.reload_skip, sizeof(g.reload_skip),
				 "module %s uses pmemflush",
				 strrchr(gl.gl_pathv[0], '/') + 1);
			globfree(&gl);
		} else {
			g.reload_ok = true;
		}
	}

	g.child = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g.child == MAP_FAILED) {
		failf(C_SETUP, "mmap: %s", strerror(errno));
		goto report;
	}
	pthread_rwlockattr_init(&ra);
	/* the reload must get in between 8 flushers */
	pthread_rwlockattr_setkind_np(&ra,
				      PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&g.devlock, &ra);
	for (i = 0; i < NSLOTS; i++)
		pthread_mutex_init(&g.slots[i].lock, NULL);
	g.dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (g.dev < 0) {
		failf(C_SETUP, "open %s: %s", PMEMFLUSH_DEV, strerror(errno));
		goto report;
	}

	g.t0 = now();
	for (i = 0; i < nfl; i++) {
		start_worker(&fl[i], "flusher", i, flusher);
		all[nall++] = &fl[i];
	}
	for (i = 0; i < NREGISTRARS; i++) {
		reg[i].maps = true;
		start_worker(&reg[i], "registrar", i, registrar);
		all[nall++] = &reg[i];
	}
	start_worker(&ch, "churn", 0, churn);
	all[nall++] = &ch;
	start_worker(&kl, "killer", 0, killer);
	all[nall++] = &kl;
	start_worker(&ctl, "namespace", 0, controller);
	all[nall++] = &ctl;
	start_worker(&mod, "module", 0, modthread);
	all[nall++] = &mod;

	last_report = g.t0;
	while (!g.stop && now() < g.t0 + g.duration) {
		msleep(100);
		if (now() - last_report >= 10) {
			last_report = now();
			say("# %3.0f s: %llu flushes, %llu registrations, %lu cycles, %lu unload attempts, %lu reloads, %d failures\n",
			    now() - g.t0,
			    total(OP_FLUSH_FD, false) + total(OP_FLUSH_ID, false),
			    total(OP_REG_FD, false) + total(OP_REG_ADDR, false),
			    g.cycles, g.unload_attempts, g.reloads,
			    g.fails[C_ERRNOS] + g.fails[C_CYCLES] +
			    g.fails[C_UNLOAD_REFUSED] + g.fails[C_RELOAD]);
		}
	}
	g.duration = now() - g.t0;
	g.stop = 1;

	/*
	 * everyone stops within two minutes times the calibration: the
	 * namespace may be mid-cycle, and under load one ndctl
	 * disable-namespace took 135 s on the sanitizer kernel
	 */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += pmf_scaled_limit(120);
	for (i = 0; i < nall; i++) {
		if (all[i]->joined)
			continue;
		if (pthread_timedjoin_np(all[i]->th, NULL, &dl)) {
			failf(C_THREADS, "%s did not stop: %s", all[i]->name,
			      all[i]->doing);
			continue;
		}
		all[i]->joined = true;
	}

report:
	g.stop = 1;
	/* always: later tests of this boot need the device back */
	if (g.region[0] && restore_devdax(&ctl))
		failf(C_RESTORE, "the device-dax device of %s did not come back",
		      g.region);
	if (!pmf_dev_exists() && getenv("PMF_MODULE")) {
		say("# restore: loading %s\n", getenv("PMF_MODULE"));
		if (insert_module())
			failf(C_RESTORE, "finit_module: %s", strerror(errno));
	}
	if (g.dev >= 0)
		close(g.dev);
	if (!g.fails[C_SETUP] && g.nt)
		final_flushes();
	for (i = 0; i < g.nt; i++)
		if (g.t[i].file)
			unlink(g.t[i].path);

	if (!g.fails[C_SETUP] && !g.cycles)
		failf(C_CYCLES, "no disable/enable cycle completed");
	if (!g.reload_ok) {
		g.skips[C_RELOAD] = 1;
		snprintf(g.skip_why[C_RELOAD], 160, "%s", g.reload_skip);
	} else if (!g.reloads && !g.fails[C_RELOAD]) {
		g.skips[C_RELOAD] = 1;
		snprintf(g.skip_why[C_RELOAD], 160,
			 "no reload fitted in %.0f s", g.duration);
	}
	check_kmemleak(jiffies0);
	if (kmsg_ok) {
		msleep(500);
		g.kmsg_stop = 1;
		pthread_join(kmsg_th, NULL);
		if (g.kmsg_lost)
			say("# kmsg: %lu records were overwritten before they were read\n",
			    g.kmsg_lost);
		if (g.kernel_reports)
			failf(C_KMSG, "%lu kernel report(s)", g.kernel_reports);
	}
	if (g.child && g.child != MAP_FAILED)
		print_counts();

	snprintf(g.note[C_ERRNOS], 200, "%llu flushes, %llu queries, %llu registrations",
		 total(OP_FLUSH_FD, false) + total(OP_FLUSH_ID, false),
		 total(OP_QUERY_FD, false) + total(OP_QUERY_ID, false),
		 total(OP_REG_FD, false) + total(OP_REG_ADDR, false));
	snprintf(g.note[C_CYCLES], 200, "%lu cycles (%lu by ndctl), %lu probe checks, %lu renames",
		 g.cycles, g.ndctl_cycles, g.probe_checks, g.renames);
	snprintf(g.note[C_UNLOAD_REFUSED], 200, "%lu attempts", g.unload_attempts);
	snprintf(g.note[C_RELOAD], 200, "%lu reloads, %lu refused attempts while users raced",
		 g.reloads, g.reload_busy);
	for (i = 0; i < C_NR; i++) {
		if (g.fails[i]) {
			printf("not ok %d %s # %d failure(s)\n", i + 1,
			       check_name[i], g.fails[i]);
			fail++;
		} else if (g.skips[i]) {
			printf("ok %d %s # SKIP %s\n", i + 1, check_name[i],
			       g.skip_why[i]);
			skip++;
		} else {
			printf("ok %d %s%s%s\n", i + 1, check_name[i],
			       g.note[i][0] ? " # " : "", g.note[i]);
			pass++;
		}
	}
	printf("# soak: %.0f s, %llu flushes, %llu registrations, %lu disable/enable cycles, %lu reload attempts (%lu reloads), %lu kernel reports\n",
	       g.duration, total(OP_FLUSH_FD, false) + total(OP_FLUSH_ID, false),
	       total(OP_REG_FD, false) + total(OP_REG_ADDR, false), g.cycles,
	       g.unload_attempts, g.reloads, g.kernel_reports);
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       pass, fail, skip);
	fflush(stdout);
	/* threads that did not stop must not keep the exit waiting */
	_exit(fail ? 1 : 0);
}
