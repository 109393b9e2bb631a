// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Config, source, error reporting and the native calls: every error path,
 * the kernel errno table, thread-local messages, the /dev/pmemflush check.
 */
#include <pthread.h>

#include "pmf_test.h"

TEST(config_rules)
{
	struct pmem2_config *cfg;

	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
		  pmem2_config_set_required_store_granularity(cfg,
					(enum pmem2_granularity)3));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "granularity"));
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
		  pmem2_config_set_required_store_granularity(cfg,
					(enum pmem2_granularity)-1));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_PAGE));
	ASSERT_STREQ("", pmem2_errormsg());
	ASSERT_EQ(PMEM2_E_OFFSET_OUT_OF_RANGE,
		  pmem2_config_set_offset(cfg, (size_t)INT64_MAX + 1));
	ASSERT_EQ(0, pmem2_config_set_offset(cfg, (size_t)INT64_MAX));
	ASSERT_EQ(0, pmem2_config_set_length(cfg, SIZE_MAX));
	ASSERT_EQ(0, pmem2_config_delete(&cfg));
	ASSERT_EQ(NULL, cfg);
	ASSERT_EQ(0, pmem2_config_delete(&cfg));
	PMF_LEAK_CHECK();
}

TEST(source_bad_fds)
{
	struct pmem2_source *src = (void *)1;
	int fd, p[2];

	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_source_from_fd(&src, -1));
	ASSERT_EQ(NULL, src);
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_source_from_fd(&src, 999));
	fd = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(PMEM2_E_INVALID_FILE_TYPE, pmem2_source_from_fd(&src, fd));
	close(fd);
	fd = open("/dev/null", O_WRONLY);
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_source_from_fd(&src, fd));
	close(fd);
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(PMEM2_E_INVALID_FILE_TYPE, pmem2_source_from_fd(&src, p[0]));
	close(p[0]);
	close(p[1]);
	/* a char device that is not device-dax (real sysfs: class mem) */
	fd = open("/dev/null", O_RDWR);
	if (access("/sys/dev/char/1:3/subsystem", F_OK) == 0)
		ASSERT_EQ(PMEM2_E_INVALID_FILE_TYPE,
			  pmem2_source_from_fd(&src, fd));
	/* ...and one sysfs does not know */
	pmf_test_set_sysfs("/nonexistent");
	ASSERT_EQ(-ENOENT, pmem2_source_from_fd(&src, fd));
	close(fd);
	ASSERT_EQ(NULL, src);
	ASSERT_EQ(0, pmem2_source_delete(&src));
	PMF_LEAK_CHECK();
}

TEST(source_regular_and_readonly)
{
	struct pmem2_source *src;
	int fd = tmp_file(4096);

	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(fd, src->fd);
	ASSERT_EQ(PMF_FTYPE_REG, src->ftype);
	ASSERT_EQ(0, pmem2_source_delete(&src));
	ASSERT_EQ(NULL, src);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(err_to_errno)
{
	ASSERT_EQ(0, pmem2_err_to_errno(0));
	ASSERT_EQ(EIO, pmem2_err_to_errno(-EIO));
	ASSERT_EQ(ENOTSUP, pmem2_err_to_errno(PMEM2_E_NOSUPP));
	ASSERT_EQ(EINVAL, pmem2_err_to_errno(PMEM2_E_UNKNOWN));
	ASSERT_EQ(EINVAL, pmem2_err_to_errno(PMEM2_E_DEEP_FLUSH_RANGE));
	ASSERT_EQ(EINVAL, pmem2_err_to_errno(PMEM2_E_IO_FAIL));
	ASSERT_EQ(EINVAL, pmem2_err_to_errno(5));
}

/* the one table from the kernel's errnos (uapi DOC block) */
TEST(kernel_errno_table)
{
	const struct pmf_errno_case *t = pmf_kernel_errnos;
	size_t i;

	fake_module(PMEMFLUSH_TARGET_DEVDAX, 0, 0);
	for (i = 0; i < PMF_NR_KERNEL_ERRNOS; i++) {
		struct pmemflush_info info;

		ASSERT_EQ(t[i].want, pmf_map_kernel_errno(t[i].err));
		fake.flush_ret = -t[i].err;
		ASSERT_EQ(t[i].want, pmemflush_fd_deep_flush(3, 0, 1, 0));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_FLUSH"));
		fake.query_ret = -t[i].err;
		ASSERT_EQ(t[i].want, pmemflush_fd_query(3, &info));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_QUERY"));
	}
}

TEST(native_calls)
{
	struct pmemflush_info info;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, PMEMFLUSH_PERSIST_CPU_CACHE,
		    PMEMFLUSH_DAX_SYNC | PMEMFLUSH_REGION_ASYNC);
	fake.q.target_size = 12345;
	fake.q.has_flush = -ENXIO;
	ASSERT_EQ(0, pmemflush_fd_deep_flush(5, 4096, 100, 0));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(5, fake.flush_target);
	ASSERT_EQ(4096, fake.flush_offset);
	ASSERT_EQ(100, fake.flush_length);
	ASSERT_EQ(-EINVAL, pmemflush_fd_deep_flush(5, 0, 1, 1));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(-EINVAL, pmemflush_fd_query(5, NULL));
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, pmemflush_fd_query(5, &info));
	ASSERT_EQ(7, info.region_id);
	ASSERT_EQ(-ENXIO, info.has_flush);
	ASSERT_EQ(PMEMFLUSH_INFO_PERSIST_CPU_CACHE, info.persistence_domain);
	ASSERT_EQ(PMEMFLUSH_INFO_FSDAX_FILE, info.target_kind);
	ASSERT_EQ(PMEMFLUSH_INFO_DAX_SYNC | PMEMFLUSH_INFO_REGION_ASYNC,
		  info.flags);
	ASSERT_EQ(12345, info.target_size);
	ASSERT_EQ(0, info.reserved0);
	ASSERT_EQ(0, info.reserved[3]);
	/* a process without the module: the open's errno, nothing issued */
	pmf_test_atfork_child();
	fake.dev_err = -ENOENT;
	ASSERT_EQ(-ENOENT, pmemflush_fd_deep_flush(5, 0, 1, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "/dev/pmemflush"));
	ASSERT_EQ(-ENOENT, pmemflush_fd_query(5, &info));
	ASSERT_EQ(1, fake.flushes);
}

/* the real device open: absent here, same answer from racing threads */
static void *query_thread(void *arg)
{
	struct pmemflush_info info;

	*(int *)arg = pmemflush_fd_query(0, &info);
	return NULL;
}

TEST(real_dev_open_once_threads)
{
	pthread_t th[8];
	int rc[8], i;

	if (access("/dev/pmemflush", F_OK) == 0)
		SKIP(return, "the module is loaded on this host");
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, query_thread, &rc[i]));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(-ENOENT, rc[i]);
	}
}

/* the node must be misc major 10 with the minor sysfs lists */
TEST(dev_check)
{
	char root[] = "/tmp/pmf-sys-XXXXXX", path[PATH_MAX], dev[32];
	int fd;

	ASSERT_NE(NULL, mkdtemp(root));
	mkdirs("%s/class/misc/pmemflush", root);
	snprintf(path, sizeof(path), "%s/class/misc/pmemflush/dev", root);
	fd = open("/dev/null", O_RDWR);
	write_file(path, "1:3\n", 0644);
	ASSERT_EQ(-ENODEV, pmf_dev_check(fd, root));	/* major 1 */
	close(fd);
	fd = tmp_file(1);
	ASSERT_EQ(-ENODEV, pmf_dev_check(fd, root));	/* not a char dev */
	close(fd);
	fd = open("/dev/fuse", O_RDWR);	/* a misc device: 10:229 */
	if (fd >= 0) {
		struct stat st;

		ASSERT_EQ(0, fstat(fd, &st));
		write_file(path, "10:1\n", 0644);
		ASSERT_EQ(-ENODEV, pmf_dev_check(fd, root));
		write_file(path, "garbage\n", 0644);
		ASSERT_EQ(-ENODEV, pmf_dev_check(fd, root));
		unlink(path);
		ASSERT_EQ(-ENOENT, pmf_dev_check(fd, root));
		snprintf(dev, sizeof(dev), "%u:%u\n", major(st.st_rdev),
			 minor(st.st_rdev));
		write_file(path, dev, 0644);
		ASSERT_EQ(0, pmf_dev_check(fd, root));
		close(fd);
	}
	ASSERT_EQ(-EBADF, pmf_dev_check(-1, root));
	rm_tree(root);
}

/* messages are per thread */
static void *err_thread(void *arg)
{
	struct pmem2_source *src;

	(void)arg;
	pmem2_source_from_fd(&src, -1);
	return strdup(pmem2_errormsg());
}

TEST(errormsg_thread_local)
{
	struct pmem2_config *cfg;
	pthread_t th;
	char *other;

	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(PMEM2_E_OFFSET_OUT_OF_RANGE,
		  pmem2_config_set_offset(cfg, SIZE_MAX));
	ASSERT_EQ(0, pthread_create(&th, NULL, err_thread, NULL));
	ASSERT_EQ(0, pthread_join(th, (void **)&other));
	ASSERT_NE(NULL, strstr(other, "invalid fd"));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "INT64_MAX"));
	free(other);
	pmem2_config_delete(&cfg);
	PMF_LEAK_CHECK();
}

TEST(perror_format)
{
	struct pmem2_source *src;
	char buf[256] = "";
	int p[2], saved;
	ssize_t n;

	ASSERT_EQ(0, pipe(p));
	saved = dup(2);
	dup2(p[1], 2);
	pmem2_source_from_fd(&src, -7);
	pmem2_perror("open %s", "x");
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	ASSERT_LT(0, n);
	ASSERT_STREQ("open x: invalid fd -7\n", buf);
}

/* messages and perror's prefix as long as PMDK's (8,191 bytes), not 256 */
TEST(long_messages)
{
	static char path[10000], buf[12000];
	struct pmem2_source *src;
	int p[2], saved;
	ssize_t n, got = 0;

	memset(path, 'p', sizeof(path) - 1);
	path[5000] = '\0';
	pmf_err(PMEM2_E_UNKNOWN, "%s", path);
	ASSERT_EQ(5000, strlen(pmem2_errormsg()));
	path[5000] = 'p';
	pmf_err(PMEM2_E_UNKNOWN, "%s", path);
	ASSERT_EQ(8191, strlen(pmem2_errormsg()));

	ASSERT_EQ(0, pipe(p));
	saved = dup(2);
	dup2(p[1], 2);
	pmem2_source_from_fd(&src, -7);
	path[5000] = '\0';
	pmem2_perror("%s", path);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(p[0]);
	ASSERT_EQ(5000 + strlen(": invalid fd -7\n"), (size_t)got);
	ASSERT_EQ(0, strcmp(buf + 5000, ": invalid fd -7\n"));
}

TEST_HARNESS_MAIN
