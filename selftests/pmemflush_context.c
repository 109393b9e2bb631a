// SPDX-License-Identifier: GPL-2.0
/*
 * The caller's context does not change what the module answers: a
 * Landlock-sandboxed caller that may open only the device-dax node and
 * /dev/pmemflush registers and queries it as anyone else does (the module
 * reads no sysfs file with the caller's credentials); a signal storm while
 * another device-dax namespace is reconfigured never turns a REGISTER into
 * ENXIO or EINTR; and a file on a foreign disk (loop) or a non-DAX file on
 * pmem is refused (ENODEV, EOPNOTSUPP) before any dax or queue lookup.
 * QEMU stack (PMF_STACK_QEMU): NFIT device-dax, virtio-pmem device-dax, the
 * raw, fsdax and BTT namespaces and their file systems.
 */
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <linux/landlock.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

/* ---------------------------------------------------------------- Landlock */

/* access rights newer than the build host's <linux/landlock.h> (6.1: v2) */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER	(1ULL << 13)	/* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#endif

static int ll_create_ruleset(const struct landlock_ruleset_attr *attr,
			     size_t size, __u32 flags)
{
	return syscall(__NR_landlock_create_ruleset, attr, size, flags);
}

static int ll_add_rule(int ruleset, enum landlock_rule_type type,
		       const void *attr, __u32 flags)
{
	return syscall(__NR_landlock_add_rule, ruleset, type, attr, flags);
}

static int ll_restrict_self(int ruleset, __u32 flags)
{
	return syscall(__NR_landlock_restrict_self, ruleset, flags);
}

/* every filesystem access right of Landlock ABI @abi */
static __u64 ll_fs_rights(int abi)
{
	__u64 rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */

	if (abi >= 2)
		rights |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
	/* ABI 4 added network rights, 6 and 7 scopes and logging */
	if (abi >= 5)
		rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return rights;
}

/* what the sandboxed child saw, for the parent to judge */
struct ll_result {
	int stage;		/* LL_* that failed, 0 when all went well */
	int err;		/* its errno */
	int sysfs_errno;	/* opening a region's sysfs attribute */
	long long id;
	struct pmemflush_query by_id;
	struct pmemflush_query by_fd;
	struct pmemflush_flush flush;
};

enum {
	LL_OK, LL_PATH, LL_RULESET, LL_RULE, LL_NNP, LL_RESTRICT, LL_OPEN_DEV,
	LL_OPEN_TARGET, LL_REGISTER, LL_QUERY_ID, LL_QUERY_FD, LL_FLUSH_ID,
};

static const char *const ll_stage[] = {
	"ok", "open O_PATH", "landlock_create_ruleset", "landlock_add_rule",
	"PR_SET_NO_NEW_PRIVS", "landlock_restrict_self", "open /dev/pmemflush",
	"open the device-dax node", "REGISTER", "QUERY by id", "QUERY by fd",
	"FLUSH by id",
};

static int ll_allow(int ruleset, const char *path, __u64 rights,
		    struct ll_result *r)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights };
	int ret;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0) {
		r->stage = LL_PATH;
		return -1;
	}
	ret = ll_add_rule(ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	if (ret)
		r->stage = LL_RULE;
	return ret;
}

/*
 * The child: sandbox itself so that only @devdax and /dev/pmemflush may be
 * opened (read and write), open both only then, and use the module.
 */
static void ll_child(int abi, const char *devdax, int region, struct ll_result *r)
{
	struct landlock_ruleset_attr attr = { .handled_access_fs = ll_fs_rights(abi) };
	__u64 file = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
	char attr_path[128];
	int ruleset, dev, fd;

	memset(r, 0, sizeof(*r));
	ruleset = ll_create_ruleset(&attr, sizeof(attr), 0);
	if (ruleset < 0) {
		r->stage = LL_RULESET;
		goto out;
	}
	if (ll_allow(ruleset, devdax, file, r) ||
	    ll_allow(ruleset, PMEMFLUSH_DEV,
		     file | (abi >= 5 ? LANDLOCK_ACCESS_FS_IOCTL_DEV : 0), r))
		goto out;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		r->stage = LL_NNP;
		goto out;
	}
	if (ll_restrict_self(ruleset, 0)) {
		r->stage = LL_RESTRICT;
		goto out;
	}
	close(ruleset);

	/* the sandbox denies what the old module read on our behalf */
	snprintf(attr_path, sizeof(attr_path),
		 "/sys/bus/nd/devices/region%d/persistence_domain", region);
	fd = open(attr_path, O_RDONLY | O_CLOEXEC);
	r->sysfs_errno = fd < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		r->stage = LL_OPEN_DEV;
		goto out;
	}
	fd = open(devdax, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r->stage = LL_OPEN_TARGET;
		goto out;
	}
	r->id = pmf_register(dev, fd);
	if (r->id < 0) {
		r->stage = LL_REGISTER;
		goto out;
	}
	if (pmf_query_id(dev, r->id, &r->by_id)) {
		r->stage = LL_QUERY_ID;
		goto out;
	}
	if (pmf_query(dev, fd, &r->by_fd)) {
		r->stage = LL_QUERY_FD;
		goto out;
	}
	if (pmf_flush_id(dev, r->id, 0, 4096, &r->flush)) {
		r->stage = LL_FLUSH_ID;
		goto out;
	}
	return;
out:
	r->err = errno;
}

FIXTURE(landlock)
{
	int dev;
	int fd;
	const char *path;
	struct pmemflush_query q;
};

FIXTURE_SETUP(landlock)
{
	self->fd = -1;
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->path = getenv("PMF_NFIT_DEVDAX");
	ASSERT_NE(NULL, self->path);
	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	/* unsandboxed: what every caller must be told */
	ASSERT_EQ(0, pmf_query(self->dev, self->fd, &self->q));
	/* QEMU's nvdimm-persistence=mem-ctrl (tools/vm/run.sh) */
	ASSERT_EQ(PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, self->q.persistence_domain);
	ASSERT_EQ(PMEMFLUSH_TARGET_DEVDAX, self->q.target_kind);
	ASSERT_EQ(pmf_sysfs_region(self->path), (int)self->q.region_id);
}

FIXTURE_TEARDOWN(landlock)
{
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

static void expect_same_query(struct __test_metadata *_metadata,
			      const struct pmemflush_query *want,
			      const struct pmemflush_query *got, const char *how)
{
	TH_LOG("sandboxed QUERY by %s: region%u has_flush %d domain %u kind %u flags %#x size %llu",
	       how, got->region_id, got->has_flush, got->persistence_domain,
	       got->target_kind, got->out_flags,
	       (unsigned long long)got->target_size);
	EXPECT_EQ(PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, got->persistence_domain);
	EXPECT_EQ(want->persistence_domain, got->persistence_domain);
	EXPECT_EQ(want->has_flush, got->has_flush);
	EXPECT_EQ(want->out_flags, got->out_flags);
	EXPECT_EQ(want->target_size, got->target_size);
	EXPECT_EQ(want->target_kind, got->target_kind);
	EXPECT_EQ(want->region_id, got->region_id);
}

/*
 * A caller that Landlock lets open only the device-dax node and
 * /dev/pmemflush registers and queries it, and is told what an unsandboxed
 * caller is told: the module reads no sysfs attribute in its context.
 */
TEST_F_TIMEOUT(landlock, devdax_register_query, 120)
{
	struct ll_result r;
	int abi, status, p[2];
	ssize_t n;
	pid_t pid;

	abi = ll_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP))
		SKIP(return, "no Landlock in this kernel (%s)", strerror(errno));
	ASSERT_LE(1, abi) TH_LOG("Landlock ABI query: %s", strerror(errno));
	TH_LOG("Landlock ABI %d: handling filesystem rights %#llx", abi,
	       (unsigned long long)ll_fs_rights(abi));

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(p[0]);
		ll_child(abi, self->path, self->q.region_id, &r);
		n = write(p[1], &r, sizeof(r));
		_exit(n == sizeof(r) ? 0 : 1);
	}
	close(p[1]);
	n = read(p[0], &r, sizeof(r));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_EQ(sizeof(r), n);

	/* the sandbox is real: the region's sysfs attribute is denied */
	EXPECT_EQ(EACCES, r.sysfs_errno);
	ASSERT_EQ(LL_OK, r.stage)
		TH_LOG("sandboxed child: %s failed: %s", ll_stage[r.stage],
		       strerror(r.err));
	EXPECT_LT(0, r.id);
	expect_same_query(_metadata, &self->q, &r.by_id, "id");
	expect_same_query(_metadata, &self->q, &r.by_fd, "fd");
	EXPECT_EQ(self->q.region_id, r.flush.region_id);
}

/* ----------------------------------------------- signals while reconfiguring */

#define STORM_SECONDS	10
#define STORM_MAX_S	180	/* wait this long at most for a reconfiguration */
#define RESTORE_S	60

/* the reconfigurer's and the threads' shared counters (MAP_SHARED) */
struct storm_shared {
	volatile int stop;
	volatile int cycles;		/* disable + enable pairs done */
	volatile int ndctl_failures;
	volatile long memmap_writes;	/* dax_dev_rwsem write sections (6.12) */
};

struct storm_counts {
	long ok;
	long enxio;
	long eintr;
	long other;
	int other_errno;
	long unreg_fail;
};

FIXTURE(storm)
{
	int dev;
	int fd;
	char ns[64];
	char daxname[32];
	const char *vpath;
	struct storm_shared *sh;
	pid_t child;
	pthread_t a, b;
	int threads;
	volatile int stop;
	struct storm_counts counts;
};

static volatile long storm_signals;

static void storm_handler(int sig)
{
	(void)sig;
	__atomic_add_fetch(&storm_signals, 1, __ATOMIC_RELAXED);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int node_is_chr(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISCHR(st.st_mode);
}

/* the namespace whose device-dax device @path is, as ndctl names it */
static int devdax_namespace(const char *path, char *ns, size_t len)
{
	int region = pmf_sysfs_region(path);
	char cmd[256];
	FILE *p;

	if (region < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "ndctl list -r region%d -N | sed -n 's/.*\"dev\":\"\\(namespace[0-9.]*\\)\".*/\\1/p'",
		 region);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (!fgets(ns, len, p))
		ns[0] = '\0';
	pclose(p);
	ns[strcspn(ns, "\n")] = '\0';
	return ns[0] ? 0 : -1;
}

static int ndctl_ns(const char *verb, const char *ns)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ndctl %s-namespace %s >/dev/null 2>&1", verb, ns);
	return system(cmd);
}

struct memmap_arg {
	struct storm_shared *sh;
	char attr[128];
};

/*
 * 6.12: each store of memmap_on_memory takes dax_dev_rwsem for writing
 * (memmap_on_memory_store()), the lock dax size_show() takes interruptibly;
 * writing the value it has changes nothing. Absent on 6.1.
 */
static void *memmap_writer(void *p)
{
	struct memmap_arg *m = p;
	int fd, i;

	while (!m->sh->stop) {
		fd = open(m->attr, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT && errno != ENODEV)
				return NULL;
			usleep(1000);
			continue;
		}
		for (i = 0; i < 200 && !m->sh->stop; i++) {
			if (pwrite(fd, "0", 1, 0) != 1)
				break;
			__atomic_add_fetch(&m->sh->memmap_writes, 1, __ATOMIC_RELAXED);
		}
		close(fd);
	}
	return NULL;
}

/* child C: disable and enable @ns until told to stop, ending enabled */
static void reconfigurer(struct storm_shared *sh, const char *ns,
			 const char *daxname)
{
	struct memmap_arg m = { .sh = sh };
	pthread_t t;
	int writer;

	snprintf(m.attr, sizeof(m.attr), "/sys/bus/dax/devices/%s/memmap_on_memory",
		 daxname);
	writer = !access(m.attr, F_OK) && !pthread_create(&t, NULL, memmap_writer, &m);
	while (!sh->stop) {
		if (ndctl_ns("disable", ns)) {
			sh->ndctl_failures++;
			break;
		}
		if (ndctl_ns("enable", ns)) {
			sh->ndctl_failures++;
			break;
		}
		sh->cycles++;
	}
	sh->stop = 1;
	if (writer)
		pthread_join(t, NULL);
	ndctl_ns("enable", ns);
	_exit(0);
}

/*
 * The storm's threads run at nice 19: on the sanitizer kernel's single
 * vCPU they otherwise starved the reconfigurer, whose ndctl finished no
 * disable+enable in 90 s (10,113 signals, 2,860 REGISTERs). The race still
 * happens: the threads run whenever ndctl sleeps, holding the dax locks.
 */
static void storm_yield_cpu(void)
{
	setpriority(PRIO_PROCESS, syscall(SYS_gettid), 19);
}

/* thread A: REGISTER + UNREGISTER the NFIT device-dax until stopped */
static void *storm_register(void *p)
{
	FIXTURE_DATA(storm) *self = p;
	struct storm_counts *c = &self->counts;
	long long id;

	storm_yield_cpu();
	while (!self->stop) {
		id = pmf_register(self->dev, self->fd);
		if (id <= 0) {
			if (errno == ENXIO) {
				c->enxio++;
			} else if (errno == EINTR) {
				c->eintr++;
			} else {
				c->other++;
				c->other_errno = errno;
			}
			continue;
		}
		c->ok++;
		if (pmf_unregister(self->dev, id))
			c->unreg_fail++;
	}
	return NULL;
}

/* thread B: SIGUSR1 to thread A every ~100 us */
static void *storm_signaller(void *p)
{
	FIXTURE_DATA(storm) *self = p;
	struct timespec ts = { .tv_nsec = 100 * 1000 };

	storm_yield_cpu();
	while (!self->stop) {
		pthread_kill(self->a, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

FIXTURE_SETUP(storm)
{
	const char *name;

	self->fd = -1;
	self->child = -1;
	self->sh = MAP_FAILED;
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_NE(NULL, getenv("PMF_NFIT_DEVDAX"));
	self->fd = open(getenv("PMF_NFIT_DEVDAX"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->vpath = getenv("PMF_VIRTIO_DEVDAX");
	ASSERT_NE(NULL, self->vpath);
	name = strrchr(self->vpath, '/');
	ASSERT_NE(NULL, name);
	snprintf(self->daxname, sizeof(self->daxname), "%s", name + 1);
	ASSERT_EQ(0, devdax_namespace(self->vpath, self->ns, sizeof(self->ns)));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	memset((void *)self->sh, 0, sizeof(*self->sh));
}

/* stop everything, and leave the virtio namespace enabled with its node */
FIXTURE_TEARDOWN(storm)
{
	double deadline;
	int status;

	self->stop = 1;
	if (self->threads) {
		pthread_join(self->b, NULL);
		pthread_join(self->a, NULL);
	}
	if (self->sh != MAP_FAILED)
		self->sh->stop = 1;
	if (self->child > 0) {
		deadline = now_s() + RESTORE_S;
		while (waitpid(self->child, &status, WNOHANG) == 0) {
			if (now_s() > deadline) {
				kill(self->child, SIGKILL);
				waitpid(self->child, &status, 0);
				break;
			}
			usleep(10000);
		}
	}
	if (self->ns[0]) {
		ndctl_ns("enable", self->ns);
		deadline = now_s() + RESTORE_S;
		while (!node_is_chr(self->vpath) && now_s() < deadline)
			usleep(10000);
		EXPECT_TRUE(node_is_chr(self->vpath))
			TH_LOG("%s did not come back after enabling %s",
			       self->vpath, self->ns);
	}
	if (self->sh != MAP_FAILED)
		munmap((void *)self->sh, sizeof(*self->sh));
	if (self->fd >= 0)
		close(self->fd);
	close(self->dev);
}

/*
 * A REGISTER interrupted by signals again and again, while another
 * device-dax namespace is disabled and enabled (and, on 6.12, its
 * dax_dev_rwsem taken for writing), always returns an id: the module
 * reads no sysfs attribute whose show() sleeps interruptibly.
 */
TEST_F_TIMEOUT(storm, register_under_signals, 300)
{
	struct sigaction sa = { .sa_handler = storm_handler };
	double t0, stop_at;
	long signals;

	/* no SA_RESTART: an interrupted sleep in the kernel is EINTR */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	storm_signals = 0;

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child)
		reconfigurer(self->sh, self->ns, self->daxname);

	/* no ASSERT from here to the join: teardown joins the threads */
	t0 = now_s();
	if (pthread_create(&self->a, NULL, storm_register, self))
		goto out;
	if (pthread_create(&self->b, NULL, storm_signaller, self)) {
		self->stop = 1;
		pthread_join(self->a, NULL);
		goto out;
	}
	self->threads = 1;
	/* at least STORM_SECONDS, and until a reconfiguration was done */
	stop_at = t0 + STORM_SECONDS;
	while (now_s() < stop_at ||
	       (self->sh->cycles < 1 && !self->sh->ndctl_failures &&
		now_s() < t0 + STORM_MAX_S))
		usleep(50000);
	self->stop = 1;
	pthread_join(self->b, NULL);
	pthread_join(self->a, NULL);
	self->threads = 0;
out:
	signals = __atomic_load_n(&storm_signals, __ATOMIC_RELAXED);
	self->sh->stop = 1;
	TH_LOG("%.1f s: %ld REGISTERs ok, %ld ENXIO, %ld EINTR, %ld other (last %s), %ld UNREGISTER failures",
	       now_s() - t0, self->counts.ok, self->counts.enxio,
	       self->counts.eintr, self->counts.other,
	       strerror(self->counts.other_errno), self->counts.unreg_fail);
	TH_LOG("%ld signals handled; %s disabled+enabled %d times (%d ndctl failures); %ld memmap_on_memory stores",
	       signals, self->ns, self->sh->cycles, self->sh->ndctl_failures,
	       (long)self->sh->memmap_writes);
	ASSERT_EQ(1, self->stop) TH_LOG("could not start the threads");
	/* the race happened, or this proves nothing */
	EXPECT_LT(0, signals);
	EXPECT_LT(0, self->sh->cycles);
	EXPECT_EQ(0, self->sh->ndctl_failures);
	EXPECT_LT(0, self->counts.ok);
	EXPECT_EQ(0, self->counts.enxio);
	EXPECT_EQ(0, self->counts.eintr);
	EXPECT_EQ(0, self->counts.other);
	EXPECT_EQ(0, self->counts.unreg_fail);
}

/* --------------------------------------------- foreign disks, non-DAX files */

#define LOOP_IMG	"/run/pmemflush-ctx-loop.img"
#define LOOP_MNT	"/run/pmemflush-ctx-loop"
#define QUEUE_ENTER	"pmemflush:pmemflush_queue_enter"
#define DAX_LOOKUP	"fs_dax_get_by_bdev"

FIXTURE(foreign)
{
	int dev;
	char loopdev[64];
	int mounted;
	char btt_file[PATH_MAX];
	char dax_file[PATH_MAX];
	int fds[8];
	int nfds;
	struct pmf_probe dax, queue;
	int dax_on, queue_on;
};

static int foreign_open(struct __test_metadata *_metadata,
			FIXTURE_DATA(foreign) *self, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);

	EXPECT_LE(0, fd) TH_LOG("open %s: %s", path, strerror(errno));
	if (fd >= 0 && self->nfds < (int)(sizeof(self->fds) / sizeof(self->fds[0])))
		self->fds[self->nfds++] = fd;
	return fd;
}

FIXTURE_SETUP(foreign)
{
	char cmd[256];
	FILE *p;
	int fd;

	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_NE(NULL, getenv("PMF_NFIT_BTT_EXT4"));
	ASSERT_NE(NULL, getenv("PMF_NFIT_RAW"));
	ASSERT_NE(NULL, getenv("PMF_NFIT_EXT4"));
	ASSERT_NE(NULL, getenv("PMF_NFIT_PMEM"));

	/* ext4 on a loop device over a file in tmpfs: no pmem behind it */
	fd = open(LOOP_IMG, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 32 << 20));
	close(fd);
	p = popen("losetup -f --show " LOOP_IMG, "r");
	ASSERT_NE(NULL, p);
	if (!fgets(self->loopdev, sizeof(self->loopdev), p))
		self->loopdev[0] = '\0';
	pclose(p);
	self->loopdev[strcspn(self->loopdev, "\n")] = '\0';
	ASSERT_EQ(0, strncmp(self->loopdev, "/dev/loop", 9))
		TH_LOG("losetup gave '%s'", self->loopdev);
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -b 4096 %s >/dev/null 2>&1",
		 self->loopdev);
	ASSERT_EQ(0, system(cmd));
	mkdir(LOOP_MNT, 0755);
	ASSERT_EQ(0, mount(self->loopdev, LOOP_MNT, "ext4", 0, NULL))
		TH_LOG("mount %s: %s", self->loopdev, strerror(errno));
	self->mounted = 1;
	snprintf(self->btt_file, sizeof(self->btt_file), "%s/ctx-nondax",
		 getenv("PMF_NFIT_BTT_EXT4"));
	snprintf(self->dax_file, sizeof(self->dax_file), "%s/ctx-dax",
		 getenv("PMF_NFIT_EXT4"));
}

FIXTURE_TEARDOWN(foreign)
{
	char cmd[128];
	int i;

	if (self->dax_on)
		pmf_probe_stop(&self->dax);
	if (self->queue_on)
		pmf_probe_stop(&self->queue);
	for (i = 0; i < self->nfds; i++)
		close(self->fds[i]);
	if (self->btt_file[0])
		unlink(self->btt_file);
	if (self->dax_file[0])
		unlink(self->dax_file);
	if (self->mounted)
		EXPECT_EQ(0, umount(LOOP_MNT));
	rmdir(LOOP_MNT);
	if (self->loopdev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", self->loopdev);
		EXPECT_EQ(0, system(cmd));
	}
	unlink(LOOP_IMG);
	close(self->dev);
}

/* FLUSH and QUERY by fd of @fd both fail with @err */
static void expect_refused(struct __test_metadata *_metadata, int dev, int fd,
			   int err, const char *what)
{
	struct pmemflush_query q;

	EXPECT_EQ(-1, pmf_flush(dev, fd, 0, 0, NULL)) TH_LOG("FLUSH %s", what);
	EXPECT_EQ(err, errno) TH_LOG("FLUSH %s: %s", what, strerror(errno));
	EXPECT_EQ(-1, pmf_query(dev, fd, &q)) TH_LOG("QUERY %s", what);
	EXPECT_EQ(err, errno) TH_LOG("QUERY %s: %s", what, strerror(errno));
}

/*
 * A file on a disk that is not pmem, the disk itself, and a non-DAX file on
 * pmem are answered before any dax_device or queue lookup.
 */
TEST_F_TIMEOUT(foreign, answered_before_lookups, 180)
{
	int file, loop, btt, raw, dax_file, pmem;
	char buf[4096];
	int n_dax, n_queue;

	memset(buf, 0x5a, sizeof(buf));

	file = foreign_open(_metadata, self, LOOP_MNT "/file", O_RDWR | O_CREAT);
	ASSERT_LE(0, file);
	ASSERT_EQ(4096, pwrite(file, buf, 4096, 0));
	loop = foreign_open(_metadata, self, self->loopdev, O_RDWR);
	ASSERT_LE(0, loop);
	btt = foreign_open(_metadata, self, self->btt_file, O_RDWR | O_CREAT);
	ASSERT_LE(0, btt);
	ASSERT_EQ(4096, pwrite(btt, buf, 4096, 0));
	raw = foreign_open(_metadata, self, getenv("PMF_NFIT_RAW"), O_RDWR);
	ASSERT_LE(0, raw);
	dax_file = foreign_open(_metadata, self, self->dax_file, O_RDWR | O_CREAT);
	ASSERT_LE(0, dax_file);
	ASSERT_EQ(4096, pwrite(dax_file, buf, 4096, 0));
	pmem = foreign_open(_metadata, self, getenv("PMF_NFIT_PMEM"), O_RDWR);
	ASSERT_LE(0, pmem);

	ASSERT_EQ(0, pmf_probe_start(&self->dax, DAX_LOOKUP))
		TH_LOG("kprobe on %s: %s", DAX_LOOKUP, strerror(errno));
	self->dax_on = 1;
	ASSERT_EQ(0, pmf_probe_start(&self->queue, QUEUE_ENTER))
		TH_LOG("kprobe on %s: %s", QUEUE_ENTER, strerror(errno));
	self->queue_on = 1;
	ASSERT_EQ(0, pmf_probe_count(&self->dax));
	ASSERT_EQ(0, pmf_probe_count(&self->queue));

	expect_refused(_metadata, self->dev, file, ENODEV, "a file on loop ext4");
	expect_refused(_metadata, self->dev, loop, ENODEV, "the loop device");
	expect_refused(_metadata, self->dev, btt, EOPNOTSUPP, "a file on BTT ext4");
	n_dax = pmf_probe_count(&self->dax);
	n_queue = pmf_probe_count(&self->queue);
	TH_LOG("refused calls: %d %s, %d %s", n_dax, DAX_LOOKUP, n_queue, QUEUE_ENTER);
	EXPECT_EQ(0, n_dax);
	EXPECT_EQ(0, n_queue);

	/* controls: the probes do count, on targets that use what they probe */
	EXPECT_EQ(0, pmf_flush(self->dev, raw, 0, 4096, NULL))
		TH_LOG("FLUSH raw pmem: %s", strerror(errno));
	n_queue = pmf_probe_count(&self->queue);
	EXPECT_LT(0, n_queue) TH_LOG("FLUSH of %s: no %s", getenv("PMF_NFIT_RAW"),
				     QUEUE_ENTER);
	EXPECT_EQ(0, pmf_flush(self->dev, dax_file, 0, 4096, NULL))
		TH_LOG("FLUSH DAX file: %s", strerror(errno));
	EXPECT_EQ(0, pmf_flush(self->dev, pmem, 0, 4096, NULL))
		TH_LOG("FLUSH fsdax block device: %s", strerror(errno));
	n_dax = pmf_probe_count(&self->dax);
	EXPECT_LT(0, n_dax) TH_LOG("FLUSH of a file in %s and of %s: no %s",
				   getenv("PMF_NFIT_EXT4"),
				   getenv("PMF_NFIT_PMEM"), DAX_LOOKUP);
}

TEST_HARNESS_MAIN
