// SPDX-License-Identifier: GPL-2.0
/*
 * FLUSH as an io_uring command (uapi: "Deep flush through io_uring"), on
 * every NFIT stack: the QEMU stack's NFIT device-dax (no device flush:
 * completes when issued) and virtio-pmem device-dax (a host fsync per
 * device flush), nfit_test's flush-hint device-dax.
 *
 *   errors          every errno of the table through a CQE, 64-byte SQEs,
 *                   an unknown cmd_op, an IOPOLL ring
 *   barriers        a region without a device flush: by fd and by id,
 *                   flush_seq 0 in the CQE's extra word
 *   group_commit    64 commands and 4 threads of ioctls by id on a region
 *                   with a device flush: every call served by a flush that
 *                   started after it (flush_seq between the counters read
 *                   before and after), and ioctls and commands numbered
 *                   from one sequence: each flush the region ran served one
 *                   of them at least
 *   ring_exit       a ring closed with commands in flight: the exit
 *                   returns, the module's reference count comes back, the
 *                   next ring works
 *   module_pinned_by_ring  a ring's registered /dev/pmemflush pins the module
 *   fuzz            20,000 random commands: every res documented, log clean
 *   teardown_in_flight  device_dax unbound while commands wait: 0 or ENXIO
 *   exec_cancels    a process execs with commands queued: cancelled
 *                   (ECANCELED) on 6.7 and later, completed on 6.1
 *   files_by_fd     by-fd commands on DAX files (ext4, XFS, virtio-pmem
 *                   ext4): the resolution that may sleep, reissued from
 *                   io-wq
 */
#include <sys/utsname.h>
#include <dirent.h>
#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#define AREA 80		/* the command area of a 128-byte SQE */

static int ring_init(struct io_uring *ring, unsigned int entries,
		     unsigned int flags)
{
	struct io_uring_params p = { .flags = flags };

	return io_uring_queue_init_params(entries, ring, &p);
}

/* an SQE for @f (copied as @size bytes of an 80-byte area, rest zero) */
static struct io_uring_sqe *prep(struct io_uring *ring, int dev, const void *f,
				 size_t size, __u32 cmd_op, __u64 data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev, NULL, 0, 0);
	sqe->cmd_op = cmd_op;
	if (ring->flags & IORING_SETUP_SQE128) {
		memset(sqe->cmd, 0, AREA);
		memcpy(sqe->cmd, f, size);
	} else {
		/* 16 bytes are all a 64-byte SQE has */
		memcpy(sqe->cmd, f, 16);
	}
	sqe->user_data = data;
	return sqe;
}

/*
 * A CQE that does not come in 60 s (times the calibration) is a stall: say
 * where, once, with the group-commit counters and the kernel stacks of
 * every task in D state or in this module's code, and wait on.
 */
static void dump_stall(void)
{
	char path[64], line[256];
	struct dirent *d;
	bool ours;
	FILE *f;
	DIR *proc;

	printf("# no CQE for %d s; regions:\n", 60 * pmf_timeout_scale());
	f = fopen(PMF_DEBUGFS "/regions", "re");
	while (f && fgets(line, sizeof(line), f))
		printf("#   %s", line);
	if (f)
		fclose(f);
	proc = opendir("/proc");
	while (proc && (d = readdir(proc))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.40s/stack", d->d_name);
		f = fopen(path, "re");
		ours = false;
		while (f && fgets(line, sizeof(line), f))
			ours |= strstr(line, "pmf_") || strstr(line, "io_uring") ||
				strstr(line, "srcu");
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/%.40s", d->d_name);
		if (ours)
			pmf_dump_task(path);
	}
	if (proc)
		closedir(proc);
	fflush(stdout);
}

/* submit what is prepared, reap one CQE: its res; *seq: big_cqe[0] */
static int reap(struct io_uring *ring, __u64 *data, __u64 *seq)
{
	struct __kernel_timespec ts = { .tv_sec = 60 * pmf_timeout_scale() };
	struct io_uring_cqe *cqe;
	int res, rc;

	rc = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
	if (rc == -ETIME) {
		dump_stall();
		rc = io_uring_wait_cqe(ring, &cqe);
	}
	if (rc)
		return rc == -EINTR ? -1000 : rc - 1000;
	res = cqe->res;
	if (data)
		*data = cqe->user_data;
	if (seq)
		*seq = (ring->flags & IORING_SETUP_CQE32) ? cqe->big_cqe[0] :
							  ~0ULL;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* one command through /dev/pmemflush registered as fixed file 0 */
static int one_fixed(struct io_uring *ring, const struct pmemflush_flush *f)
{
	io_uring_sqe_set_flags(prep(ring, 0, f, sizeof(*f),
				    PMEMFLUSH_URING_CMD_FLUSH, 1),
			       IOSQE_FIXED_FILE);
	if (io_uring_submit(ring) != 1)
		return -2000;
	return reap(ring, NULL, NULL);
}

/* one command, submitted and reaped: its res */
static int one(struct io_uring *ring, int dev, const void *f, size_t size,
	       __u32 cmd_op, __u64 *seq)
{
	prep(ring, dev, f, size, cmd_op, 1);
	if (io_uring_submit(ring) != 1)
		return -2000;
	return reap(ring, NULL, seq);
}

static struct pmemflush_flush by_fd(int fd, __u64 off, __u64 len)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .fd = fd, .offset = off, .length = len,
	};
	return f;
}

static struct pmemflush_flush by_id(__u32 id, __u64 off, __u64 len)
{
	struct pmemflush_flush f = {
		.size = sizeof(f), .flags = PMEMFLUSH_BY_ID, .id = id,
		.offset = off, .length = len,
	};
	return f;
}

/* open @env's device-dax through a twin node (pmemflush_test.h) */
static int open_devdax(const char *env, int flags)
{
	const char *node = getenv(env);
	char twin[64];

	if (!node || pmf_own_node(node, twin, sizeof(twin)))
		return -1;
	return open(twin, flags | O_CLOEXEC);
}

TEST(errors)
{
	struct pmemflush_flush f;
	struct io_uring ring, small, poll;
	struct pmemflush_query q;
	__u8 area[AREA + 8];
	int dev, fd, ro, null, pipefd[2];
	long long id;
	__u64 size;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open_devdax("PMF_NFIT_DEVDAX", O_RDWR);
	if (fd < 0)
		fd = open_devdax("PMF_HINTS_DEVDAX", O_RDWR);
	ASSERT_LE(0, fd);
	ro = open(pmf_devdax_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	ASSERT_EQ(0, pmf_query(dev, fd, &q));
	size = q.target_size;
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, ring_init(&ring, 8, IORING_SETUP_SQE128));
	ASSERT_EQ(0, ring_init(&small, 8, 0));

	f = by_fd(fd, 0, 4096);
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	/* a 64-byte SQE: the struct does not fit */
	EXPECT_EQ(-EMSGSIZE, one(&small, dev, &f, sizeof(f),
				 PMEMFLUSH_URING_CMD_FLUSH, NULL));
	/* the ioctl's number, and another */
	EXPECT_EQ(-ENOTTY, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_FLUSH, NULL));
	EXPECT_EQ(-ENOTTY, one(&ring, dev, &f, sizeof(f), 0, NULL));
	/* an io_uring command on a file that takes none (a pipe) */
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	EXPECT_EQ(-EOPNOTSUPP, one(&ring, pipefd[1], &f, sizeof(f),
				   PMEMFLUSH_URING_CMD_FLUSH, NULL));
	close(pipefd[0]);
	close(pipefd[1]);
	/* an IOPOLL ring: nothing to poll for, refused */
	ASSERT_EQ(0, ring_init(&poll, 8, IORING_SETUP_SQE128 | IORING_SETUP_IOPOLL));
	EXPECT_EQ(-EOPNOTSUPP, one(&poll, dev, &f, sizeof(f),
				   PMEMFLUSH_URING_CMD_FLUSH, NULL));
	io_uring_queue_exit(&poll);

	f = by_fd(fd, 0, 4096);
	f.size = PMEMFLUSH_FLUSH_SIZE_VER0 - 1;
	EXPECT_EQ(-EINVAL, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f.size = PMEMFLUSH_FLUSH_SIZE_VER0;
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	/* the whole area, its tail zero; a byte past the struct; past 80 */
	memset(area, 0, sizeof(area));
	f = by_fd(fd, 0, 4096);
	f.size = AREA;
	memcpy(area, &f, sizeof(f));
	EXPECT_EQ(0, one(&ring, dev, area, AREA, PMEMFLUSH_URING_CMD_FLUSH, NULL));
	area[AREA - 1] = 1;
	EXPECT_EQ(-E2BIG, one(&ring, dev, area, AREA, PMEMFLUSH_URING_CMD_FLUSH, NULL));
	area[AREA - 1] = 0;
	f.size = AREA + 1;
	memcpy(area, &f, sizeof(f));
	EXPECT_EQ(-E2BIG, one(&ring, dev, area, AREA, PMEMFLUSH_URING_CMD_FLUSH, NULL));

	f = by_fd(fd, 0, 4096);
	f.flags = 1U << 7;
	EXPECT_EQ(-EINVAL, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(fd, 0, 4096);
	f.__reserved = 1;
	EXPECT_EQ(-EINVAL, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(-1, 0, 4096);
	EXPECT_EQ(-EBADF, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(ro, 0, 4096);
	EXPECT_EQ(-EBADF, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(null, 0, 0);
	EXPECT_EQ(-ENODEV, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(fd, size, 1);
	EXPECT_EQ(-ERANGE, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_fd(fd, ~0ULL, 2);
	EXPECT_EQ(-EOVERFLOW, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_id((__u32)id + 1000, 0, 4096);
	EXPECT_EQ(-ENOENT, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_id((__u32)id, size - 4096, 4097);
	EXPECT_EQ(-ERANGE, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	f = by_id((__u32)id, size - 4096, 4096);
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));

	io_uring_queue_exit(&small);
	io_uring_queue_exit(&ring);
	close(null);
	close(ro);
	close(fd);
	close(dev);
}

/* a region without a device flush (QEMU's NFIT): completes when issued */
TEST(barriers)
{
	struct pmemflush_flush f;
	struct io_uring ring;
	int dev, fd, i;
	long long id;
	__u64 seq;

	fd = open_devdax("PMF_NFIT_DEVDAX", O_RDWR);
	if (fd < 0)
		SKIP(return, "no device-dax without a device flush on this stack");
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, ring_init(&ring, 32, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	for (i = 0; i < 2; i++) {
		f = i ? by_id((__u32)id, 0, 1 << 20) : by_fd(fd, 0, 1 << 20);
		seq = 1;
		EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f),
				 PMEMFLUSH_URING_CMD_FLUSH, &seq));
		EXPECT_EQ(0, seq);
	}
	/* /dev/pmemflush as a registered file (IOSQE_FIXED_FILE) */
	ASSERT_EQ(0, io_uring_register_files(&ring, &dev, 1));
	f = by_id((__u32)id, 0, 4096);
	EXPECT_EQ(0, one_fixed(&ring, &f));
	io_uring_queue_exit(&ring);
	close(fd);
	close(dev);
}

/* the region with a device flush this stack has, its fd and region id */
static int open_flushing(int dev, int *region)
{
	struct pmemflush_query q;
	int fd;

	fd = open_devdax("PMF_VIRTIO_DEVDAX", O_RDWR);
	if (fd < 0)
		fd = open_devdax("PMF_HINTS_DEVDAX", O_RDWR);
	if (fd < 0)
		return -1;
	if (pmf_query(dev, fd, &q)) {
		close(fd);
		return -1;
	}
	*region = q.region_id;
	return fd;
}

struct ioctl_thread {
	pthread_t th;
	int dev;
	__u32 id;
	int n;
	int errors;
	__u64 seqs[64];
};

static void *ioctl_flusher(void *arg)
{
	struct ioctl_thread *t = arg;
	struct pmemflush_flush out;
	int i;

	for (i = 0; i < t->n; i++) {
		if (pmf_flush_id(t->dev, t->id, 0, 4096, &out))
			t->errors++;
		else
			t->seqs[i] = out.flush_seq;
	}
	return NULL;
}

#define NCMD	64
#define NTHR	4
#define NIOC	16

TEST(group_commit)
{
	unsigned long long issued0 = 0, done0 = 0, issued1 = 0, done1 = 0;
	struct ioctl_thread thr[NTHR];
	static unsigned char seen[1 << 16];
	unsigned long long distinct = 0, k;
	struct pmemflush_flush f;
	struct io_uring ring;
	__u64 seq[NCMD], data;
	int dev, fd, region, i, j, res;
	long long id;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open_flushing(dev, &region);
	if (fd < 0)
		SKIP(return, "no device-dax with a device flush on this stack");
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, ring_init(&ring, NCMD, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	/* a first flush, so that the region is in the debugfs list */
	ASSERT_EQ(0, pmf_flush_id(dev, (__u32)id, 0, 4096, NULL));
	ASSERT_EQ(0, pmf_region_seq(region, &issued0, &done0));
	ASSERT_EQ(issued0, done0);

	for (i = 0; i < NTHR; i++) {
		thr[i] = (struct ioctl_thread){ .dev = dev, .id = (__u32)id,
						.n = NIOC };
		ASSERT_EQ(0, pthread_create(&thr[i].th, NULL, ioctl_flusher,
					    &thr[i]));
	}
	f = by_id((__u32)id, 0, 4096);
	for (i = 0; i < NCMD; i++)
		prep(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, i);
	ASSERT_EQ(NCMD, io_uring_submit(&ring));
	for (i = 0; i < NCMD; i++) {
		res = reap(&ring, &data, &seq[i]);
		EXPECT_EQ(0, res);
		ASSERT_GT(NCMD, data);
	}
	for (i = 0; i < NTHR; i++) {
		pthread_join(thr[i].th, NULL);
		EXPECT_EQ(0, thr[i].errors);
	}
	ASSERT_EQ(0, pmf_region_seq(region, &issued1, &done1));
	EXPECT_EQ(issued1, done1);
	ASSERT_GT(sizeof(seen), issued1 - issued0);

	/* each served by a flush after its submission; one numbering */
	for (i = 0; i < NCMD; i++) {
		EXPECT_LT(issued0, seq[i]);
		EXPECT_GE(issued1, seq[i]);
		if (seq[i] > issued0 && seq[i] <= issued1)
			seen[seq[i] - issued0] = 1;
	}
	for (i = 0; i < NTHR; i++)
		for (j = 0; j < NIOC; j++) {
			EXPECT_LT(issued0, thr[i].seqs[j]);
			EXPECT_GE(issued1, thr[i].seqs[j]);
			if (thr[i].seqs[j] > issued0 && thr[i].seqs[j] <= issued1)
				seen[thr[i].seqs[j] - issued0] = 1;
		}
	for (k = 1; k <= issued1 - issued0; k++)
		distinct += seen[k];
	TH_LOG("%d commands and %d ioctls: %llu device flushes",
	       NCMD, NTHR * NIOC, issued1 - issued0);
	/* every flush the region ran served a command or an ioctl */
	EXPECT_EQ(issued1 - issued0, distinct);
	EXPECT_GE(NCMD + NTHR * NIOC, issued1 - issued0);

	io_uring_queue_exit(&ring);
	close(fd);
	close(dev);
}

static long module_refs(void)
{
	return pmf_read_ll("/sys/module/pmemflush/refcnt");
}

TEST(ring_exit)
{
	struct pmemflush_flush f;
	struct io_uring ring;
	int dev, fd, region, i, round;
	long refs0;
	long long id;

	refs0 = module_refs();
	ASSERT_LE(0, refs0);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open_flushing(dev, &region);
	if (fd < 0)
		SKIP(return, "no device-dax with a device flush on this stack");
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, ring_init(&ring, NCMD, IORING_SETUP_SQE128));
		f = round == 1 ? by_fd(fd, 0, 4096) : by_id((__u32)id, 0, 4096);
		for (i = 0; i < NCMD; i++)
			prep(&ring, dev, &f, sizeof(f),
			     PMEMFLUSH_URING_CMD_FLUSH, i);
		ASSERT_EQ(NCMD, io_uring_submit(&ring));
		/* gone with every command in flight or queued */
		io_uring_queue_exit(&ring);
	}
	/* still works; once the rings are gone, their references are too */
	ASSERT_EQ(0, ring_init(&ring, 8, IORING_SETUP_SQE128));
	f = by_id((__u32)id, 0, 4096);
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	io_uring_queue_exit(&ring);
	close(fd);
	close(dev);
	for (i = 0; i < 100 * pmf_timeout_scale() && module_refs() != refs0; i++)
		usleep(50000);
	EXPECT_EQ(refs0, module_refs());
}

/*
 * A ring that holds /dev/pmemflush as a registered file pins the module as
 * an open fd does: unloading is refused, and the file still takes commands
 * after the process closed its own fd.
 */
TEST(module_pinned_by_ring)
{
	struct kmod_module *mod;
	struct pmemflush_flush f;
	struct kmod_ctx *kctx;
	struct io_uring ring;
	int dev, fd;

	mod = pmf_kmod_module(&kctx);
	if (!mod)
		SKIP(return, "PMF_MODULE does not name a loadable pmemflush.ko");
	fd = open_devdax("PMF_NFIT_DEVDAX", O_RDWR);
	if (fd < 0)
		fd = open_devdax("PMF_HINTS_DEVDAX", O_RDWR);
	ASSERT_LE(0, fd);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ring_init(&ring, 8, IORING_SETUP_SQE128));
	ASSERT_EQ(0, io_uring_register_files(&ring, &dev, 1));
	close(dev);
	EXPECT_EQ(-EWOULDBLOCK, kmod_module_remove_module(mod, 0));
	EXPECT_TRUE(pmf_module_live(mod));
	f = by_fd(fd, 0, 4096);
	EXPECT_EQ(0, one_fixed(&ring, &f));
	io_uring_queue_exit(&ring);
	close(fd);
	kmod_module_unref(mod);
	kmod_unref(kctx);
}

/*
 * Random commands: half valid-looking structs (every size up to 81, flags,
 * fds of every kind, ids live and not, ranges near the ends and past
 * them), half random bytes, a random cmd_op one time in eight, submitted
 * 32 at a time. Every CQE's res must be in the uapi's list for io_uring,
 * the kernel log must stay clean, and a flush must still work after.
 */
static __u64 xorshift(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool documented(int res)
{
	static const int ok[] = {
		0, -EFAULT, -EINVAL, -E2BIG, -ENOTTY, -EBADF, -ENOENT,
		-ENODEV, -EOPNOTSUPP, -ENXIO, -EOVERFLOW, -ERANGE, -ENOMEM,
		-EIO, -EMSGSIZE, -ECANCELED,
	};
	unsigned int i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (res == ok[i])
			return true;
	return false;
}

TEST(fuzz)
{
	int dev, kmsg, lost, i, j, n, res, bad = 0, pipefd[2], pool[9];
	__u64 rng = 0x9e3779b97f4a7c15ULL ^ (__u64)getpid();
	long ncmd = 20000, counts[4] = { 0 };
	__u8 area[AREA + 8];
	struct pmemflush_flush f;
	struct io_uring ring;
	long long id;
	__u32 ids[4];
	__u64 size;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	pool[0] = open_devdax("PMF_NFIT_DEVDAX", O_RDWR);
	if (pool[0] < 0)
		pool[0] = open_devdax("PMF_HINTS_DEVDAX", O_RDWR);
	ASSERT_LE(0, pool[0]);
	pool[1] = open_devdax("PMF_VIRTIO_DEVDAX", O_RDWR);
	pool[2] = open(pmf_devdax_path(), O_RDONLY | O_CLOEXEC);
	pool[3] = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	pool[4] = pipefd[1];
	pool[5] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pool[6] = dev;
	pool[7] = -1;
	pool[8] = 900;		/* never open */
	{
		struct pmemflush_query q;

		ASSERT_EQ(0, pmf_query(dev, pool[0], &q));
		size = q.target_size;
	}
	for (i = 0; i < 4; i++) {
		id = pmf_register(dev, pool[i < 2 && pool[1] >= 0 ? i : 0]);
		ASSERT_LE(0, id);
		ids[i] = (__u32)id;
	}
	/* one id dropped: ENOENT from now on */
	ASSERT_EQ(0, pmf_unregister(dev, ids[3]));
	ASSERT_EQ(0, ring_init(&ring, 32, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	kmsg = pmf_kmsg_open();
	ASSERT_LE(0, kmsg);

	for (n = 0; n < ncmd; n += 32) {
		for (j = 0; j < 32; j++) {
			__u64 r = xorshift(&rng);
			__u32 op = PMEMFLUSH_URING_CMD_FLUSH;

			for (i = 0; i < (int)sizeof(area); i += 8) {
				__u64 w = xorshift(&rng);

				memcpy(area + i, &w, 8);
			}
			if (r & 1) {
				memset(&f, 0, sizeof(f));
				f.size = (r >> 8) % 4 == 0 ? (__u32)((r >> 16) % 82) :
					 (r >> 8) % 4 == 1 ? PMEMFLUSH_FLUSH_SIZE_VER0 :
					 (r >> 8) % 4 == 2 ? AREA : sizeof(f);
				f.flags = (r >> 20) % 3 == 0 ? PMEMFLUSH_BY_ID :
					  (r >> 20) % 3 == 1 ? 0 : (__u32)(r >> 32);
				if (f.flags & PMEMFLUSH_BY_ID)
					f.id = (r >> 24) % 5 < 4 ? ids[(r >> 24) % 4] :
					       (__u32)(r >> 40);
				else
					f.fd = pool[(r >> 24) % 9];
				f.offset = (r >> 28) % 3 == 0 ? 0 :
					   (r >> 28) % 3 == 1 ? size - ((r >> 30) % 8192) :
					   xorshift(&rng);
				f.length = (r >> 32) % 3 == 0 ? 4096 :
					   (r >> 32) % 3 == 1 ? (r >> 34) % 8192 :
					   xorshift(&rng);
				if ((r >> 36) % 4)
					memset(area, 0, sizeof(area));
				memcpy(area, &f, sizeof(f));
			}
			if ((r >> 44) % 8 == 0)
				op = (__u32)(r >> 48) * 0x10001u;
			prep(&ring, dev, area, AREA, op, j);
		}
		ASSERT_EQ(32, io_uring_submit(&ring));
		for (j = 0; j < 32; j++) {
			res = reap(&ring, NULL, NULL);
			counts[res == 0 ? 0 : res == -ENOTTY ? 1 :
			       res == -EINVAL || res == -E2BIG ? 2 : 3]++;
			if (!documented(res) && bad++ < 10)
				TH_LOG("undocumented res %d (%s)", res,
				       strerror(-res));
		}
	}
	TH_LOG("%ld commands: %ld ok, %ld ENOTTY, %ld EINVAL/E2BIG, %ld other errors",
	       ncmd, counts[0], counts[1], counts[2], counts[3]);
	EXPECT_EQ(0, bad);
	EXPECT_LT(0, counts[0]);
	EXPECT_LT(0, counts[3]);
	EXPECT_EQ(0, pmf_kmsg_scan(kmsg, &lost));
	close(kmsg);
	f = by_id(ids[0], 0, 4096);
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, NULL));
	io_uring_queue_exit(&ring);
	for (i = 0; i < 6; i++)
		if (pool[i] >= 0)
			close(pool[i]);
	close(pipefd[0]);
	close(dev);
}

#define DAX_DRV		"/sys/bus/dax/drivers/device_dax"
#define DELAY_KNOB	PMF_DEBUGFS "/flush_delay_us"

/* what a test that died here left: device_dax unbound, the knob set */
static void restore_dax(const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	pmf_write_file(DELAY_KNOB, "0", O_TRUNC);
	snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/driver", name);
	if (!lstat(path, &st))
		return;
	if (pmf_write_file(DAX_DRV "/bind", name, O_TRUNC))
		fprintf(stderr, "# restore: bind %s: %s\n", name, strerror(errno));
	else
		fprintf(stderr, "# restore: %s was left unbound\n", name);
}

/*
 * The device-dax driver unbound (kill_dax()) while commands wait for the
 * region's device flush: a flush is held in the widened window when the
 * unbind starts, so some commands are queued behind it. Each completes
 * with 0 or ENXIO, never anything else, and at least one with ENXIO; the
 * kernel log stays clean; bound again, the id flushes again (the same
 * dax_device, revived).
 */
#define NTEAR	32
#define NTEARFD	8

TEST(teardown_in_flight)
{
	int dev, fd, region, i, res, kmsg, lost, ok = 0, gone = 0, other = 0;
	const char *node = getenv("PMF_VIRTIO_DEVDAX");
	struct pmemflush_flush f;
	struct io_uring ring;
	char delay[32];
	const char *name;
	long long id;

	if (!node)
		node = getenv("PMF_HINTS_DEVDAX");
	if (!node)
		SKIP(return, "no device-dax with a device flush on this stack");
	name = strrchr(node, '/') + 1;
	restore_dax(name);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open_flushing(dev, &region);
	ASSERT_LE(0, fd);
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, ring_init(&ring, NTEAR + NTEARFD, IORING_SETUP_SQE128));
	kmsg = pmf_kmsg_open();
	ASSERT_LE(0, kmsg);

	snprintf(delay, sizeof(delay), "%d", 300000 * pmf_timeout_scale());
	ASSERT_EQ(0, pmf_write_file(DELAY_KNOB, delay, O_TRUNC));
	f = by_id((__u32)id, 0, 4096);
	for (i = 0; i < NTEAR; i++)
		prep(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, i);
	f = by_fd(fd, 0, 4096);
	for (i = 0; i < NTEARFD; i++)
		prep(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, i);
	ASSERT_EQ(NTEAR + NTEARFD, io_uring_submit(&ring));
	for (i = 0; i < 200 * pmf_timeout_scale(); i++) {
		if (pmf_read_ll(PMF_DEBUGFS "/in_window") > 0)
			break;
		usleep(10000);
	}
	EXPECT_GT(200 * pmf_timeout_scale(), i);
	TH_LOG("a flush in the window after %d ms; unbinding %s", i * 10, name);
	/* returns once the flush in the window has left dax_srcu */
	ASSERT_EQ(0, pmf_write_file(DAX_DRV "/unbind", name, O_TRUNC));
	ASSERT_EQ(0, pmf_write_file(DELAY_KNOB, "0", O_TRUNC));
	TH_LOG("unbound; reaping");
	for (i = 0; i < NTEAR + NTEARFD; i++) {
		res = reap(&ring, NULL, NULL);
		if (!res)
			ok++;
		else if (res == -ENXIO)
			gone++;
		else
			other++;
	}
	TH_LOG("%d commands: %d ok, %d ENXIO, %d other", NTEAR + NTEARFD,
	       ok, gone, other);
	EXPECT_EQ(0, other);
	EXPECT_LT(0, gone);
	f = by_id((__u32)id, 0, 4096);
	EXPECT_EQ(-ENXIO, one(&ring, dev, &f, sizeof(f),
			      PMEMFLUSH_URING_CMD_FLUSH, NULL));
	/* no fd of the device across the rebind (flush_test's killed_dax) */
	close(fd);
	ASSERT_EQ(0, pmf_write_file(DAX_DRV "/bind", name, O_TRUNC));
	EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH,
			 NULL));
	EXPECT_EQ(0, pmf_kmsg_scan(kmsg, &lost));
	EXPECT_EQ(0, lost);
	close(kmsg);
	io_uring_queue_exit(&ring);
	close(dev);
}

/*
 * A process that execs with commands still queued on the region: on 6.7
 * and later io_uring cancels a task's requests at exec (begin_new_exec() ->
 * io_uring_task_cancel() -> io_uring_try_cancel_uring_cmd(), the module's
 * IO_URING_F_CANCEL path), and they complete with ECANCELED; 6.1 has no
 * cancel for a driver's command, so the exec waits for them
 * (io_uring_cancel_generic()) and they complete with 0. (A thread's or a
 * process's plain exit cancels nothing on either: io_uring_files_cancel()
 * waits only for requests it tracks, and these are not.) A forked child
 * submits on the parent's ring: one command whose flush is held in the
 * widened window, then NEXEC behind it, then it execs /bin/true; the
 * parent reaps them all. Nothing else, and the log stays clean.
 */
#define NEXEC	16

static void exec_child(struct io_uring *ring, int dev, __u32 id)
{
	struct pmemflush_flush f = by_id(id, 0, 4096);
	int i;

	prep(ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, 0);
	if (io_uring_submit(ring) != 1)
		_exit(2);
	for (i = 0; i < 2000 * pmf_timeout_scale(); i++) {
		if (pmf_read_ll(PMF_DEBUGFS "/in_window") > 0)
			break;
		usleep(1000);
	}
	if (i == 2000 * pmf_timeout_scale())
		_exit(3);
	for (i = 1; i <= NEXEC; i++)
		prep(ring, dev, &f, sizeof(f), PMEMFLUSH_URING_CMD_FLUSH, i);
	if (io_uring_submit(ring) != NEXEC)
		_exit(4);
	execl("/bin/true", "true", (char *)NULL);
	_exit(5);
}

static bool kernel_cancels(void)
{
	struct utsname u;
	int major, minor;

	return !uname(&u) && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
	       (major > 6 || (major == 6 && minor >= 7));
}

TEST(exec_cancels)
{
	int dev, fd, region, kmsg, lost, status, ok = 0, canceled = 0;
	int other = 0, waited;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	char delay[32];
	long long id;
	pid_t pid;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open_flushing(dev, &region);
	if (fd < 0)
		SKIP(return, "no device-dax with a device flush on this stack");
	pmf_write_file(DELAY_KNOB, "0", O_TRUNC);
	id = pmf_register(dev, fd);
	ASSERT_LE(0, id);
	ASSERT_EQ(0, ring_init(&ring, 32, IORING_SETUP_SQE128));
	kmsg = pmf_kmsg_open();
	ASSERT_LE(0, kmsg);
	snprintf(delay, sizeof(delay), "%d", 300000 * pmf_timeout_scale());
	ASSERT_EQ(0, pmf_write_file(DELAY_KNOB, delay, O_TRUNC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		exec_child(&ring, dev, (__u32)id);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, pmf_write_file(DELAY_KNOB, "0", O_TRUNC));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/*
	 * the child moved the shared SQ ring on; this copy of it only reads
	 * the CQ ring from here on, by polling
	 */
	for (waited = 0; ok + canceled + other < NEXEC + 1 &&
	     waited < 60000 * pmf_timeout_scale(); ) {
		if (io_uring_peek_cqe(&ring, &cqe)) {
			usleep(1000);
			waited++;
			continue;
		}
		if (!cqe->res)
			ok++;
		else if (cqe->res == -ECANCELED)
			canceled++;
		else
			other++;
		io_uring_cqe_seen(&ring, cqe);
	}
	TH_LOG("%d commands of a child that exec'd: %d ok, %d ECANCELED, %d other",
	       NEXEC + 1, ok, canceled, other);
	EXPECT_EQ(NEXEC + 1, ok + canceled + other);
	EXPECT_EQ(0, other);
	EXPECT_LE(1, ok);	/* the one in the window */
	if (kernel_cancels()) {
		EXPECT_LT(0, canceled);
	} else {
		EXPECT_EQ(0, canceled);
	}
	EXPECT_EQ(0, pmf_kmsg_scan(kmsg, &lost));
	EXPECT_EQ(0, lost);
	close(kmsg);
	io_uring_queue_exit(&ring);
	close(fd);
	close(dev);
}

/*
 * By-fd commands on DAX files and a DAX block device: resolving the target
 * may sleep, so the module answers the non-blocking issue with EAGAIN and
 * io_uring reissues the command from io-wq; each completes with 0, with a
 * device flush behind it where the region has one (virtio-pmem, flush
 * hints), and past the end with ERANGE.
 */
TEST(files_by_fd)
{
	static const struct {
		const char *env;
		bool dir, device_flush;
	} targets[] = {
		{ "PMF_NFIT_EXT4", true, false },
		{ "PMF_NFIT_XFS", true, false },
		{ "PMF_VIRTIO_EXT4", true, true },
		{ "PMF_HINTS_PMEM", false, true },
	};
	struct pmemflush_flush f;
	struct pmemflush_query q;
	struct io_uring ring;
	char path[PATH_MAX];
	int dev, fd, n = 0;
	unsigned int i;
	__u64 seq;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(0, ring_init(&ring, 8, IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		const char *p = getenv(targets[i].env);

		if (!p)
			continue;
		if (targets[i].dir) {
			snprintf(path, sizeof(path), "%s/pmf-uring-file", p);
			fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
			ASSERT_EQ(0, ftruncate(fd, 1 << 20));
			ASSERT_EQ(0, fsync(fd));
		} else {
			snprintf(path, sizeof(path), "%s", p);
			fd = open(path, O_RDWR | O_CLOEXEC);
			ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		}
		ASSERT_EQ(0, pmf_query(dev, fd, &q));
		f = by_fd(fd, 4096, 8192);
		seq = ~0ULL;
		EXPECT_EQ(0, one(&ring, dev, &f, sizeof(f),
				 PMEMFLUSH_URING_CMD_FLUSH, &seq)) TH_LOG("%s", path);
		if (targets[i].device_flush) {
			EXPECT_LT(0, seq);
		} else {
			EXPECT_EQ(0, seq);
		}
		f = by_fd(fd, q.target_size, 1);
		EXPECT_EQ(-ERANGE, one(&ring, dev, &f, sizeof(f),
				       PMEMFLUSH_URING_CMD_FLUSH, NULL));
		close(fd);
		if (targets[i].dir)
			unlink(path);
		n++;
	}
	io_uring_queue_exit(&ring);
	close(dev);
	EXPECT_LT(0, n) TH_LOG("no DAX file or disk of this stack's in the environment");
}

TEST_HARNESS_MAIN
