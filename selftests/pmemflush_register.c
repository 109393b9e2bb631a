// SPDX-License-Identifier: GPL-2.0
/*
 * PMEMFLUSH_REGISTER / UNREGISTER and the commands by id: what an id names,
 * whom it belongs to, its limit, every rejection with its errno, the ABI's
 * size rules, and (QEMU stack) registration by address range, group commit
 * on virtio-pmem and unprivileged flush floods. Built once per VM stack
 * (PMF_STACK_QEMU, PMF_STACK_NFIT_TEST); its main target is the stack's
 * device-dax device.
 */
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <linux/fs.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

FIXTURE(reg)
{
	int dev;
	int target;
	struct pmemflush_query q;
};

FIXTURE_SETUP(reg)
{
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	ASSERT_NE(NULL, pmf_devdax_path());
	self->target = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->target);
	ASSERT_EQ(0, pmf_query(self->dev, self->target, &self->q));
	ASSERT_LT(1 << 20, self->q.target_size);
}

FIXTURE_TEARDOWN(reg)
{
	close(self->target);
	close(self->dev);
}

/* an id flushes and describes exactly what its fd does */
TEST_F(reg, by_id)
{
	struct pmemflush_flush by_fd, by_id;
	struct pmemflush_query q;
	__u64 size = self->q.target_size;
	long long id = pmf_register(self->dev, self->target);

	ASSERT_LT(0, id);
	ASSERT_EQ(0, pmf_flush(self->dev, self->target, 0, 4096, &by_fd));
	memset(&by_id, 0xff, sizeof(by_id));
	ASSERT_EQ(0, pmf_flush_id(self->dev, id, 0, 4096, &by_id));
	EXPECT_EQ(by_fd.region_id, by_id.region_id);
	EXPECT_EQ(by_fd.out_flags, by_id.out_flags);
	/*
	 * each call was served by a later device flush than the one before;
	 * without a device flush (only barriers) there is nothing to number
	 */
	if (by_id.out_flags & PMEMFLUSH_FLUSHED_DEVICE) {
		EXPECT_LT(by_fd.flush_seq, by_id.flush_seq);
	} else {
		EXPECT_EQ(0, by_fd.flush_seq);
		EXPECT_EQ(0, by_id.flush_seq);
	}

	ASSERT_EQ(0, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(self->q.region_id, q.region_id);
	EXPECT_EQ(self->q.has_flush, q.has_flush);
	EXPECT_EQ(self->q.persistence_domain, q.persistence_domain);
	EXPECT_EQ(self->q.target_kind, q.target_kind);
	EXPECT_EQ(self->q.out_flags, q.out_flags);
	EXPECT_EQ(size, q.target_size);

	EXPECT_EQ(0, pmf_flush_id(self->dev, id, size, 0, NULL));
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, size, NULL));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, size - 64, 65, NULL));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, ~0ULL, 2, NULL));
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

TEST_F(reg, unregister)
{
	struct pmemflush_query q;
	long long id = pmf_register(self->dev, self->target);

	ASSERT_LT(0, id);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 0, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, pmf_query_id(self->dev, id, &q));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, pmf_unregister(self->dev, id));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, pmf_unregister(self->dev, 0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, 0, 0, 0, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, pmf_flush_id(self->dev, PMEMFLUSH_MAX_IDS + 1, 0, 0, NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* ids belong to the open file: its dups and forked children share them */
TEST_F(reg, ids_belong_to_open_file)
{
	int other = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	int dup_dev = dup(self->dev);
	long long id = pmf_register(self->dev, self->target), child_id;
	int status, p[2];
	pid_t pid;

	ASSERT_LE(0, other);
	ASSERT_LE(0, dup_dev);
	ASSERT_LT(0, id);
	EXPECT_EQ(-1, pmf_flush_id(other, id, 0, 4096, NULL));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(0, pmf_flush_id(dup_dev, id, 0, 4096, NULL));

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* the parent's id works here; an id made here works there */
		child_id = pmf_register(self->dev, self->target);
		if (write(p[1], &child_id, sizeof(child_id)) != sizeof(child_id))
			_exit(2);
		_exit(pmf_flush_id(self->dev, id, 0, 4096, NULL) ? 3 : 0);
	}
	ASSERT_EQ(sizeof(child_id), read(p[0], &child_id, sizeof(child_id)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_LT(0, child_id);
	EXPECT_NE(id, child_id);
	EXPECT_EQ(0, pmf_flush_id(self->dev, child_id, 0, 4096, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, child_id));
	close(p[0]);
	close(p[1]);

	/* the ids survive the close of one descriptor of the file */
	close(dup_dev);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, 4096, NULL));
	close(other);
}

/*
 * 4,096 REGISTERs of a device-dax each read its size through the module's
 * worker (a wakeup and a sysfs open): over the harness's default 30 s on
 * the sanitizer kernel's single vCPU beside other VMs.
 */
TEST_F_TIMEOUT(reg, id_limit, 300)
{
	long long id, first = 0;
	int i, dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	struct timespec t0, t1;

	ASSERT_LE(0, dev);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < PMEMFLUSH_MAX_IDS; i++) {
		id = pmf_register(dev, self->target);
		ASSERT_LT(0, id) TH_LOG("registration %d: %s", i, strerror(errno));
		ASSERT_GE(PMEMFLUSH_MAX_IDS, id);
		if (!first)
			first = id;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	TH_LOG("%d REGISTERs in %.1f s", PMEMFLUSH_MAX_IDS,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_EQ(-1, pmf_register(dev, self->target));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, pmf_unregister(dev, first));
	EXPECT_EQ(first, pmf_register(dev, self->target));
	EXPECT_EQ(0, pmf_flush_id(dev, first, 0, 64, NULL));
	/* the last close drops them all */
	EXPECT_EQ(0, close(dev));
}

TEST_F(reg, rejects)
{
	struct pmemflush_register arg;
	char path[] = "/tmp/pmemflush-reg-XXXXXX";
	int fd, p[2];

	EXPECT_EQ(-1, pmf_register(self->dev, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, pmf_register(self->dev, 1 << 20));
	EXPECT_EQ(EBADF, errno);
	fd = open(pmf_devdax_path(), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pmf_register(self->dev, fd));
	EXPECT_EQ(EBADF, errno);
	close(fd);
	fd = open(pmf_devdax_path(), O_PATH | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pmf_register(self->dev, fd));
	EXPECT_EQ(EBADF, errno);
	close(fd);

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(-1, pmf_register(self->dev, p[1]));
	EXPECT_EQ(ENODEV, errno);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(-1, pmf_register(self->dev, self->dev));
	EXPECT_EQ(ENODEV, errno);
	fd = mkostemp(path, O_CLOEXEC);
	ASSERT_LE(0, fd);
	unlink(path);
	EXPECT_EQ(-1, pmf_register(self->dev, fd));
	EXPECT_EQ(ENODEV, errno);
	close(fd);

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.fd = self->target;
	arg.flags = PMEMFLUSH_BY_ADDR << 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.flags = 0;
	arg.id = 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_EQ(EINVAL, errno);
	arg.id = 0;
	arg.length = 4096;	/* a range without PMEMFLUSH_BY_ADDR */
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A page of zeroes followed by an inaccessible page: a struct whose @size
 * reaches past the first page can only be refused unread.
 */
static char *guarded_page(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + 4096, 4096, PROT_NONE)) {
		munmap(p, 8192);
		return NULL;
	}
	return p;
}

/* @size of each command: first version, one byte short, a page, past it */
TEST_F(reg, abi_sizes)
{
	static const unsigned long cmds[] = {
		PMEMFLUSH_FLUSH, PMEMFLUSH_QUERY, PMEMFLUSH_REGISTER,
		PMEMFLUSH_UNREGISTER,
	};
	static const __u32 ver0[] = {
		PMEMFLUSH_FLUSH_SIZE_VER0, PMEMFLUSH_QUERY_SIZE_VER0,
		PMEMFLUSH_REGISTER_SIZE_VER0, PMEMFLUSH_UNREGISTER_SIZE_VER0,
	};
	struct pmemflush_flush *f;
	char *page = guarded_page();
	unsigned int i;
	long long id;

	ASSERT_NE(NULL, page);
	EXPECT_EQ(offsetof(struct pmemflush_flush, flush_seq),
		  PMEMFLUSH_FLUSH_SIZE_VER0);
	EXPECT_EQ(sizeof(struct pmemflush_query), PMEMFLUSH_QUERY_SIZE_VER0);
	EXPECT_EQ(sizeof(struct pmemflush_register),
		  PMEMFLUSH_REGISTER_SIZE_VER0);
	EXPECT_EQ(sizeof(struct pmemflush_unregister),
		  PMEMFLUSH_UNREGISTER_SIZE_VER0);

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		memset(page, 0, 4096);
		*(__u32 *)page = ver0[i] - 1;
		EXPECT_EQ(-1, ioctl(self->dev, cmds[i], page));
		EXPECT_EQ(EINVAL, errno) TH_LOG("command %u", i);
		/* larger than a page: E2BIG, never EFAULT from the guard */
		*(__u32 *)page = 4097;
		EXPECT_EQ(-1, ioctl(self->dev, cmds[i], page));
		EXPECT_EQ(E2BIG, errno) TH_LOG("command %u", i);
		*(__u32 *)page = ~0U;
		EXPECT_EQ(-1, ioctl(self->dev, cmds[i], page));
		EXPECT_EQ(E2BIG, errno) TH_LOG("command %u", i);
	}

	/*
	 * A binary built before flush_seq was appended: its 40 bytes end at
	 * the guard page, so reading or writing one byte more is EFAULT.
	 */
	f = (struct pmemflush_flush *)(page + 4096 - PMEMFLUSH_FLUSH_SIZE_VER0);
	memset(f, 0, PMEMFLUSH_FLUSH_SIZE_VER0);
	f->size = PMEMFLUSH_FLUSH_SIZE_VER0;
	f->fd = self->target;
	f->length = 4096;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, f));
	EXPECT_EQ(self->q.region_id, f->region_id);
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f));
	f->flags = PMEMFLUSH_BY_ID;	/* by id works at the old size too */
	id = pmf_register(self->dev, self->target);
	ASSERT_LT(0, id);
	f->id = id;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, f));
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f));
	EXPECT_EQ(0, pmf_unregister(self->dev, id));

	/* the whole page as the struct: the zero tail is fine */
	memset(page, 0, 4096);
	f = (struct pmemflush_flush *)page;
	f->size = 4096;
	f->fd = self->target;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, f));
	page[4095] = 1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, f));
	EXPECT_EQ(E2BIG, errno);
	munmap(page, 8192);
}

/*
 * REGISTER by address names its target by the range alone: a non-zero
 * @fd with it is EINVAL, whatever the fd is, before the range is looked at.
 */
TEST_F(reg, by_addr_with_fd)
{
	const int fds[] = { self->target, -1, 1 << 20, self->dev };
	struct pmemflush_register arg;
	unsigned int i;
	char *p;

#ifdef PMF_STACK_QEMU
	/* a range that registers with @fd 0 */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, self->target, 0);
#else
	/* nfit_test's pmem must not be mapped: private memory, EACCES */
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#endif
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.flags = PMEMFLUSH_BY_ADDR;
		arg.fd = fds[i];
		arg.addr = (uintptr_t)p;
		arg.length = 4096;
		EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg))
			TH_LOG("fd %d: registered as id %u", fds[i], arg.id);
		EXPECT_EQ(EINVAL, errno) TH_LOG("fd %d", fds[i]);
		EXPECT_EQ(0, arg.id);
		EXPECT_EQ(0, arg.offset);
	}
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = PMEMFLUSH_BY_ADDR;
	arg.addr = (uintptr_t)p;
	arg.length = 4096;
#ifdef PMF_STACK_QEMU
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_LT(0, arg.id);
	EXPECT_EQ(0, arg.offset);
	EXPECT_EQ(0, pmf_unregister(self->dev, arg.id));
#else
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_EQ(EACCES, errno);
#endif
	munmap(p, 8192);
}

/* the "pmemflush-id:" lines of /proc/self/fdinfo/@fd; their number */
#define FDI_MAX		8
#define FDI_LEN		(PATH_MAX + 64)

static int fdinfo_ids(int fd, char lines[FDI_MAX][FDI_LEN])
{
	char path[64], line[FDI_LEN];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "pmemflush-id:", 13))
			continue;
		if (n < FDI_MAX)
			strcpy(lines[n], line);
		n++;
	}
	fclose(f);
	return n;
}

/* how often @want is among the @n lines */
static int fdinfo_count(char lines[FDI_MAX][FDI_LEN], int n, const char *want)
{
	int i, c = 0;

	for (i = 0; i < n && i < FDI_MAX; i++)
		c += !strcmp(lines[i], want);
	return c;
}

/*
 * /proc/self/fdinfo of a /dev/pmemflush descriptor lists each id: kind,
 * region and what it names (the device number of a device-dax device or a
 * block device, the path of a DAX file). An unregistered id's line goes.
 */
TEST_F(reg, fdinfo)
{
#ifdef PMF_STACK_QEMU
	const char *bdev = getenv("PMF_NFIT_PMEM");
#else
	const char *bdev = getenv("PMF_HINTS_PMEM");
#endif
	char want[4][FDI_LEN], lines[FDI_MAX][FDI_LEN];
	long long id[4] = { 0 };
	struct pmemflush_query q;
	int dev, fd, i, n, nt = 0;
	struct stat st;

	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	EXPECT_EQ(0, fdinfo_ids(dev, lines));

	/* device-dax: the node's device number */
	ASSERT_EQ(0, fstat(self->target, &st));
	id[nt] = pmf_register(dev, self->target);
	ASSERT_LT(0, id[nt]);
	snprintf(want[nt], FDI_LEN, "pmemflush-id:\t%lld\tdevdax\tregion%u\tdev %u:%u",
		 id[nt], self->q.region_id, major(st.st_rdev), minor(st.st_rdev));
	nt++;

	/* a DAX-capable pmem block device */
	ASSERT_NE(NULL, bdev);
	fd = open(bdev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(0, pmf_query(dev, fd, &q));
	ASSERT_EQ(PMEMFLUSH_TARGET_BLOCK, q.target_kind);
	id[nt] = pmf_register(dev, fd);
	ASSERT_LT(0, id[nt]) TH_LOG("REGISTER %s: %s", bdev, strerror(errno));
	close(fd);
	snprintf(want[nt], FDI_LEN, "pmemflush-id:\t%lld\tblock\tregion%u\tdev %u:%u",
		 id[nt], q.region_id, major(st.st_rdev), minor(st.st_rdev));
	nt++;

#ifdef PMF_STACK_QEMU
	{
		char path[PATH_MAX], real[PATH_MAX];
		char *p;

		/* a DAX file by fd, and again by address: its path both times */
		snprintf(path, sizeof(path), "%s/pmf-fdinfo",
			 getenv("PMF_NFIT_EXT4"));
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, ftruncate(fd, 1 << 20));
		ASSERT_NE(NULL, realpath(path, real));
		ASSERT_EQ(0, pmf_query(dev, fd, &q));
		ASSERT_EQ(PMEMFLUSH_TARGET_FSDAX_FILE, q.target_kind);
		id[nt] = pmf_register(dev, fd);
		ASSERT_LT(0, id[nt]);
		snprintf(want[nt], FDI_LEN,
			 "pmemflush-id:\t%lld\tfsdax-file\tregion%u\tpath %s",
			 id[nt], q.region_id, real);
		nt++;
		p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		close(fd);
		id[nt] = pmf_register_addr(dev, p + 4096, 4096, NULL);
		ASSERT_LT(0, id[nt]);
		munmap(p, 8192);
		snprintf(want[nt], FDI_LEN,
			 "pmemflush-id:\t%lld\tfsdax-file\tregion%u\tpath %s",
			 id[nt], q.region_id, real);
		nt++;
	}
#endif

	n = fdinfo_ids(dev, lines);
	for (i = 0; i < n && i < FDI_MAX; i++)
		TH_LOG("fdinfo: %s", lines[i]);
	EXPECT_EQ(nt, n);
	for (i = 0; i < nt; i++) {
		EXPECT_EQ(1, fdinfo_count(lines, n, want[i]))
			TH_LOG("expected once: %s", want[i]);
	}

	/* another open file of the device has none of them */
	fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fdinfo_ids(fd, lines));
	close(fd);

	/* unregistered: the line goes, the others stay */
	EXPECT_EQ(0, pmf_unregister(dev, id[0]));
	n = fdinfo_ids(dev, lines);
	EXPECT_EQ(nt - 1, n);
	EXPECT_EQ(0, fdinfo_count(lines, n, want[0]));
	for (i = 1; i < nt; i++) {
		EXPECT_EQ(1, fdinfo_count(lines, n, want[i]))
			TH_LOG("expected once: %s", want[i]);
		EXPECT_EQ(0, pmf_unregister(dev, id[i]));
	}
	EXPECT_EQ(0, fdinfo_ids(dev, lines));
	close(dev);
#ifdef PMF_STACK_QEMU
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/pmf-fdinfo",
			 getenv("PMF_NFIT_EXT4"));
		unlink(path);
	}
#endif
}

#ifdef PMF_STACK_QEMU
/*
 * By address: a holder of a shared writable mapping registers without an
 * fd. (Only on QEMU's pmem: nfit_test's must not be mapped.)
 */
TEST_F(reg, by_addr)
{
	const size_t len = 4 << 20, off = 2 << 20;
	struct pmemflush_register arg;
	__u64 offset = ~0ULL;
	char *p, *q;
	long long id;
	int fd = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);	/* the mapping alone names the device */

	id = pmf_register_addr(self->dev, p + 4096, 8192, &offset);
	ASSERT_LT(0, id);
	EXPECT_EQ(off + 4096, offset);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, offset, 8192, NULL));

	EXPECT_EQ(-1, pmf_register_addr(self->dev, p + len - 4096, 8192, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 0, NULL));
	EXPECT_EQ(EINVAL, errno);
	/*
	 * A range that wraps past 2^64: spelled as a __u64, not a pointer,
	 * which a 32-bit build could not make wrap
	 */
	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.flags = PMEMFLUSH_BY_ADDR;
	arg.addr = -4096ULL;
	arg.length = 8192;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &arg));
	EXPECT_EQ(EOVERFLOW, errno);

	/* the id names the file, not the mapping */
	ASSERT_EQ(0, munmap(p, len));
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4096, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, offset, 8192, NULL));

	/* private, read-only and anonymous mappings are refused */
	fd = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, q, 4096, NULL));
	EXPECT_EQ(EACCES, errno);
	munmap(q, len);
	close(fd);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, q, 4096, NULL));
	EXPECT_EQ(EACCES, errno);
	munmap(q, 8192);
	/* shared anonymous memory is a shmem file: no pmem behind it */
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, q, 4096, NULL));
	EXPECT_EQ(ENODEV, errno);
	munmap(q, 8192);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

/* a DAX file by address, its fd closed: i_size bounds the id */
TEST_F(reg, file_by_addr)
{
	char path[PATH_MAX];
	__u64 offset;
	long long id;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/pmf-reg-addr", getenv("PMF_NFIT_EXT4"));
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 1 << 20));
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	id = pmf_register_addr(self->dev, p, 1 << 20, &offset);
	ASSERT_LT(0, id);
	EXPECT_EQ(0, offset);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, 1 << 20, NULL));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, (1 << 20) + 1, NULL));
	EXPECT_EQ(ERANGE, errno);
	munmap(p, 1 << 20);
	/* the id holds the file: it grows and shrinks with it */
	ASSERT_EQ(0, truncate(path, 2 << 20));
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, 2 << 20, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	unlink(path);
}

/* how many lines of /proc/self/maps overlap [p, p + len) */
static int vmas_in(const void *p, size_t len)
{
	unsigned long s, e, a = (uintptr_t)p, b = a + len;
	char line[PATH_MAX + 128];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &s, &e) == 2 && s < b && e > a)
			n++;
	fclose(f);
	return n;
}

/* a DAX file of @pages pages on the ext4 mount, open read-write */
static int dax_file(const char *name, int pages, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", getenv("PMF_NFIT_EXT4"), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && ftruncate(fd, (off_t)pages * 4096)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One mapping split into several VMAs (madvise() of its middle page; an
 * mprotect() to the protection it has already does not split it) is still
 * one range of one file at contiguous offsets: REGISTER by address takes
 * it, from any VMA into any other, and reports the offset @addr maps.
 */
TEST_F(reg, multi_vma)
{
	const size_t pg = 4096, off = 1 << 20;
	char path[PATH_MAX];
	__u64 offset;
	long long id;
	char *p;
	int fd;

	/* device-dax */
	fd = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	ASSERT_EQ(1, vmas_in(p, 3 * pg));
	ASSERT_EQ(0, mprotect(p + pg, pg, PROT_READ | PROT_WRITE));
	TH_LOG("mprotect() to the same protection: %d VMA(s)",
	       vmas_in(p, 3 * pg));
	ASSERT_EQ(0, madvise(p + pg, pg, MADV_DONTDUMP));
	ASSERT_EQ(3, vmas_in(p, 3 * pg));

	offset = ~0ULL;
	id = pmf_register_addr(self->dev, p, 3 * pg, &offset);
	ASSERT_LT(0, id) TH_LOG("3 VMAs of device-dax: %s", strerror(errno));
	EXPECT_EQ(off, offset);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, offset, 3 * pg, NULL));
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	/* unaligned ends, the first VMA to the last */
	offset = ~0ULL;
	id = pmf_register_addr(self->dev, p + 100, 3 * pg - 200, &offset);
	ASSERT_LT(0, id) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(off + 100, offset);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	/* the middle VMA into the last */
	offset = ~0ULL;
	id = pmf_register_addr(self->dev, p + pg + 8, pg, &offset);
	ASSERT_LT(0, id) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(off + pg + 8, offset);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	ASSERT_EQ(0, munmap(p, 3 * pg));

	/* a DAX file, mapped from its second page */
	fd = dax_file("pmf-multi-vma", 4, path, sizeof(path));
	ASSERT_LE(0, fd);
	p = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	ASSERT_EQ(0, madvise(p + pg, pg, MADV_DONTDUMP));
	ASSERT_EQ(3, vmas_in(p, 3 * pg));
	offset = ~0ULL;
	id = pmf_register_addr(self->dev, p + 64, 3 * pg - 64, &offset);
	ASSERT_LT(0, id) TH_LOG("3 VMAs of a DAX file: %s", strerror(errno));
	EXPECT_EQ(pg + 64, offset);
	EXPECT_EQ(0, pmf_flush_id(self->dev, id, 0, 4 * pg, NULL));
	EXPECT_EQ(-1, pmf_flush_id(self->dev, id, 0, 4 * pg + 1, NULL));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
	munmap(p, 3 * pg);
	unlink(path);
}

/*
 * Ranges over adjacent VMAs that are not one shared writable mapping of
 * one file: two files (EINVAL), one file at offsets that do not follow on
 * (EINVAL), a hole (EFAULT), a private or read-only part (EACCES). Each
 * half alone registers.
 */
TEST_F(reg, multi_vma_rejects)
{
	const size_t pg = 4096;
	char pa[PATH_MAX], pb[PATH_MAX];
	long long id;
	int fa, fb, fdax;
	char *p;

	fa = dax_file("pmf-vma-a", 8, pa, sizeof(pa));
	ASSERT_LE(0, fa);
	fb = dax_file("pmf-vma-b", 8, pb, sizeof(pb));
	ASSERT_LE(0, fb);
	fdax = open(pmf_devdax_path(), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fdax);
	/* four pages of address space to place mappings side by side in */
	p = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);

#define MAP_AT(at, fd, prot, flags, off) \
	ASSERT_EQ(p + (at), mmap(p + (at), 2 * pg, prot, (flags) | MAP_FIXED, \
				 fd, off))
#define RW	(PROT_READ | PROT_WRITE)

	/* two files side by side */
	MAP_AT(0, fa, RW, MAP_SHARED, 0);
	MAP_AT(2 * pg, fb, RW, MAP_SHARED, 2 * pg);
	EXPECT_EQ(2, vmas_in(p, 4 * pg));
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p + pg, 2 * pg, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("two files: %s", strerror(errno));
	id = pmf_register_addr(self->dev, p + 2 * pg, 2 * pg, NULL);
	ASSERT_LT(0, id);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));

	/* a file, then device-dax */
	MAP_AT(2 * pg, fdax, RW, MAP_SHARED, 2 * pg);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4 * pg, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("file and device-dax: %s",
					strerror(errno));

	/* one file, pages 0-1 then 4-5 */
	MAP_AT(2 * pg, fa, RW, MAP_SHARED, 4 * pg);
	EXPECT_EQ(2, vmas_in(p, 4 * pg));
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p + pg, 2 * pg, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("offsets 0-1, 4-5: %s", strerror(errno));
	/* ... pages 2-3 then 0-1 */
	MAP_AT(0, fa, RW, MAP_SHARED, 2 * pg);
	MAP_AT(2 * pg, fa, RW, MAP_SHARED, 0);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4 * pg, NULL));
	EXPECT_EQ(EINVAL, errno) TH_LOG("offsets 2-3, 0-1: %s", strerror(errno));

	/* a hole at page 2 between pages 0-1 and 3 of the file */
	MAP_AT(0, fa, RW, MAP_SHARED, 0);
	MAP_AT(2 * pg, fa, RW, MAP_SHARED, 2 * pg);
	ASSERT_EQ(0, munmap(p + 2 * pg, pg));
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4 * pg, NULL));
	EXPECT_EQ(EFAULT, errno) TH_LOG("a hole: %s", strerror(errno));

	/* pages 2-3 of the same file, but private */
	MAP_AT(2 * pg, fa, RW, MAP_PRIVATE, 2 * pg);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4 * pg, NULL));
	EXPECT_EQ(EACCES, errno) TH_LOG("a private part: %s", strerror(errno));

	/* pages 2-3 shared again, page 2 read-only */
	MAP_AT(2 * pg, fa, RW, MAP_SHARED, 2 * pg);
	ASSERT_EQ(0, mprotect(p + 2 * pg, pg, PROT_READ));
	EXPECT_LE(2, vmas_in(p, 4 * pg));
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p + pg, 2 * pg, NULL));
	EXPECT_EQ(EACCES, errno) TH_LOG("a read-only part: %s",
					strerror(errno));
	/* writable again: one file at contiguous offsets */
	ASSERT_EQ(0, mprotect(p + 2 * pg, pg, RW));
	id = pmf_register_addr(self->dev, p + pg, 2 * pg, NULL);
	EXPECT_LT(0, id) TH_LOG("pages 0-3 of one file: %s", strerror(errno));
	if (id > 0)
		EXPECT_EQ(0, pmf_unregister(self->dev, id));
#undef MAP_AT
#undef RW

	munmap(p, 4 * pg);
	close(fdax);
	close(fa);
	close(fb);
	unlink(pa);
	unlink(pb);
}

/*
 * Group commit on virtio-pmem, where each device flush is one host fsync():
 * eight threads flush one id. Every call must be served by a device flush
 * issued after it began, every device flush must reach the host exactly
 * once, and the threads must have shared them.
 */
#define GC_THREADS	8
#define GC_CALLS	40

struct gc {
	int dev;
	__u32 id;
	int region;
	int bad_seq, failed;
};

static void *gc_flusher(void *arg)
{
	struct gc *g = arg;
	unsigned long long issued, completed;
	struct pmemflush_flush out;
	int i;

	for (i = 0; i < GC_CALLS; i++) {
		if (pmf_region_seq(g->region, &issued, &completed)) {
			__atomic_add_fetch(&g->failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (pmf_flush_id(g->dev, g->id, 0, 64, &out)) {
			__atomic_add_fetch(&g->failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (out.flush_seq < issued + 1) {
			fprintf(stderr, "# served by flush %llu, %llu was issued before\n",
				(unsigned long long)out.flush_seq, issued);
			__atomic_add_fetch(&g->bad_seq, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(reg, group_commit, 300)
{
	const char *count = getenv("PMF_VIRTIO_DEVDAX_FSYNC");
	unsigned long long issued0, completed0, issued1, completed1;
	long long fsyncs0, fsyncs1, calls = GC_THREADS * GC_CALLS;
	struct pmemflush_query q;
	pthread_t t[GC_THREADS];
	struct gc g = { .dev = self->dev };
	long long id;
	int fd, i;

	ASSERT_NE(NULL, count);
	fd = open(getenv("PMF_VIRTIO_DEVDAX"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	id = pmf_register(self->dev, fd);
	close(fd);
	ASSERT_LT(0, id);
	g.id = id;
	ASSERT_EQ(0, pmf_query_id(self->dev, id, &q));
	g.region = q.region_id;
	ASSERT_EQ(0, pmf_region_seq(g.region, &issued0, &completed0))
		TH_LOG("no debugfs counters for region%d", g.region);
	fsyncs0 = pmf_read_ll(count);

	for (i = 0; i < GC_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, gc_flusher, &g));
	for (i = 0; i < GC_THREADS; i++)
		pthread_join(t[i], NULL);

	ASSERT_EQ(0, pmf_region_seq(g.region, &issued1, &completed1));
	fsyncs1 = pmf_read_ll(count);
	TH_LOG("%lld calls, %llu device flushes, %lld host fsyncs (%.2f per call)",
	       calls, issued1 - issued0, fsyncs1 - fsyncs0,
	       (double)(fsyncs1 - fsyncs0) / calls);
	EXPECT_EQ(0, g.failed);
	EXPECT_EQ(0, g.bad_seq);
	EXPECT_EQ(issued1, completed1);
	/* one host fsync per device flush, never one per waiter */
	EXPECT_EQ((long long)(issued1 - issued0), fsyncs1 - fsyncs0);
	EXPECT_GT(calls, fsyncs1 - fsyncs0);
	EXPECT_LE(1, fsyncs1 - fsyncs0);
	EXPECT_EQ(0, pmf_unregister(self->dev, id));
}

/*
 * Four unprivileged processes flood virtio-pmem device-dax with flushes
 * (a host fsync each). The region's sysfs reads that take its device lock
 * and namespace reconfiguration
 * must still complete: no flush holds a lock they need. Prints how long
 * they took; the machines are too noisy to assert a bound.
 */
static void flood(const char *path)
{
	int dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC), fd = -1;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534) || dev < 0)
		_exit(2);
	for (;;) {
		if (fd < 0)
			fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && pmf_flush(dev, fd, 0, 64, NULL) && errno == ENXIO) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			usleep(1000);
	}
}

static double elapsed_ms(struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e3 + (b.tv_nsec - a->tv_nsec) / 1e6;
}

/* worst read of @attr of 20, and one namespace disable/enable, in ms */
static void reconfigure(struct __test_metadata *_metadata, const char *attr,
			const char *ns, double ms[3])
{
	struct timespec ts;
	char buf[64], cmd[160];
	double t;
	int i;

	ms[0] = 0;
	for (i = 0; i < 20; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		EXPECT_EQ(0, pmf_read_line(attr, buf, sizeof(buf)));
		t = elapsed_ms(&ts);
		ms[0] = t > ms[0] ? t : ms[0];
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(cmd, sizeof(cmd), "ndctl disable-namespace %s >/dev/null 2>&1", ns);
	EXPECT_EQ(0, system(cmd));
	ms[1] = elapsed_ms(&ts);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(cmd, sizeof(cmd), "ndctl enable-namespace %s >/dev/null 2>&1", ns);
	EXPECT_EQ(0, system(cmd));
	ms[2] = elapsed_ms(&ts);
}

TEST_F_TIMEOUT(reg, unprivileged_flood, 300)
{
	const char *path = getenv("PMF_VIRTIO_DEVDAX");
	char attr[128], ns[64], cmd[160], node[64];
	double quiet[3], flooded[3];
	long long fsyncs0, fsyncs1;
	struct pmemflush_query q;
	pid_t pid[4];
	struct stat st;
	int i, fd;
	FILE *p;

	ASSERT_NE(NULL, path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmf_query(self->dev, fd, &q));
	close(fd);
	ASSERT_EQ(0, stat(path, &st));
	/* what ndctl list -R reads; its show() takes the region's device lock */
	snprintf(attr, sizeof(attr),
		 "/sys/bus/nd/devices/region%u/max_available_extent", q.region_id);
	/* the namespace of the device: ndctl names it in its listing */
	snprintf(cmd, sizeof(cmd),
		 "ndctl list -r region%u -N | sed -n 's/.*\"dev\":\"\\(namespace[0-9.]*\\)\".*/\\1/p'",
		 q.region_id);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, fgets(ns, sizeof(ns), p));
	pclose(p);
	ns[strcspn(ns, "\n")] = '\0';

	reconfigure(_metadata, attr, ns, quiet);
	/* the flooders' fds outlive the device: see pmf_own_node() */
	ASSERT_EQ(0, pmf_own_node(path, node, sizeof(node)));
	ASSERT_EQ(0, chown(node, 65534, 65534));
	fsyncs0 = pmf_read_ll(getenv("PMF_VIRTIO_DEVDAX_FSYNC"));
	for (i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			flood(node);
	}
	usleep(300000);
	reconfigure(_metadata, attr, ns, flooded);
	usleep(300000);
	for (i = 0; i < 4; i++) {
		kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
	}
	fsyncs1 = pmf_read_ll(getenv("PMF_VIRTIO_DEVDAX_FSYNC"));
	TH_LOG("quiet: max_available_extent read worst %.1f ms, disable-namespace %.1f ms, enable-namespace %.1f ms",
	       quiet[0], quiet[1], quiet[2]);
	TH_LOG("4 users flooding (%lld host fsyncs): read worst %.1f ms, disable %.1f ms, enable %.1f ms",
	       fsyncs1 - fsyncs0, flooded[0], flooded[1], flooded[2]);
	EXPECT_LT(0, fsyncs1 - fsyncs0);
	/* the device is back under its name, and works */
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fd);
	EXPECT_EQ(0, pmf_flush(self->dev, fd, 0, 64, NULL));
	close(fd);
}

/*
 * virtio-pmem unplug, guest side: QEMU 7.2 refuses device_del of a
 * virtio-pmem device ("virtio based memory devices cannot be unplugged"),
 * so the virtio_pmem driver is unbound instead, which runs the same
 * teardown, virtio_pmem_remove() -> nvdimm_bus_unregister(), under four
 * flushers by fd and by id. They must see 0 or ENXIO, nothing else, and the
 * device must come back whole when the driver is bound again.
 */
struct unplug {
	int dev;
	const char *path;
	char node[64];	/* the flushers open its twin */
	volatile int stop;
	int started;
	long ok, gone, other;
};

static void *unplug_flusher(void *arg)
{
	struct unplug *u = arg;
	long long id = -1;
	int fd, rc, by_id;

	/* every other flusher by id */
	by_id = __atomic_fetch_add(&u->started, 1, __ATOMIC_RELAXED) & 1;
	fd = open(u->node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (by_id)
		id = pmf_register(u->dev, fd);
	while (!u->stop) {
		rc = id > 0 ? pmf_flush_id(u->dev, id, 0, 64, NULL) :
			      pmf_flush(u->dev, fd, 0, 64, NULL);
		if (!rc) {
			__atomic_add_fetch(&u->ok, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_add_fetch(errno == ENXIO ? &u->gone : &u->other, 1,
				   __ATOMIC_RELAXED);
		break;
	}
	if (id > 0)
		pmf_unregister(u->dev, id);
	close(fd);
	return NULL;
}

TEST_F_TIMEOUT(reg, virtio_unplug, 300)
{
	const char *drv = "/sys/bus/virtio/drivers/virtio_pmem";
	const char *count = getenv("PMF_VIRTIO_DEVDAX_FSYNC");
	struct unplug u = { .path = getenv("PMF_VIRTIO_DEVDAX") };
	char link[PATH_MAX], real[PATH_MAX], vdev[32] = "", path[PATH_MAX];
	long long fsyncs;
	pthread_t t[4];
	struct stat st;
	char *v;
	int i, fd;

	ASSERT_NE(NULL, u.path);
	ASSERT_EQ(0, stat(u.path, &st));
	/* the flushers' fds outlive the device: see pmf_own_node() */
	ASSERT_EQ(0, pmf_own_node(u.path, u.node, sizeof(u.node)));
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	ASSERT_NE(NULL, realpath(link, real));
	v = strstr(real, "/virtio");
	ASSERT_NE(NULL, v);
	ASSERT_EQ(1, sscanf(v, "/%31[a-z0-9]", vdev));
	u.dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, u.dev);

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, unplug_flusher, &u));
	usleep(200000);
	snprintf(path, sizeof(path), "%s/unbind", drv);
	ASSERT_EQ(0, pmf_write_file(path, vdev, O_TRUNC));
	for (i = 0; i < 3000 && u.gone + u.other < 4; i++)
		usleep(1000);
	u.stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%s unbound under 4 flushers: %ld ok, %ld ENXIO, %ld other",
	       vdev, u.ok, u.gone, u.other);
	EXPECT_EQ(0, u.other);
	EXPECT_EQ(4, u.gone);
	EXPECT_LT(0, u.ok);
	EXPECT_NE(0, stat(u.path, &st));
	/* the last targets of the old region go with this close */
	close(u.dev);

	snprintf(path, sizeof(path), "%s/bind", drv);
	ASSERT_EQ(0, pmf_write_file(path, vdev, O_TRUNC));
	for (i = 0; i < 400 && (fd = open(u.path, O_RDWR | O_CLOEXEC)) < 0; i++)
		usleep(50000);
	ASSERT_LE(0, fd) TH_LOG("%s did not come back", u.path);
	fsyncs = pmf_read_ll(count);
	EXPECT_EQ(0, pmf_flush(self->dev, fd, 0, 64, NULL));
	EXPECT_EQ(fsyncs + 1, pmf_read_ll(count));
	close(fd);
}

/*
 * A REGISTER whose id cannot be written back takes that id back, and only
 * that registration. A userfaultfd write-protect fault holds the copy-out
 * while another thread of the same file unregisters the id and registers
 * again, which hands out the same number (the lowest free); the page then
 * turns read-only and the copy-out fails with EFAULT. The new registration
 * must still be there.
 */
struct stall {
	int uffd, dev, target, err;
	char *page;
	size_t len;
	long long id2;
};

static void *stall_copy_out(void *arg)
{
	struct stall *s = arg;
	struct uffdio_range r = { (unsigned long)s->page, s->len };
	struct pollfd pfd = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, 30000) != 1 ||
	    read(s->uffd, &msg, sizeof(msg)) != sizeof(msg) ||
	    msg.event != UFFD_EVENT_PAGEFAULT ||
	    !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) {
		s->err = 1;
		return NULL;
	}
	/* the REGISTER in flight holds id 1: this file had none */
	if (pmf_unregister(s->dev, 1))
		s->err = 2;
	s->id2 = pmf_register(s->dev, s->target);
	if (mprotect(s->page, s->len, PROT_READ) ||
	    ioctl(s->uffd, UFFDIO_WAKE, &r))
		s->err = 3;
	return NULL;
}

TEST_F(reg, copy_out_fault_drops_only_its_id)
{
	struct stall s = { .dev = self->dev, .target = self->target };
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_writeprotect wp;
	struct pmemflush_register *arg;
	struct uffdio_register ur;
	pthread_t th;
	int rc, err;

	s.len = (size_t)sysconf(_SC_PAGESIZE);
	s.uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s.uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	if (ioctl(s.uffd, UFFDIO_API, &api)) {
		close(s.uffd);
		SKIP(return, "UFFDIO_API: %s", strerror(errno));
	}
	s.page = mmap(NULL, s.len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.page);
	arg = (struct pmemflush_register *)s.page;
	memset(arg, 0, sizeof(*arg));
	arg->size = sizeof(*arg);
	arg->fd = self->target;
	ur.range.start = (unsigned long)s.page;
	ur.range.len = s.len;
	ur.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(s.uffd, UFFDIO_REGISTER, &ur)) {
		close(s.uffd);
		munmap(s.page, s.len);
		SKIP(return, "userfaultfd write-protect: %s", strerror(errno));
	}
	wp.range = ur.range;
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	ASSERT_EQ(0, ioctl(s.uffd, UFFDIO_WRITEPROTECT, &wp));
	ASSERT_EQ(0, pthread_create(&th, NULL, stall_copy_out, &s));
	rc = ioctl(self->dev, PMEMFLUSH_REGISTER, arg);
	err = errno;
	pthread_join(th, NULL);
	ASSERT_EQ(0, s.err);
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(EFAULT, err);
	ASSERT_EQ(1, s.id2);
	EXPECT_EQ(0, pmf_flush_id(self->dev, 1, 0, 4096, NULL))
		TH_LOG("the failed REGISTER dropped the new id: %s",
		       strerror(errno));
	EXPECT_EQ(0, pmf_unregister(self->dev, 1));
	EXPECT_EQ(-1, pmf_unregister(self->dev, 1));
	EXPECT_EQ(ENOENT, errno);
	close(s.uffd);
	munmap(s.page, s.len);
}

/*
 * An XFS realtime file is DAX through the realtime device, on another
 * region than the data device the superblock names: refused, not flushed
 * in the wrong region. Its neighbour on the data device is flushed.
 */
TEST_F(reg, xfs_realtime)
{
	const char *dir = getenv("PMF_NFIT_XFS_RT");
	char path[PATH_MAX];
	struct fsxattr fsx;
	struct statx stx;
	static char buf[65536];
	char *p;
	int fd;

	ASSERT_NE(NULL, dir);
	snprintf(path, sizeof(path), "%s/pmf-rt", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(fd));
	/* the test means something only if the file is realtime and DAX */
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FSGETXATTR, &fsx));
	ASSERT_TRUE(fsx.fsx_xflags & FS_XFLAG_REALTIME);
	ASSERT_EQ(0, statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx));
	ASSERT_TRUE(stx.stx_attributes & STATX_ATTR_DAX);

	EXPECT_EQ(-1, pmf_flush(self->dev, fd, 0, 4096, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(-1, pmf_register(self->dev, fd));
	EXPECT_EQ(EOPNOTSUPP, errno);
	p = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, pmf_register_addr(self->dev, p, 4096, NULL));
	EXPECT_EQ(EOPNOTSUPP, errno);
	munmap(p, sizeof(buf));
	close(fd);
	unlink(path);

	snprintf(path, sizeof(path), "%s/../pmf-not-rt", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FSGETXATTR, &fsx));
	EXPECT_FALSE(fsx.fsx_xflags & FS_XFLAG_REALTIME);
	EXPECT_EQ(0, pmf_flush(self->dev, fd, 0, 4096, NULL));
	close(fd);
	unlink(path);
}
#endif

TEST_HARNESS_MAIN
