// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API through its test module, test_pmemflush.ko (path in
 * PMF_KAPI_MODULE), inserted with the targets of whichever stack this boot
 * has: it must load, report every check passed and flush each target that
 * must flush exactly as often as it says; given a target it cannot flush,
 * it must not load. Runs on every stack.
 */
#include "kselftest_harness.h"
#include "pmemflush_test.h"

/* what test_pmemflush.c does per target: successful flushes, checks */
#define KAPI_FLUSHES		4
#define KAPI_CHECKS_FLUSH	12	/* devdax=, file= and bdev= targets */
#define KAPI_CHECKS_NODAX	2	/* nodax= targets */
#define KAPI_CHECKS_ALWAYS	1	/* a tmpfs file of the kernel's own */

#define KAPI_FILE_SIZE		(64 << 10)

/* every stack's targets: a stack sets the variables of its own */
static const struct kapi_target {
	const char *env;	/* names a device node, or a DAX mount */
	const char *param;	/* test_pmemflush's parameter for it */
	int in_dir;		/* env is a mount: pass a file made there */
} kapi_targets[] = {
	{ .env = "PMF_NFIT_DEVDAX", .param = "devdax" },
	{ .env = "PMF_VIRTIO_DEVDAX", .param = "devdax" },
	{ .env = "PMF_HINTS_DEVDAX", .param = "devdax" },
	{ .env = "PMF_NFIT_EXT4", .param = "file", .in_dir = 1 },
	{ .env = "PMF_NFIT_XFS", .param = "file", .in_dir = 1 },
	{ .env = "PMF_VIRTIO_EXT4", .param = "file", .in_dir = 1 },
	{ .env = "PMF_NFIT_PMEM", .param = "bdev" },
	{ .env = "PMF_HINTS_PMEM", .param = "bdev" },
	{ .env = "PMF_NFIT_RAW", .param = "nodax" },
	{ .env = "PMF_NFIT_PART", .param = "nodax" },
	{ .env = "PMF_NFIT_BTT", .param = "nodax" },
};

static const char * const kapi_params[] = { "devdax", "file", "bdev", "nodax" };

#define KAPI_MAX_FILES 8

FIXTURE(kapi)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int kmsg;
	char made[KAPI_MAX_FILES][PATH_MAX];
	int nr_made;
	char opts[4096];
	char log[16384];
};

FIXTURE_SETUP(kapi)
{
	const char *path = getenv("PMF_KAPI_MODULE");

	ASSERT_NE(NULL, path) TH_LOG("PMF_KAPI_MODULE is not set");
	self->ctx = kmod_new(NULL, NULL);
	ASSERT_NE(NULL, self->ctx);
	ASSERT_EQ(0, kmod_module_new_from_path(self->ctx, path, &self->mod))
		TH_LOG("cannot use %s", path);
	ASSERT_TRUE(pmf_dev_exists()) TH_LOG("pmemflush.ko is not loaded");
	/* left behind by a test that died */
	if (pmf_module_live(self->mod))
		ASSERT_EQ(0, kmod_module_remove_module(self->mod, 0));
	/* the kernel log from here on: test_pmemflush's report */
	self->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->kmsg);
	ASSERT_LE(0, lseek(self->kmsg, 0, SEEK_END));
}

FIXTURE_TEARDOWN(kapi)
{
	int i;

	if (pmf_module_live(self->mod))
		kmod_module_remove_module(self->mod, 0);
	for (i = 0; i < self->nr_made; i++)
		unlink(self->made[i]);
	close(self->kmsg);
	kmod_module_unref(self->mod);
	kmod_unref(self->ctx);
}

/* test_pmemflush's lines logged since the fixture's setup, into self->log */
static void read_kmsg(FIXTURE_DATA(kapi) *self)
{
	size_t used = strlen(self->log);
	char rec[8192], *msg;
	ssize_t n;

	for (;;) {
		n = read(self->kmsg, rec, sizeof(rec) - 1);
		/* EPIPE: records were overwritten; the next read goes on */
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || strncmp(msg + 1, "test_pmemflush: ", 16))
			continue;
		msg[strcspn(msg, "\n")] = '\0';
		used += snprintf(self->log + used, sizeof(self->log) - used,
				 "%s\n", msg + 1);
		if (used >= sizeof(self->log))
			break;
	}
}

/* a file of KAPI_FILE_SIZE in @dir, written out, its path into self->made */
static const char *make_file(FIXTURE_DATA(kapi) *self, const char *dir,
			     const char *name)
{
	static const char zero[KAPI_FILE_SIZE];
	char *path;
	int fd, ok;

	if (self->nr_made == KAPI_MAX_FILES)
		return NULL;
	path = self->made[self->nr_made];
	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	self->nr_made++;
	ok = pwrite(fd, zero, sizeof(zero), 0) == sizeof(zero) && !fsync(fd);
	close(fd);
	return ok ? path : NULL;
}

/*
 * Insert test_pmemflush with self->opts, counting the calls of nvdimm_flush()
 * its init makes (it runs in this process). Returns what the insert returned.
 */
static int insert_counted(struct __test_metadata *_metadata,
			  FIXTURE_DATA(kapi) *self, int *flushes)
{
	struct pmf_probe probe;
	int ret;

	*flushes = -1;
	/* nothing left for a filesystem to flush from this process */
	sync();
	if (pmf_probe_start(&probe, "nvdimm_flush")) {
		TH_LOG("cannot count nvdimm_flush calls");
		return -EIO;
	}
	ret = kmod_module_insert_module(self->mod, 0, self->opts);
	*flushes = pmf_probe_count(&probe);
	pmf_probe_stop(&probe);
	read_kmsg(self);
	return ret;
}

/*
 * self->opts from this stack's targets: " devdax=A,B file=C ...", counting
 * the targets that must flush and those without DAX.
 */
static void stack_opts(struct __test_metadata *_metadata,
		       FIXTURE_DATA(kapi) *self, int *nr_flush, int *nr_nodax)
{
	size_t len = 0, n, i, p;
	char list[2048];

	for (p = 0; p < ARRAY_SIZE(kapi_params); p++) {
		n = 0;
		for (i = 0; i < ARRAY_SIZE(kapi_targets); i++) {
			const struct kapi_target *t = &kapi_targets[i];
			const char *path = getenv(t->env);

			if (!path || strcmp(t->param, kapi_params[p]))
				continue;
			if (t->in_dir) {
				path = make_file(self, path, "pmf-kapi");
				ASSERT_NE(NULL, path)
					TH_LOG("a file in %s", t->env);
			}
			if (!strcmp(t->param, "nodax"))
				(*nr_nodax)++;
			else
				(*nr_flush)++;
			n += snprintf(list + n, sizeof(list) - n, "%s%s",
				      n ? "," : "", path);
			ASSERT_GT(sizeof(list), n);
		}
		if (!n)
			continue;
		len += snprintf(self->opts + len, sizeof(self->opts) - len,
				" %s=%s", kapi_params[p], list);
		ASSERT_GT(sizeof(self->opts), len);
	}
}

TEST_F(kapi, stack_targets)
{
	int nr_flush = 0, nr_nodax = 0, flushes, ret;
	struct kmod_module *pmemflush;
	struct kmod_ctx *pmf_ctx;
	char want[128];

	stack_opts(_metadata, self, &nr_flush, &nr_nodax);
	ASSERT_LT(0, nr_flush) TH_LOG("no target on this stack must flush");

	ret = insert_counted(_metadata, self, &flushes);
	ASSERT_EQ(0, ret) TH_LOG("insert with%s: %s; its log:\n%s", self->opts,
				 strerror(-ret), self->log);
	EXPECT_EQ(KAPI_FLUSHES * nr_flush, flushes);
	snprintf(want, sizeof(want), "test_pmemflush: all %d tests passed\n",
		 KAPI_CHECKS_ALWAYS + KAPI_CHECKS_FLUSH * nr_flush +
		 KAPI_CHECKS_NODAX * nr_nodax);
	EXPECT_NE(NULL, strstr(self->log, want))
		TH_LOG("its log:\n%s", self->log);

	/* a module using the API keeps pmemflush loaded */
	pmemflush = pmf_kmod_module(&pmf_ctx);
	if (pmemflush) {
		EXPECT_EQ(-EWOULDBLOCK,
			  kmod_module_remove_module(pmemflush, 0));
		EXPECT_TRUE(pmf_module_live(pmemflush));
		kmod_module_unref(pmemflush);
		kmod_unref(pmf_ctx);
	}

	EXPECT_EQ(0, kmod_module_remove_module(self->mod, 0));
	EXPECT_FALSE(pmf_module_live(self->mod));
}

/* a target that must flush but cannot: a tmpfs file is not on pmem */
TEST_F(kapi, tmpfs_file_refused)
{
	const char *path;
	char want[PATH_MAX + 128];
	int flushes, ret;

	path = make_file(self, "/tmp", "pmf-kapi-tmpfs");
	ASSERT_NE(NULL, path);
	snprintf(self->opts, sizeof(self->opts), "file=%s", path);

	ret = insert_counted(_metadata, self, &flushes);
	EXPECT_EQ(-EINVAL, ret) TH_LOG("its log:\n%s", self->log);
	EXPECT_FALSE(pmf_module_live(self->mod));
	EXPECT_EQ(0, flushes);
	snprintf(want, sizeof(want),
		 "test_pmemflush: %s: pmemflush_target_get_file(): expected 0, got %d\n",
		 path, -ENODEV);
	EXPECT_NE(NULL, strstr(self->log, want))
		TH_LOG("its log:\n%s", self->log);
	/* the kernel's tmpfs file, this one, and this one read-only (EBADF) */
	EXPECT_NE(NULL,
		  strstr(self->log, "test_pmemflush: 1 of 3 tests failed\n"))
		TH_LOG("its log:\n%s", self->log);
}

TEST_HARNESS_MAIN
