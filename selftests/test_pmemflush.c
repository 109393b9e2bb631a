// SPDX-License-Identifier: GPL-2.0
/*
 * Test module for pmemflush's in-kernel API (include/linux/pmemflush.h), in
 * the manner of lib/test_*.c: the checks run from module init against the
 * targets named by the parameters (comma-separated paths, each list may be
 * empty):
 *
 *   devdax=	device-dax devices, which must flush
 *   file=	files on a filesystem mounted with -o dax, which must flush
 *   bdev=	fsdax pmem block devices, which must flush
 *   nodax=	pmem block devices without DAX (raw, BTT), which must be refused
 *
 * Init prints "all N tests passed" and returns 0, or prints each failing
 * check with what it expected and got, then "F of N tests failed", and
 * returns -EINVAL. As with lib/test_*.c, a module that passed stays loaded
 * until it is removed. Each target that must flush is flushed successfully
 * exactly four times, which selftests/pmemflush_kapi_test.c counts.
 *
 * There is no MODULE_INFO(test, "Y"): it would taint the kernel (TAINT_TEST),
 * which the VM harness's verdict on a boot does not allow.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pmemflush.h>
#include <linux/shmem_fs.h>

#define TEST_PMEMFLUSH_MAX_TARGETS 8

static char *devdax_paths[TEST_PMEMFLUSH_MAX_TARGETS];
static unsigned int nr_devdax;
module_param_array_named(devdax, devdax_paths, charp, &nr_devdax, 0);
MODULE_PARM_DESC(devdax, "device-dax devices, which must flush");

static char *file_paths[TEST_PMEMFLUSH_MAX_TARGETS];
static unsigned int nr_file;
module_param_array_named(file, file_paths, charp, &nr_file, 0);
MODULE_PARM_DESC(file, "files on a DAX filesystem, which must flush");

static char *bdev_paths[TEST_PMEMFLUSH_MAX_TARGETS];
static unsigned int nr_bdev;
module_param_array_named(bdev, bdev_paths, charp, &nr_bdev, 0);
MODULE_PARM_DESC(bdev, "fsdax pmem block devices, which must flush");

static char *nodax_paths[TEST_PMEMFLUSH_MAX_TARGETS];
static unsigned int nr_nodax;
module_param_array_named(nodax, nodax_paths, charp, &nr_nodax, 0);
MODULE_PARM_DESC(nodax, "pmem block devices without DAX, which are refused");

static unsigned int total_tests __initdata;
static unsigned int failed_tests __initdata;

static void __init check(const char *name, const char *what, int expected,
			 int got)
{
	total_tests++;
	if (got == expected)
		return;
	failed_tests++;
	pr_err("%s: %s: expected %d, got %d\n", name, what, expected, got);
}

static void __init check_flush(const char *name, struct pmemflush_target *t,
			       u64 offset, u64 length, int expected)
{
	char what[64];

	snprintf(what, sizeof(what), "pmemflush_target_flush(%#llx, %#llx)",
		 offset, length);
	check(name, what, expected, pmemflush_target_flush(t, offset, length));
}

/* @name opened with @flags, or NULL: a failed open is a failed check */
static struct file *__init open_target(const char *name, int flags)
{
	struct file *f = filp_open(name, flags, 0);

	if (!IS_ERR(f))
		return f;
	check(name, flags == O_RDONLY ? "filp_open(O_RDONLY)" :
					"filp_open(O_RDWR)", 0, PTR_ERR(f));
	return NULL;
}

/*
 * pmemflush_target_get_file() of @f must return @expected: the target when
 * that is 0, else NULL.
 */
static struct pmemflush_target *__init get_target(const char *name,
						  struct file *f, int expected)
{
	struct pmemflush_target *t = pmemflush_target_get_file(f);

	check(name, "pmemflush_target_get_file()", expected,
	      PTR_ERR_OR_ZERO(t));
	if (IS_ERR(t))
		return NULL;
	if (expected) {
		pmemflush_target_put(t);
		return NULL;
	}
	return t;
}

/* a target open read-only is refused */
static void __init test_read_only(const char *name)
{
	struct file *f = open_target(name, O_RDONLY);

	if (!f)
		return;
	get_target(name, f, -EBADF);
	fput(f);
}

/*
 * Every target that must flush: four flushes that succeed, then ranges that
 * end past @size or overflow, which must be refused without a flush.
 */
static void __init test_flushes(const char *name, struct pmemflush_target *t,
				u64 size)
{
	check_flush(name, t, 0, 4096, 0);
	check_flush(name, t, 0, size, 0);
	check_flush(name, t, size - 1, 1, 0);
	/* an empty range at the very end is still inside */
	check_flush(name, t, size, 0, 0);

	check_flush(name, t, size - 1, 2, -ERANGE);
	check_flush(name, t, size + 1, 0, -ERANGE);
	check_flush(name, t, 1ULL << 62, 1, -ERANGE);
	check_flush(name, t, ~0ULL, 2, -EOVERFLOW);
	check_flush(name, t, 1, ~0ULL, -EOVERFLOW);
}

/*
 * The size that bounds the ranges of @f, found without pmemflush: a file's
 * size, or a device-dax device's "size" attribute.
 */
static int __init target_size(struct file *f, u64 *size)
{
	struct inode *inode = file_inode(f);
	char path[64], buf[32];
	struct file *attr;
	loff_t pos = 0;
	ssize_t n;

	if (S_ISREG(inode->i_mode)) {
		*size = i_size_read(inode);
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/size",
		 MAJOR(inode->i_rdev), MINOR(inode->i_rdev));
	attr = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(attr))
		return PTR_ERR(attr);
	n = kernel_read(attr, buf, sizeof(buf) - 1, &pos);
	fput(attr);
	if (n < 0)
		return n;
	buf[n] = '\0';
	return kstrtou64(buf, 0, size);
}

/* a device-dax device or a DAX file, which must flush */
static void __init test_dax_file(const char *name)
{
	struct pmemflush_target *t;
	struct file *f;
	u64 size = 0;

	f = open_target(name, O_RDWR);
	if (!f)
		return;
	t = get_target(name, f, 0);
	if (t) {
		check(name, "its size", 0, target_size(f, &size));
		test_flushes(name, t, size);
		pmemflush_target_put(t);
	}
	fput(f);
	test_read_only(name);
}

/*
 * pmemflush_target_get_bdev() of block device @name must return @expected,
 * and so must pmemflush_target_get_file() of its node open for writing.
 */
static void __init test_bdev(const char *name, int expected)
{
	struct pmemflush_target *t;
	struct block_device *b;
	struct file *f;

	/* the node's file holds the block device open, on 6.1 and 6.12 alike */
	f = open_target(name, O_RDWR);
	if (!f)
		return;
	b = I_BDEV(f->f_mapping->host);
	t = pmemflush_target_get_bdev(b);
	check(name, "pmemflush_target_get_bdev()", expected,
	      PTR_ERR_OR_ZERO(t));
	if (!IS_ERR(t)) {
		if (!expected)
			test_flushes(name, t, bdev_nr_bytes(b));
		pmemflush_target_put(t);
	}
	pmemflush_target_put(get_target(name, f, expected));
	fput(f);
	if (!expected)
		test_read_only(name);
}

/* a tmpfs file of the kernel's own: no persistent memory behind it */
static void __init test_shmem(void)
{
	struct pmemflush_target *t;
	struct file *f;

	f = shmem_file_setup(KBUILD_MODNAME, 4096, 0);
	if (IS_ERR(f)) {
		check("shmem file", "shmem_file_setup()", 0, PTR_ERR(f));
		return;
	}
	t = pmemflush_target_get_file(f);
	check("shmem file", "pmemflush_target_get_file()", -ENODEV,
	      PTR_ERR_OR_ZERO(t));
	if (!IS_ERR(t))
		pmemflush_target_put(t);
	fput(f);
}

static int __init test_pmemflush_init(void)
{
	unsigned int i;

	test_shmem();
	for (i = 0; i < nr_devdax; i++)
		test_dax_file(devdax_paths[i]);
	for (i = 0; i < nr_file; i++)
		test_dax_file(file_paths[i]);
	for (i = 0; i < nr_bdev; i++)
		test_bdev(bdev_paths[i], 0);
	for (i = 0; i < nr_nodax; i++)
		test_bdev(nodax_paths[i], -EOPNOTSUPP);

	if (failed_tests) {
		pr_err("%u of %u tests failed\n", failed_tests, total_tests);
		return -EINVAL;
	}
	pr_info("all %u tests passed\n", total_tests);
	return 0;
}
module_init(test_pmemflush_init);

static void __exit test_pmemflush_exit(void)
{
}
module_exit(test_pmemflush_exit);

MODULE_DESCRIPTION("Test module for the pmemflush in-kernel API");
MODULE_LICENSE("GPL");
