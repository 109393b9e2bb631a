// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pmem2_source_*: size, alignment and fd of files and anonymous sources,
 * libpmem2's errors for a closed fd; the DIMM ids, unsafe shutdown count
 * and NUMA node read from a fake sysfs tree (several DIMMs, missing and
 * unreadable attributes, the id buffer-size protocol); pread/pwrite_mcsafe
 * on files (the kernel's errors through a fake pread) and on a device-dax
 * stand-in whose mapping runs past its file's end, so that reading there
 * raises the SIGBUS a machine check would.
 */
#include <dirent.h>
#include <signal.h>

#include "pmf_test.h"

/* the tree lives under a short mkdtemp() path */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define PG 4096UL
#define BUS "platform/ACPI0012:00/ndbus0"
#define REGION BUS "/region1"

static struct pmem2_source *fake_src(enum pmf_ftype type, int fd, dev_t dev,
				     size_t size, size_t align)
{
	struct pmem2_source *s = calloc(1, sizeof(*s));

	if (s) {
		s->fd = fd;
		s->ftype = type;
		s->dev = dev;
		s->size = size;
		s->align = align;
	}
	return s;
}

TEST(anon)
{
	struct pmem2_source *src;
	size_t size = 1, align = 1, len = 7;
	uint64_t usc = 7;
	int fd = -5, numa = 7;
	char id[16] = "keep", buf[8];

	ASSERT_EQ(0, pmem2_source_from_anon(&src, 12345));
	ASSERT_EQ(PMF_FTYPE_ANON, src->ftype);
	ASSERT_EQ(-1, src->fd);
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_EQ(12345, size);
	ASSERT_EQ(0, pmem2_source_alignment(src, &align));
	ASSERT_EQ((size_t)sysconf(_SC_PAGESIZE), align);

	ASSERT_EQ(PMEM2_E_FILE_DESCRIPTOR_NOT_SET,
		  pmem2_source_get_fd(src, &fd));
	ASSERT_EQ(-5, fd);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "file descriptor"));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(src, NULL, &len));
	ASSERT_EQ(7, len);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(src, id, &len));
	ASSERT_STREQ("keep", id);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(src, &usc));
	ASSERT_EQ(7, usc);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "anonymous"));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_numa_node(src, &numa));
	ASSERT_EQ(7, numa);
	/* no memory behind it: libpmem2 refuses the type, whatever the range */
	ASSERT_EQ(PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED,
		  pmem2_source_pread_mcsafe(src, buf, 1, 0));
	ASSERT_EQ(PMEM2_E_SOURCE_TYPE_NOT_SUPPORTED,
		  pmem2_source_pwrite_mcsafe(src, buf, 1, 1UL << 40));
	ASSERT_NE(0, strlen(pmem2_errormsg()));
	/* a success clears the message */
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_STREQ("", pmem2_errormsg());
	pmem2_source_delete(&src);

	ASSERT_EQ(0, pmem2_source_from_anon(&src, 0));
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_EQ(0, size);
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

TEST(file_size_align_fd)
{
	struct pmem2_source *src;
	int fd = tmp_file(3 * PG + 5), got = -1;
	size_t size, align;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_EQ(3 * PG + 5, size);
	/* sized at each call: the file may grow */
	ASSERT_EQ(0, ftruncate(fd, 10 * PG));
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_EQ(10 * PG, size);
	ASSERT_EQ(0, pmem2_source_alignment(src, &align));
	ASSERT_EQ((size_t)sysconf(_SC_PAGESIZE), align);
	/* the application's own fd, not a copy */
	ASSERT_EQ(0, pmem2_source_get_fd(src, &got));
	ASSERT_EQ(fd, got);

	/* closed: libpmem2's errors, and what needs no fstat still works */
	close(fd);
	size = 1;
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_source_size(src, &size));
	ASSERT_EQ(1, size);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "fstat"));
	ASSERT_EQ(0, pmem2_source_alignment(src, &align));
	ASSERT_EQ(0, pmem2_source_get_fd(src, &got));
	ASSERT_EQ(fd, got);
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE,
		  pmem2_source_pread_mcsafe(src, &got, 1, 0));
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE,
		  pmem2_source_pwrite_mcsafe(src, &got, 1, 0));
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* device-dax: the size and align read when the source was made */
TEST(devdax_size_align)
{
	int fd = tmp_file(PG);
	struct pmem2_source *src = fake_src(PMF_FTYPE_DEVDAX, fd, 0, 64 << 20,
					    2 << 20);
	size_t size, align;

	ASSERT_NE(NULL, src);
	ASSERT_EQ(0, pmem2_source_size(src, &size));
	ASSERT_EQ(64 << 20, size);
	ASSERT_EQ(0, pmem2_source_alignment(src, &align));
	ASSERT_EQ(2 << 20, align);
	src->align = 3 << 20;
	ASSERT_EQ(PMEM2_E_INVALID_ALIGNMENT_VALUE,
		  pmem2_source_alignment(src, &align));
	ASSERT_EQ(2 << 20, align);
	src->align = 2 << 20;
	close(fd);
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_source_size(src, &size));
	ASSERT_EQ(0, pmem2_source_alignment(src, &align));
	pmem2_source_delete(&src);
}

TEST(file_pread_pwrite)
{
	struct pmem2_source *src;
	int fd = tmp_file(2 * PG), ro;
	char path[64], in[256], out[256];
	unsigned int i;

	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + 1);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_source_pwrite_mcsafe(src, in, sizeof(in), 100));
	ASSERT_EQ(sizeof(out), pread(fd, out, sizeof(out), 100));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, sizeof(out), 100));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));

	/* up to the end, and past it */
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, 16, 2 * PG - 16));
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, 0, 2 * PG));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pread_mcsafe(src, out, 17, 2 * PG - 16));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "beyond"));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pwrite_mcsafe(src, in, 17, 2 * PG - 16));
	/* libpmem2 wraps around here and reads nothing, saying 0 */
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pread_mcsafe(src, out, 1, 2 * PG + 1));
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pread_mcsafe(src, out, SIZE_MAX, 1));
	/* nothing was written past the end */
	ASSERT_EQ(0, pmem2_source_size(src, &(size_t){ 0 }));
	ASSERT_EQ(2 * PG, lseek(fd, 0, SEEK_END));
	pmem2_source_delete(&src);

	/* read-only: reads work, a write is the kernel's EBADF */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, ro));
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, sizeof(out), 100));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(-EBADF, pmem2_source_pwrite_mcsafe(src, in, 1, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "pwrite"));
	pmem2_source_delete(&src);
	close(ro);
	close(fd);
	PMF_LEAK_CHECK();
}

/* the fake kernel behind pread/pwrite: a script of answers */
static struct {
	int step, nsteps;
	struct {
		ssize_t n;	/* >= 0: bytes done (at most asked) */
		int err;	/* n < 0: errno */
	} steps[8];
	size_t sizes[8];
	off_t offs[8];
} pio;

static ssize_t fake_pio(int fd, void *buf, size_t size, off_t off, bool wr)
{
	int s = pio.step++;

	(void)fd;
	if (s < 8) {
		pio.sizes[s] = size;
		pio.offs[s] = off;
	}
	if (s >= pio.nsteps)
		return wr ? (ssize_t)size : (memset(buf, 'r', size),
					     (ssize_t)size);
	if (pio.steps[s].n < 0) {
		errno = pio.steps[s].err;
		return -1;
	}
	if (!wr)
		memset(buf, 'a' + s, (size_t)pio.steps[s].n);
	return pio.steps[s].n;
}

#define PIO(...) do {							\
	static const typeof(pio.steps[0]) s_[] = { __VA_ARGS__ };	\
	memset(&pio, 0, sizeof(pio));					\
	memcpy(pio.steps, s_, sizeof(s_));				\
	pio.nsteps = sizeof(s_) / sizeof(s_[0]);			\
} while (0)

TEST(file_kernel_errors)
{
	struct pmem2_source *src;
	int fd = tmp_file(PG);
	char buf[100];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	pmf_test_pio = fake_pio;

	/* short counts go on where they stopped; EINTR is retried */
	PIO({ 30, 0 }, { -1, EINTR }, { 50, 0 });
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, buf, 100, 1000));
	ASSERT_EQ(4, pio.step);
	ASSERT_EQ(100, pio.sizes[0]);
	ASSERT_EQ(1000, pio.offs[0]);
	ASSERT_EQ(70, pio.sizes[2]);
	ASSERT_EQ(1030, pio.offs[2]);
	ASSERT_EQ(20, pio.sizes[3]);
	ASSERT_EQ(1080, pio.offs[3]);
	ASSERT_EQ('a', buf[29]);
	ASSERT_EQ('c', buf[30]);
	ASSERT_EQ('r', buf[99]);

	/* the poison after a short read: the kernel's EIO is a bad block */
	PIO({ 40, 0 }, { -1, EIO });
	ASSERT_EQ(PMEM2_E_IO_FAIL, pmem2_source_pread_mcsafe(src, buf, 100, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "bad block"));
	PIO({ -1, EIO });
	ASSERT_EQ(PMEM2_E_IO_FAIL, pmem2_source_pwrite_mcsafe(src, buf, 10, 0));
	/* other errors are -errno */
	PIO({ -1, ENOSPC });
	ASSERT_EQ(-ENOSPC, pmem2_source_pwrite_mcsafe(src, buf, 10, 0));
	/* the file shrank under us */
	PIO({ 10, 0 }, { 0, 0 });
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pread_mcsafe(src, buf, 100, 0));
	/* a success clears the message */
	PIO({ 100, 0 });
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, buf, 100, 0));
	ASSERT_STREQ("", pmem2_errormsg());
	pmf_test_pio = NULL;
	pmem2_source_delete(&src);
	close(fd);
}

static volatile sig_atomic_t app_sigbus;

static void app_handler(int sig)
{
	(void)sig;
	app_sigbus++;
}

/*
 * Device-dax stand-in: a file of 3 pages behind a source of 16 pages, the
 * fake kernel mapping the file for it. Past the file's end the mapping
 * raises SIGBUS, as a machine check or a known bad page would.
 */
TEST(devdax_mcsafe)
{
	int fd = tmp_file(3 * PG);
	struct pmem2_source *src = fake_src(PMF_FTYPE_DEVDAX, fd, 0, 16 * PG,
					    2 * PG);
	struct sigaction sa = { .sa_handler = app_handler }, now;
	char in[300], out[300], root[] = "/tmp/pmf-tree-XXXXXX";
	unsigned int i;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, mkdtemp(root));
	pmf_test_set_sysfs(root);	/* no region: deep flush by CPU */
	fake_no_module();
	fake.sync_ok = true;	/* MAP_SYNC, as device-dax: CACHE_LINE */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 13 + 5);

	/* across a 2-page align boundary */
	ASSERT_EQ(0, pmem2_source_pwrite_mcsafe(src, in, sizeof(in),
						2 * PG - 100));
	ASSERT_EQ(sizeof(out), pread(fd, out, sizeof(out), 2 * PG - 100));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(1, fake.mmaps);
	ASSERT_LE(1, fake.cpu_flushes);		/* persisted */
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, sizeof(out),
					       2 * PG - 100));
	ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_STREQ("", pmem2_errormsg());

	/* the last bytes before the "bad" page, then into it */
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, 10, 3 * PG - 10));
	ASSERT_EQ(PMEM2_E_IO_FAIL,
		  pmem2_source_pread_mcsafe(src, out, 20, 3 * PG - 10));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "SIGBUS"));
	ASSERT_EQ(PMEM2_E_IO_FAIL,
		  pmem2_source_pwrite_mcsafe(src, in, 20, 8 * PG));
	ASSERT_EQ(0, app_sigbus);
	/* the application's handler is back, and nothing is left mapped */
	ASSERT_EQ(0, sigaction(SIGBUS, NULL, &now));
	ASSERT_TRUE(now.sa_handler == app_handler);
	raise(SIGBUS);
	ASSERT_EQ(1, app_sigbus);
	/* past the source */
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE,
		  pmem2_source_pread_mcsafe(src, out, 2, 16 * PG - 1));
	ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, 0, 16 * PG));
	pmem2_source_delete(&src);

	/* read-only: the read maps PROT_READ and works */
	{
		char path[64];
		int ro;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ro = open(path, O_RDONLY);
		ASSERT_LE(0, ro);
		src = fake_src(PMF_FTYPE_DEVDAX, ro, 0, 16 * PG, 2 * PG);
		ASSERT_NE(NULL, src);
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, pmem2_source_pread_mcsafe(src, out, sizeof(out),
						       2 * PG - 100));
		ASSERT_EQ(0, memcmp(in, out, sizeof(in)));
		ASSERT_NE(0, pmem2_source_pwrite_mcsafe(src, in, 1, 0));
		pmem2_source_delete(&src);
		close(ro);
	}
	close(fd);
	rm_tree(root);
	PMF_LEAK_CHECK();
}

/*
 * A fake nd bus: region1 maps nmem0, nmem1 (twice) and nmem2, plus nmem9
 * which the bus does not have; nmem3 is on the bus but not in the region.
 * The device-dax device is /dev/null's rdev, the file's block device a
 * partition of the region's pmem disk.
 */
FIXTURE(nd) {
	char root[64];
	dev_t chr, blk;
	int fd;
	struct pmem2_source *dax, *file;
};

static void put(const char *root, const char *dir, const char *name,
		const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/devices/%s/%s", root, dir, name);
	write_file(path, val, 0644);
}

static void dimm(const char *root, unsigned int n, const char *group,
		 const char *id, const char *ds)
{
	char dir[256];

	snprintf(dir, sizeof(dir), BUS "/nmem%u", n);
	mkdirs("%s/devices/%s", root, dir);
	if (!group)
		return;
	snprintf(dir, sizeof(dir), BUS "/nmem%u/%s", n, group);
	mkdirs("%s/devices/%s", root, dir);
	if (id)
		put(root, dir, "id", id);
	if (ds)
		put(root, dir, "dirty_shutdown", ds);
}

static int link_dev(const char *root, const char *kind, dev_t dev,
		    const char *dir)
{
	char link[PATH_MAX], target[PATH_MAX];

	snprintf(target, sizeof(target), "%s/devices/%s", root, dir);
	mkdirs("%s", target);
	mkdirs("%s/dev/%s", root, kind);
	snprintf(link, sizeof(link), "%s/dev/%s/%u:%u", root, kind,
		 major(dev), minor(dev));
	unlink(link);
	return symlink(target, link);
}

FIXTURE_SETUP(nd)
{
	struct stat st;

	strcpy(self->root, "/tmp/pmf-tree-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	self->fd = open("/dev/null", O_RDWR);
	ASSERT_EQ(0, fstat(self->fd, &st));
	self->chr = st.st_rdev;
	self->blk = makedev(259, 3);
	ASSERT_EQ(0, link_dev(self->root, "char", self->chr,
			      REGION "/dax1.0/dax/dax1.0"));
	ASSERT_EQ(0, link_dev(self->root, "block", self->blk,
			      REGION "/pfn1.0/block/pmem1/pmem1p1"));
	put(self->root, REGION, "mappings", "5\n");
	put(self->root, REGION, "mapping0", "nmem1,0,33554432,0\n");
	put(self->root, REGION, "mapping1", "nmem0,0,33554432,1\n");
	put(self->root, REGION, "mapping2", "nmem1,33554432,33554432,2\n");
	put(self->root, REGION, "mapping3", "nmem9,0,33554432,3\n");
	put(self->root, REGION, "mapping4", "nmem2,0,33554432\n");
	put(self->root, REGION, "numa_node", "1\n");
	dimm(self->root, 0, "nfit", "8089-a2-1836-00000000\n", "3\n");
	dimm(self->root, 1, "nfit", "8089-a2-1836-00000101\n", "0x10\n");
	dimm(self->root, 2, "nfit", "8089-00000202\n", "100\n");
	dimm(self->root, 3, "nfit", "8089-ffffffff\n", "1000\n");
	pmf_test_set_sysfs(self->root);
	self->dax = fake_src(PMF_FTYPE_DEVDAX, self->fd, self->chr, 64 << 20,
			     PG);
	self->file = fake_src(PMF_FTYPE_REG, self->fd, self->blk, 0, 0);
	ASSERT_NE(NULL, self->dax);
	ASSERT_NE(NULL, self->file);
}

FIXTURE_TEARDOWN(nd)
{
	pmem2_source_delete(&self->dax);
	pmem2_source_delete(&self->file);
	close(self->fd);
	rm_tree(self->root);
}

/*
 * libndctl's order: its bus list holds the nmemN entries in the reverse of
 * readdir() order; the region's DIMMs are taken from it.
 */
static void expected_id(const char *root, char *out, size_t len)
{
	static const char *const ids[] = {
		"8089-a2-1836-00000000", "8089-a2-1836-00000101",
		"8089-00000202",
	};
	char path[PATH_MAX];
	unsigned int order[8], n = 0, i;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/devices/" BUS, root);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (!strcmp(de->d_name, "nmem0") ||
		    !strcmp(de->d_name, "nmem1") ||
		    !strcmp(de->d_name, "nmem2"))
			order[n++] = (unsigned int)(de->d_name[4] - '0');
	if (dir)
		closedir(dir);
	out[0] = '\0';
	for (i = n; i > 0; i--)
		strncat(out, ids[order[i - 1]], len - strlen(out) - 1);
}

TEST_F(nd, device_id)
{
	char want[128], id[128];
	size_t len = 0, wlen;
	struct pmem2_source *srcs[] = { self->dax, self->file };
	unsigned int i;

	expected_id(self->root, want, sizeof(want));
	wlen = strlen(want) + 1;
	ASSERT_EQ(21 + 21 + 13 + 1, wlen);
	for (i = 0; i < 2; i++) {
		len = 0;
		ASSERT_EQ(0, pmem2_source_device_id(srcs[i], NULL, &len));
		ASSERT_EQ(wlen, len);
		memset(id, 'z', sizeof(id));
		ASSERT_EQ(0, pmem2_source_device_id(srcs[i], id, &len));
		ASSERT_STREQ(want, id);
		ASSERT_EQ(wlen, len);
		/* a bigger buffer: the same, *len unchanged */
		len = sizeof(id);
		ASSERT_EQ(0, pmem2_source_device_id(srcs[i], id, &len));
		ASSERT_STREQ(want, id);
		ASSERT_EQ(sizeof(id), len);
		/* one byte short: nothing written */
		len = wlen - 1;
		memset(id, 'z', sizeof(id));
		ASSERT_EQ(PMEM2_E_BUFFER_TOO_SMALL,
			  pmem2_source_device_id(srcs[i], id, &len));
		ASSERT_EQ(wlen - 1, len);
		ASSERT_EQ('z', id[0]);
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "bytes"));
		len = 0;
		ASSERT_EQ(PMEM2_E_BUFFER_TOO_SMALL,
			  pmem2_source_device_id(srcs[i], id, &len));
	}
}

TEST_F(nd, usc_and_numa)
{
	uint64_t usc = 0;
	int numa = 7;

	/* 3 + 0x10 + 100; nmem3 is not in the region */
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(119, usc);
	usc = 0;
	ASSERT_EQ(0, pmem2_source_device_usc(self->file, &usc));
	ASSERT_EQ(119, usc);
	ASSERT_EQ(0, pmem2_source_numa_node(self->dax, &numa));
	ASSERT_EQ(1, numa);
	numa = 7;
	ASSERT_EQ(0, pmem2_source_numa_node(self->file, &numa));
	ASSERT_EQ(1, numa);
	ASSERT_STREQ("", pmem2_errormsg());

	/* libndctl's values when the file is missing or unreadable */
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/devices/" REGION "/numa_node",
			 self->root);
		unlink(p);
		ASSERT_EQ(0, pmem2_source_numa_node(self->dax, &numa));
		ASSERT_EQ(-2, numa);
		ASSERT_EQ(0, mkdir(p, 0755));	/* read() fails: EISDIR */
		ASSERT_EQ(0, pmem2_source_numa_node(self->dax, &numa));
		ASSERT_EQ(-1, numa);
	}
}

TEST_F(nd, usc_unsupported)
{
	char p[PATH_MAX];
	uint64_t usc = 5;

	/* a DIMM whose count is negative (sysfs prints %d) */
	put(self->root, BUS "/nmem2/nfit", "dirty_shutdown", "-1\n");
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(5, usc);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "nmem2"));
	put(self->root, BUS "/nmem2/nfit", "dirty_shutdown", "x\n");
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->dax, &usc));
	/* missing (QEMU's NVDIMMs), and unreadable */
	snprintf(p, sizeof(p), "%s/devices/" BUS "/nmem2/nfit/dirty_shutdown",
		 self->root);
	unlink(p);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->file, &usc));
	ASSERT_EQ(5, usc);
	/* the id does not need it */
	ASSERT_EQ(0, pmem2_source_device_id(self->dax, NULL, &(size_t){ 0 }));
}

/* a DIMM with no nfit/ at all: neither id nor count */
TEST_F(nd, no_nfit_group)
{
	char p[PATH_MAX];
	size_t len = 100;
	uint64_t usc = 5;
	char id[100] = "keep";

	snprintf(p, sizeof(p), "rm -rf '%s/devices/" BUS "/nmem0/nfit'",
		 self->root);
	ASSERT_EQ(0, system(p));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(self->dax, NULL,
							 &len));
	ASSERT_EQ(100, len);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(self->dax, id, &len));
	ASSERT_STREQ("keep", id);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "nmem0"));
}

/* papr DIMMs count; libndctl reads no dirty_shutdown of a CXL DIMM */
TEST_F(nd, papr_and_cxl)
{
	char cmd[PATH_MAX];
	uint64_t usc;
	size_t len = 0;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/devices/" BUS "/nmem0/nfit'",
		 self->root);
	ASSERT_EQ(0, system(cmd));
	dimm(self->root, 0, "papr", NULL, "40\n");
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(156, usc);
	/* papr_scm has no id */
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(self->dax, NULL,
							 &len));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/devices/" BUS "/nmem0/papr'",
		 self->root);
	ASSERT_EQ(0, system(cmd));
	dimm(self->root, 0, "cxl", "cxl-id\n", "40\n");
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(0, pmem2_source_device_id(self->dax, NULL, &len));
	ASSERT_EQ(6 + 21 + 13 + 1, len);
}

/* virtio-pmem: a region without DIMMs; libpmem2 says "" and 0 */
TEST_F(nd, region_without_dimms)
{
	char cmd[PATH_MAX], id[4] = "zzz";
	size_t len = 0;
	uint64_t usc = 5;

	snprintf(cmd, sizeof(cmd), "rm -f '%s/devices/" REGION "'/mapping*",
		 self->root);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, pmem2_source_device_id(self->dax, NULL, &len));
	ASSERT_EQ(1, len);
	ASSERT_EQ(0, pmem2_source_device_id(self->dax, id, &len));
	ASSERT_STREQ("", id);
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(0, usc);
}

/* without a "mappings" count: mappingN up to the first missing one */
TEST_F(nd, mappings_without_count)
{
	char p[PATH_MAX];
	uint64_t usc;

	snprintf(p, sizeof(p), "%s/devices/" REGION "/mappings", self->root);
	unlink(p);
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(119, usc);
	/* with a count, a missing one is skipped */
	snprintf(p, sizeof(p), "%s/devices/" REGION "/mapping3", self->root);
	unlink(p);
	put(self->root, REGION, "mappings", "5\n");
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(119, usc);
	snprintf(p, sizeof(p), "%s/devices/" REGION "/mappings", self->root);
	unlink(p);
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(16 + 3, usc);	/* nmem2 is after the gap */
	snprintf(p, sizeof(p), "%s/devices/" REGION "/mapping0", self->root);
	unlink(p);
	ASSERT_EQ(0, pmem2_source_device_usc(self->dax, &usc));
	ASSERT_EQ(0, usc);
}

/* a source no nd region is above */
TEST_F(nd, no_region)
{
	struct pmem2_source *s = fake_src(PMF_FTYPE_REG, self->fd,
					  makedev(0, 45), 0, 0);
	size_t len = 3;
	uint64_t usc = 5;
	int numa = 7;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_id(s, NULL, &len));
	ASSERT_EQ(3, len);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(s, &usc));
	ASSERT_EQ(5, usc);
	ASSERT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND,
		  pmem2_source_numa_node(s, &numa));
	ASSERT_EQ(7, numa);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "region"));
	/* a device outside any ndbusN/regionN */
	ASSERT_EQ(0, link_dev(self->root, "block", makedev(0, 45),
			      "virtual/block/loop0"));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_source_device_usc(s, &usc));
	pmem2_source_delete(&s);
}

TEST_HARNESS_MAIN
