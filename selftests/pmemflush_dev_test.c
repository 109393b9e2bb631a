// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/pmemflush as a device: node, unknown commands, module lifetime.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/pmemflush.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

TEST(node)
{
	unsigned int major, minor;
	struct stat st;
	FILE *f;

	ASSERT_EQ(0, stat(PMEMFLUSH_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	/* world-usable: every command checks access to the target fd itself */
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);

	f = fopen("/sys/class/misc/pmemflush/dev", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(2, fscanf(f, "%u:%u", &major, &minor));
	fclose(f);
	EXPECT_EQ(10, major);	/* MISC_MAJOR */
	EXPECT_EQ(major, major(st.st_rdev));
	EXPECT_EQ(minor, minor(st.st_rdev));
}

TEST(unknown_command)
{
	char buf[64] = { 0 };
	int fd, ret;

	fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);

	ret = ioctl(fd, _IOWR(PMEMFLUSH_TYPE, 0xff, buf), buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);

	ret = ioctl(fd, _IO(PMEMFLUSH_TYPE, 0));
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);

	/* another driver's command number */
	ret = ioctl(fd, FIONREAD, buf);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOTTY, errno);

	close(fd);
}

FIXTURE(module)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
};

FIXTURE_SETUP(module)
{
	self->mod = pmf_kmod_module(&self->ctx);
	if (!self->mod)
		SKIP(return, "PMF_MODULE does not name a loadable pmemflush.ko");
	ASSERT_TRUE(pmf_module_live(self->mod));
}

FIXTURE_TEARDOWN(module)
{
	if (!self->mod)
		return;
	/* leave the module loaded for whatever runs next */
	if (!pmf_module_live(self->mod))
		kmod_module_insert_module(self->mod, 0, NULL);
	kmod_module_unref(self->mod);
	kmod_unref(self->ctx);
}

TEST_F(module, unload_while_open)
{
	int fd, ret;

	fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_LE(1, kmod_module_get_refcnt(self->mod));

	/*
	 * The open file pins the module (fops.owner). delete_module(2) then
	 * fails with EWOULDBLOCK (== EAGAIN); rmmod reports that as "in use".
	 */
	ret = kmod_module_remove_module(self->mod, 0);
	EXPECT_EQ(-EWOULDBLOCK, ret);
	EXPECT_TRUE(pmf_module_live(self->mod));
	EXPECT_TRUE(pmf_dev_exists());

	/* the device still works while the unload is refused */
	EXPECT_EQ(-1, ioctl(fd, _IO(PMEMFLUSH_TYPE, 0)));
	EXPECT_EQ(ENOTTY, errno);

	close(fd);
	EXPECT_EQ(0, kmod_module_get_refcnt(self->mod));
	ASSERT_EQ(0, kmod_module_remove_module(self->mod, 0));
	EXPECT_FALSE(pmf_module_live(self->mod));
	EXPECT_FALSE(pmf_dev_exists());

	ASSERT_EQ(0, kmod_module_insert_module(self->mod, 0, NULL));
	EXPECT_TRUE(pmf_module_live(self->mod));
	EXPECT_TRUE(pmf_dev_exists());
}

TEST_F(module, load_unload_cycles)
{
	int i, fd;

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, kmod_module_remove_module(self->mod, 0));
		ASSERT_FALSE(pmf_dev_exists());
		ASSERT_EQ(0, kmod_module_insert_module(self->mod, 0, NULL));
		ASSERT_TRUE(pmf_dev_exists());
		fd = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		close(fd);
	}
}

TEST_HARNESS_MAIN
