// SPDX-License-Identifier: GPL-2.0
/*
 * PMEMFLUSH_FLUSH / PMEMFLUSH_QUERY: argument checking, every rejection with
 * its errno, the permission model and teardown races. Runs on every stack;
 * its pmem target is the stack's device-dax device.
 */
#include <dirent.h>
#include <glob.h>
#include <stddef.h>
#include <grp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

FIXTURE(flush)
{
	int dev;
	int target;
	__u64 size;
	char node[64];	/* the device-dax node's twin */
};

FIXTURE_SETUP(flush)
{
	struct pmemflush_query q;

	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_NE(NULL, pmf_devdax_path());
	/* a test before this one may have died with the device taken away */
	ASSERT_EQ(0, pmf_teardown_restore(pmf_devdax_path()));
	/* some tests remove the device under it: see pmf_own_node() */
	ASSERT_EQ(0, pmf_own_node(pmf_devdax_path(), self->node,
				  sizeof(self->node)));
	self->target = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->target) TH_LOG("%s: %s", self->node, strerror(errno));
	ASSERT_EQ(0, pmf_query(self->dev, self->target, &q));
	self->size = q.target_size;
	ASSERT_LT(4096, self->size);
}

FIXTURE_TEARDOWN(flush)
{
	close(self->target);
	close(self->dev);
}

/*
 * The kernel reads @size bytes: a FLUSH struct whose outputs lie on an
 * unreadable page is EFAULT before anything else is looked at (the per-call
 * fast path once read only the inputs and ran the command, so a bad fd gave
 * EBADF). What the outputs hold on the way in is ignored: a struct passed
 * again as it came back, or with garbage there, is served and its outputs
 * are the real ones. QUERY likewise.
 */
TEST_F(flush, struct_read_whole)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), cut;
	struct pmemflush_flush *f, first, again;
	struct pmemflush_query q, q2;
	int fds[2] = { self->target, -1 }, i;
	char *p;

	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p + pg, pg, PROT_NONE));
	for (cut = 8; cut <= 16; cut += 8) {
		for (i = 0; i < 2; i++) {
			f = (struct pmemflush_flush *)(p + pg - sizeof(*f) + cut);
			memset(f, 0, sizeof(*f) - cut);
			f->size = sizeof(*f);
			f->fd = fds[i];
			f->length = 4096;
			EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, f));
			EXPECT_EQ(EFAULT, errno)
				TH_LOG("fd %d, last %zu bytes unreadable: %s",
				       fds[i], cut, strerror(errno));
		}
	}
	munmap(p, 2 * pg);

	ASSERT_EQ(0, pmf_flush(self->dev, self->target, 0, 4096, &first));
	again = first;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &again));
	EXPECT_EQ(first.region_id, again.region_id);
	EXPECT_EQ(first.out_flags, again.out_flags);
	again.region_id = ~0U;
	again.out_flags = ~0U;
	again.flush_seq = ~0ULL;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &again));
	EXPECT_EQ(first.region_id, again.region_id);
	EXPECT_EQ(first.out_flags, again.out_flags);
	EXPECT_NE(~0ULL, again.flush_seq);

	ASSERT_EQ(0, pmf_query(self->dev, self->target, &q));
	q2 = q;
	q2.region_id = ~0U;
	q2.has_flush = -1;
	q2.persistence_domain = ~0U;
	q2.target_kind = ~0U;
	q2.out_flags = ~0U;
	q2.target_size = ~0ULL;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_QUERY, &q2));
	EXPECT_EQ(0, memcmp(&q, &q2, sizeof(q)));
}

TEST_F(flush, bad_fd)
{
	struct pmemflush_query q;

	EXPECT_EQ(-1, pmf_flush(self->dev, -1, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, 1 << 20, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, pmf_query(self->dev, -1, &q));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(flush, closed_fd)
{
	int fd = dup(self->target);

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pmf_flush(self->dev, fd, 0, 0, NULL));
	close(fd);
	EXPECT_EQ(-1, pmf_flush(self->dev, fd, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);
}

/* a device-dax fd opened with @flags: both commands refuse it with EBADF */
static void expect_refused(struct __test_metadata *_metadata, int dev,
			   int flags)
{
	struct pmemflush_query q;
	int fd = open(pmf_devdax_path(), flags | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pmf_flush(dev, fd, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, pmf_query(dev, fd, &q));
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST_F(flush, o_path)
{
	expect_refused(_metadata, self->dev, O_PATH);
}

TEST_F(flush, read_only)
{
	expect_refused(_metadata, self->dev, O_RDONLY);
}

TEST_F(flush, pipe)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, pmf_flush(self->dev, p[1], 0, 0, NULL));
	EXPECT_EQ(ENODEV, errno);
	close(p[0]);
	close(p[1]);
}

TEST_F(flush, socket)
{
	int s[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	EXPECT_EQ(-1, pmf_flush(self->dev, s[0], 0, 0, NULL));
	EXPECT_EQ(ENODEV, errno);
	close(s[0]);
	close(s[1]);
}

/* a directory cannot be opened for writing, so it fails the access check */
TEST_F(flush, directory)
{
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pmf_flush(self->dev, fd, 0, 0, NULL));
	EXPECT_EQ(EBADF, errno);
	close(fd);
}

TEST_F(flush, tmpfs_file)
{
	char path[] = "/tmp/pmemflush-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	ASSERT_LE(0, fd);
	unlink(path);
	ASSERT_EQ(0, ftruncate(fd, 4096));
	EXPECT_EQ(-1, pmf_flush(self->dev, fd, 0, 4096, NULL));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
}

/* an ordinary disk: a loop device over a tmpfs file */
TEST_F(flush, loop_disk)
{
	char path[] = "/tmp/pmemflush-loop-XXXXXX", cmd[256], loop[64] = "";
	FILE *p;
	int fd;

	fd = mkostemp(path, O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	close(fd);
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s", path);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(loop, sizeof(loop), p));
	pclose(p);
	loop[strcspn(loop, "\n")] = '\0';

	fd = open(loop, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fd);
	EXPECT_EQ(-1, pmf_flush(self->dev, fd, 0, 0, NULL));
	EXPECT_EQ(ENODEV, errno);
	/* not "cannot be registered": not pmem at all */
	EXPECT_EQ(-1, pmf_register(self->dev, fd));
	EXPECT_EQ(ENODEV, errno);
	close(fd);
	snprintf(cmd, sizeof(cmd), "losetup -d %s", loop);
	EXPECT_EQ(0, system(cmd));
	unlink(path);
}

TEST_F(flush, not_pmemflush_itself)
{
	EXPECT_EQ(-1, pmf_flush(self->dev, self->dev, 0, 0, NULL));
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(flush, range)
{
	struct pmemflush_flush out;

	EXPECT_EQ(0, pmf_flush(self->dev, self->target, 0, 0, &out));
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, 0, self->size, &out));
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, self->size - 64, 64, &out));
	/* an empty range at the very end is still inside */
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, self->size, 0, &out));

	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, self->size - 64, 65, &out));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, self->size + 1, 0, &out));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, 0, self->size + 1, &out));
	EXPECT_EQ(ERANGE, errno);

	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, ~0ULL, 2, &out));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, 1, ~0ULL, &out));
	EXPECT_EQ(EOVERFLOW, errno);
}

TEST_F(flush, struct_checks)
{
	struct {
		struct pmemflush_flush f;
		__u64 tail[2];
	} big;
	struct pmemflush_flush arg;
	struct pmemflush_query q;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.fd = self->target;
	arg.flags = PMEMFLUSH_BY_ID << 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.flags = 1U << 31;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	EXPECT_EQ(EINVAL, errno);

	arg.flags = 0;
	arg.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	EXPECT_EQ(EINVAL, errno);

	arg.__reserved = 0;
	arg.size = 8;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.size = PMEMFLUSH_FLUSH_SIZE_VER0 - 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	EXPECT_EQ(EINVAL, errno);

	/* a newer binary's larger struct: fine while the tail is zero */
	memset(&big, 0, sizeof(big));
	big.f.size = sizeof(big);
	big.f.fd = self->target;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &big));
	big.tail[1] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &big));
	EXPECT_EQ(E2BIG, errno);

	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, NULL));
	EXPECT_EQ(EFAULT, errno);

	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.fd = self->target;
	q.__reserved2 = 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
	q.__reserved2 = 0;
	q.flags = 4;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
	q.flags = 0;
	q.size = offsetof(struct pmemflush_query, target_size);
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * The command number is matched exactly: type, number, direction and size
 * (pmemflush_abi_test tries every other number)
 */
TEST_F(flush, command_numbers)
{
	struct pmemflush_flush arg = { .size = sizeof(arg), .fd = self->target };

	EXPECT_EQ(-1, ioctl(self->dev, _IOW(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_FLUSH,
					    struct pmemflush_flush), &arg));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->dev, _IOWR(PMEMFLUSH_TYPE, 0x42,
					     struct pmemflush_flush), &arg));
	EXPECT_EQ(ENOTTY, errno);
	/* the size bits are part of the command */
	EXPECT_EQ(-1, ioctl(self->dev, _IOWR(PMEMFLUSH_TYPE, PMEMFLUSH_CMD_FLUSH,
					     __u64), &arg));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &arg));
	/* the first version's number, with the first version's struct */
	arg.size = PMEMFLUSH_FLUSH_SIZE_VER0;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, &arg));
}

/*
 * As nobody (in a child): exit 0 when a writable fd of @path can be flushed
 * and a read-only one cannot; another code names the step that went wrong.
 */
static int nobody_flushes(const char *path, int expect_open_fails)
{
	int status, dev, fd;
	pid_t pid;

	pid = fork();
	if (pid)
		return pid < 0 || waitpid(pid, &status, 0) != pid ||
		       !WIFEXITED(status) ? -1 : WEXITSTATUS(status);

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		_exit(2);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		_exit(3);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (expect_open_fails)
		_exit(fd < 0 && errno == EACCES ? 0 : 4);
	if (fd < 0)
		_exit(5);
	if (pmf_flush(dev, fd, 0, 4096, NULL))
		_exit(6);
	close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(7);
	if (pmf_flush(dev, fd, 0, 4096, NULL) != -1 || errno != EBADF)
		_exit(8);
	_exit(0);
}

TEST_F(flush, unprivileged)
{
	const char *path = pmf_devdax_path();
	struct stat st;

	ASSERT_EQ(0, stat(path, &st));
	/* a device node only root may open: nobody cannot get an fd to flush */
	ASSERT_EQ(0, chmod(path, 0600));
	EXPECT_EQ(0, nobody_flushes(path, 1));

	/* nobody's own node: flushing needs the fd open for writing */
	ASSERT_EQ(0, chown(path, 65534, 65534));
	EXPECT_EQ(0, nobody_flushes(path, 0));

	EXPECT_EQ(0, chown(path, st.st_uid, st.st_gid));
	EXPECT_EQ(0, chmod(path, st.st_mode & 07777));
}

/*
 * Teardown race: four threads flush the device-dax device, two by fd and two
 * by a registered id, while the main thread disables and re-enables it 100
 * times: its namespace claim (dax_pmem unbound, as ndctl disable-namespace
 * does), and the whole region every tenth time (which frees the region
 * driver's flush data). device_dax itself is unbound in killed_dax below,
 * without fds open across its rebind (see README, "Noticed in the kernel").
 * Every call must return 0 or ENXIO, and the kernel log must stay clean.
 * Re-enabling a region may bring the device back under another name, so the
 * flushers take the current path from the main thread.
 *
 * A flusher whose device is gone waits for the main thread's next node
 * (race_flusher() says why). The 100 cycles take 60-90 s on a quiet host;
 * so that a slow one still ends well inside the test's limit, after
 * RACE_BUDGET s the test stops at the next multiple of 20 cycles (each
 * holds two region cycles, after which the device is back under its first
 * name), 20 at least; the log says how many ran.
 */
#define RACE_CYCLES	100
#define RACE_MIN	20
#define RACE_BUDGET	400
struct race {
	pthread_mutex_t lock;
	char path[64];
	volatile int stop;
	int dev;
	long ok, gone, other;
	int gen;	/* of @path: the main thread's count of new nodes */
	/* for the watchdog: where the main thread is, and since when */
	volatile int done;
	const char *volatile step;
	volatile int iter;
	volatile time_t since;
};

struct flusher {
	struct race *r;
	int by_id;
};

static void *race_flusher(void *arg)
{
	struct flusher *f = arg;
	struct race *r = f->r;
	long ok = 0, gone = 0, other = 0;
	long long id = -1;
	char path[64];
	int fd = -1, rc, gen = -1, dead = -1;

	while (!r->stop) {
		if (fd < 0) {
			pthread_mutex_lock(&r->lock);
			memcpy(path, r->path, sizeof(path));
			gen = r->gen;
			pthread_mutex_unlock(&r->lock);
			/*
			 * Not the node of a device seen gone again: with no
			 * cdev behind its number, chrdev_open() asks for a
			 * module (base_probe() -> request_module("char-major-
			 * M-m")) and waits for modprobe. Four threads doing
			 * that in a loop starved the one-vCPU sanitizer guest
			 * until a region's teardown (del_gendisk()'s
			 * synchronize_rcu()) took 300 s and more (watchdog).
			 */
			if (gen == dead) {
				usleep(1000);
				continue;
			}
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				dead = gen;
				continue;
			}
			/* registering races the teardown too */
			if (f->by_id) {
				id = pmf_register(r->dev, fd);
				if (id < 0 && errno != ENXIO) {
					other++;
					fprintf(stderr, "# register: unexpected %s\n",
						strerror(errno));
				}
			}
		}
		if (f->by_id)
			rc = id < 0 ? -1 : pmf_flush_id(r->dev, id, 0, 4096, NULL);
		else
			rc = pmf_flush(r->dev, fd, 0, 4096, NULL);
		if (!rc) {
			ok++;
		} else if (errno == ENXIO || (f->by_id && id < 0)) {
			gone++;
			if (id >= 0 && pmf_unregister(r->dev, id))
				other++;
			id = -1;
			close(fd);
			fd = -1;
			dead = gen;	/* until the main thread has a new node */
		} else {
			other++;
			fprintf(stderr, "# flush: unexpected %s\n", strerror(errno));
		}
	}
	if (id >= 0)
		pmf_unregister(r->dev, id);
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&r->lock);
	r->ok += ok;
	r->gone += gone;
	r->other += other;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static int sysfs_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return pmf_write_file(path, val, O_TRUNC);
}

static time_t race_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void race_step(struct race *r, const char *step)
{
	r->since = race_now();
	r->step = step;
}

/*
 * A step of the main loop that takes 60 s (times the calibration) is a
 * stall, not a slow machine: say where, with the kernel stacks of this
 * test's threads and of every task in D state, once, and let the harness's
 * timeout end the test. Without this a stall showed only as "Test
 * terminated by timeout".
 */
static void *race_watchdog(void *arg)
{
	struct race *r = arg;
	/* well inside the test's own (scaled) timeout, or it never fires */
	time_t limit = 60 * pmf_timeout_scale() > 300 ? 300 :
		       60 * pmf_timeout_scale();
	char dir[PATH_MAX];
	struct dirent *d;
	DIR *proc;

	while (!r->done) {
		sleep(1);
		if (race_now() - r->since < limit)
			continue;
		printf("# watchdog: iteration %d, %s for %ld s; stacks:\n",
		       r->iter, r->step, (long)(race_now() - r->since));
		proc = opendir("/proc/self/task");
		while (proc && (d = readdir(proc))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "/proc/self/task/%s", d->d_name);
			pmf_dump_task(dir);
		}
		if (proc)
			closedir(proc);
		proc = opendir("/proc");
		while (proc && (d = readdir(proc))) {
			char st[256], *c;

			if (d->d_name[0] < '0' || d->d_name[0] > '9')
				continue;
			snprintf(dir, sizeof(dir), "/proc/%s/stat", d->d_name);
			if (pmf_read_line(dir, st, sizeof(st)))
				continue;
			c = strrchr(st, ')');
			if (!c || c[1] != ' ' || c[2] != 'D')
				continue;
			snprintf(dir, sizeof(dir), "/proc/%s", d->d_name);
			pmf_dump_task(dir);
		}
		if (proc)
			closedir(proc);
		fflush(stdout);
		return NULL;
	}
	return NULL;
}

/*
 * wait for the region's device-dax node to be back; the path of its twin
 * (pmf_own_node()) into @node
 */
static int wait_for_devdax(const char *region, char *node)
{
	char pattern[128], dir[PATH_MAX], dev[64];
	glob_t g;
	int i, fd;

	snprintf(pattern, sizeof(pattern),
		 "/sys/bus/nd/devices/%s/dax*.*/dax*.*/dev", region);
	for (i = 0; i < 400 * pmf_timeout_scale(); i++) {
		if (!glob(pattern, 0, NULL, &g)) {
			snprintf(dir, sizeof(dir), "%s", g.gl_pathv[0]);
			globfree(&g);
			*strrchr(dir, '/') = '\0';	/* drop "/dev" */
			snprintf(dev, sizeof(dev), "/dev/%s",
				 strrchr(dir, '/') + 1);
			fd = pmf_own_node(dev, node, 64) ? -1 :
			     open(node, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				close(fd);
				return 0;
			}
		}
		usleep(50000);
	}
	return -1;
}

/* the device-dax device (daxR.M) behind a node: its /dev name */
static const char *devdax_name(const char *node)
{
	return strrchr(node, '/') + 1;
}

TEST_F_TIMEOUT(flush, teardown_race, 900)
{
	const char *nd_drv = "/sys/bus/nd/drivers/dax_pmem";
	const char *region_drv = "/sys/bus/nd/drivers/nd_region";
	char claim[64], region[64], node[64];
	struct race r = { .dev = self->dev };
	struct flusher f[4];
	pthread_t t[4], wd;
	time_t start;
	int i, cycles;

	snprintf(r.path, sizeof(r.path), "%s", self->node);
	snprintf(node, sizeof(node), "%s", r.path);
	ASSERT_EQ(0, pmf_devdax_topology(r.path, claim, region));
	pthread_mutex_init(&r.lock, NULL);
	race_step(&r, "starting");
	ASSERT_EQ(0, pthread_create(&wd, NULL, race_watchdog, &r));
	for (i = 0; i < 4; i++) {
		f[i].r = &r;
		f[i].by_id = i & 1;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, race_flusher, &f[i]));
	}
	pmf_teardown_begin(region, claim);
	start = race_now();
	for (i = 0; i < RACE_CYCLES; i++) {
		/* whole pairs of region cycles: the device's name comes back */
		if (i >= RACE_MIN && !(i % 20) &&
		    race_now() - start >= RACE_BUDGET)
			break;
		if (i && !(i % 10))
			TH_LOG("cycle %d after %ld s", i, (long)(race_now() - start));
		r.iter = i;
		/* the twin goes with the device (pmf_own_node()) */
		if (i % 10 == 9) {
			race_step(&r, "unbinding the region");
			ASSERT_EQ(0, sysfs_write(region_drv, "unbind", region));
			unlink(node);
			race_step(&r, "binding the region");
			ASSERT_EQ(0, sysfs_write(region_drv, "bind", region));
		} else {
			race_step(&r, "unbinding the claim");
			ASSERT_EQ(0, sysfs_write(nd_drv, "unbind", claim));
			unlink(node);
			race_step(&r, "binding the claim");
			ASSERT_EQ(0, sysfs_write(nd_drv, "bind", claim));
		}
		/* let the flushers work on a live device in between */
		race_step(&r, "waiting for the device");
		ASSERT_EQ(0, wait_for_devdax(region, node));
		pthread_mutex_lock(&r.lock);
		memcpy(r.path, node, sizeof(node));
		r.gen++;
		pthread_mutex_unlock(&r.lock);
		ASSERT_EQ(0, pmf_devdax_topology(node, claim, region));
		pmf_teardown_begin(region, claim);
	}
	cycles = i;
	race_step(&r, "stopping the flushers");
	r.stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	r.done = 1;
	pthread_join(wd, NULL);
	pmf_teardown_end();
	TH_LOG("%d cycles in %ld s; flushes: %ld ok, %ld ENXIO, %ld other",
	       cycles, (long)(race_now() - start), r.ok, r.gone, r.other);
	EXPECT_EQ(0, r.other);
	EXPECT_LT(0, r.ok);
	/* later tests find the device under its original name */
	EXPECT_STREQ(devdax_name(pmf_devdax_path()), devdax_name(node));
}

/*
 * A device-dax device whose driver is unbound is killed (dev_dax_kill():
 * dax_alive() is false): its fd and id answer ENXIO, and the id works again
 * once device_dax is bound back, which revives the same dax_device. No fd
 * of the device stays open across the rebind: dev_dax_probe() re-inits the
 * cdev such an fd still references (see README, "Noticed in the kernel").
 */
TEST_F(flush, killed_dax)
{
	const char *dax_drv = "/sys/bus/dax/drivers/device_dax";
	const char *name = devdax_name(pmf_devdax_path());
	struct pmemflush_query q;
	long long id = pmf_register(self->dev, self->target);

	ASSERT_LT(0, id);
	ASSERT_EQ(0, sysfs_write(dax_drv, "unbind", name));
	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pmf_query(self->dev, self->target, &q));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(ENXIO, errno);
	close(self->target);
	ASSERT_EQ(0, sysfs_write(dax_drv, "bind", name));
	self->target = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->target);
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

/*
 * An id whose device went away (its namespace claim was re-enabled, which
 * makes a new device) answers ENXIO for good, never crashes, never waits;
 * the device's new incarnation is registered anew.
 */
TEST_F(flush, id_after_device_gone)
{
	const char *nd_drv = "/sys/bus/nd/drivers/dax_pmem";
	char claim[64], region[64], node[64];
	long long id = pmf_register(self->dev, self->target), id2;
	int fd;

	ASSERT_LT(0, id);
	ASSERT_EQ(0, pmf_devdax_topology(pmf_devdax_path(), claim, region));
	pmf_teardown_begin(region, claim);
	ASSERT_EQ(0, sysfs_write(nd_drv, "unbind", claim));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	ASSERT_EQ(0, sysfs_write(nd_drv, "bind", claim));
	ASSERT_EQ(0, wait_for_devdax(region, node));
	pmf_teardown_end();
	EXPECT_STREQ(devdax_name(pmf_devdax_path()), devdax_name(node));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, pmf_flush(self->dev, self->target, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);

	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	id2 = pmf_register(self->dev, fd);
	ASSERT_LT(0, id2);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id2, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_flush(self->dev, fd, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, id2));
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	close(fd);
}

/*
 * The window between the liveness check and the device flush, widened to
 * 200 ms with the module's debugfs knob: a flush sleeps in it while the
 * device, then the whole region, is torn down. The teardown must wait for
 * the flush (kill_dax()'s synchronize_srcu()): the flush completes, the
 * next one answers ENXIO, and the kernel log stays clean.
 */
struct window {
	int dev;
	__u32 id;
	int rc, err;
};

static void *window_flusher(void *arg)
{
	struct window *w = arg;

	w->rc = pmf_flush_id(w->dev, w->id, 0, 4096, NULL);
	w->err = errno;
	return NULL;
}

static void teardown_in_window(struct __test_metadata *_metadata, int dev,
			       const char *drv, const char *victim)
{
	struct window w = { .dev = dev };
	char delay[32];
	pthread_t t;
	long long id;
	int fd, i;

	fd = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	id = pmf_register(dev, fd);
	close(fd);
	ASSERT_LT(0, id);
	w.id = id;
	ASSERT_EQ(0, pmf_read_ll(PMF_DEBUGFS "/in_window"));
	/*
	 * 200 ms times the calibration: a fixed 200 ms passed unseen by the
	 * 1 ms poll below on the sanitizer kernel under stress-ng
	 */
	snprintf(delay, sizeof(delay), "%d", 200000 * pmf_timeout_scale());
	ASSERT_EQ(0, pmf_write_file(PMF_DEBUGFS "/flush_delay_us", delay,
				    O_TRUNC));
	ASSERT_EQ(0, pthread_create(&t, NULL, window_flusher, &w));
	for (i = 0; i < 2000 * pmf_timeout_scale() &&
		    pmf_read_ll(PMF_DEBUGFS "/in_window") < 1; i++)
		usleep(1000);
	ASSERT_EQ(1, pmf_read_ll(PMF_DEBUGFS "/in_window"));
	ASSERT_EQ(0, sysfs_write(drv, "unbind", victim));
	/* the teardown passed kill_dax() only after the flush was done */
	EXPECT_EQ(0, pmf_read_ll(PMF_DEBUGFS "/in_window"));
	pthread_join(t, NULL);
	EXPECT_EQ(0, w.rc) TH_LOG("flush in the window: %s", strerror(w.err));
	EXPECT_EQ(0, pmf_write_file(PMF_DEBUGFS "/flush_delay_us", "0", O_TRUNC));
	EXPECT_EQ(-1, pmf_flush_id(dev, id, 0, 4096, NULL));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, pmf_unregister(dev, id));
	ASSERT_EQ(0, sysfs_write(drv, "bind", victim));
}

TEST_F_TIMEOUT(flush, teardown_in_flush_window, 300)
{
	char claim[64], region[64], node[64];

	ASSERT_EQ(0, pmf_devdax_topology(pmf_devdax_path(), claim, region));
	pmf_teardown_begin(region, claim);
	teardown_in_window(_metadata, self->dev,
			   "/sys/bus/nd/drivers/dax_pmem", claim);
	ASSERT_EQ(0, wait_for_devdax(region, node));
	teardown_in_window(_metadata, self->dev,
			   "/sys/bus/nd/drivers/nd_region", region);
	ASSERT_EQ(0, wait_for_devdax(region, node));
	pmf_teardown_end();
	EXPECT_STREQ(devdax_name(pmf_devdax_path()), devdax_name(node));
}

/* unload is refused while a flush user holds /dev/pmemflush */
TEST_F(flush, module_pinned_by_flusher)
{
	struct kmod_module *mod;
	struct kmod_ctx *ctx;

	mod = pmf_kmod_module(&ctx);
	if (!mod)
		SKIP(return, "PMF_MODULE does not name a loadable pmemflush.ko");
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, 0, 4096, NULL));
	EXPECT_EQ(-EWOULDBLOCK, kmod_module_remove_module(mod, 0));
	EXPECT_TRUE(pmf_module_live(mod));
	EXPECT_EQ(0, pmf_flush(self->dev, self->target, 0, 4096, NULL));
	kmod_module_unref(mod);
	kmod_unref(ctx);
}

TEST_HARNESS_MAIN
