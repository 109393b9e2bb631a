// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Deep flush through io_uring, the library's half: what
 * pmemflush_deep_flush_prepare() does now and what it leaves in the command,
 * how a CQE's result is read (and the ioctl fallback it reports), and the
 * SQE that <libpmemflush/uring.h> builds. The fake kernel of pmf_test.h
 * stands behind the kops table; the kernel's half is selftests'
 * pmemflush_uring_test and libpmemflush_vm.
 */
#include <libpmemflush/uring.h>

#include "pmf_test.h"

#define PG 4096

static void cmd_flush(const struct pmemflush_flush_cmd *cmd,
		      struct pmemflush_flush *f)
{
	memcpy(f, cmd->area, sizeof(*f));
}

/* a region with a device flush: the CPU part now, the FLUSH by id left */
TEST(prepare_leaves_flush_by_id)
{
	struct pmemflush_flush_cmd cmd;
	struct pmemflush_flush f;
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG);
	size_t i;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	/* the map starts a page into the file */
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, PG, 3 * PG,
				  &map));
	ASSERT_EQ(1, fake.regs);
	a = pmem2_map_get_address(map);
	memset(&cmd, 0xa5, sizeof(cmd));
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a + PG + 8, 100, &cmd));
	/* written back and fenced, and nothing sent to the kernel */
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ((uintptr_t)a + PG + 8, fake.cpu_flush_addr);
	ASSERT_EQ(100, fake.cpu_flush_len);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, fake.msyncs);
	/* the slot REGISTER went to, its id, the offset in the file */
	ASSERT_EQ(fake.reg_dev, cmd.dev_fd);
	ASSERT_EQ(0, cmd.reserved);
	cmd_flush(&cmd, &f);
	ASSERT_EQ(sizeof(f), f.size);
	ASSERT_EQ(PMEMFLUSH_BY_ID, f.flags);
	ASSERT_EQ(fake.reg.id, f.id);
	ASSERT_EQ(0, f.__reserved);
	ASSERT_EQ(PG + PG + 8, f.offset);
	ASSERT_EQ(100, f.length);
	ASSERT_EQ(0, f.region_id);
	ASSERT_EQ(0, f.out_flags);
	ASSERT_EQ(0, f.flush_seq);
	for (i = sizeof(f); i < sizeof(cmd.area); i++)
		ASSERT_EQ(0, ((unsigned char *)cmd.area)[i]);

	/* the ioctl runs exactly that flush: the one pmem2_deep_flush() runs */
	ASSERT_EQ(0, pmemflush_flush_cmd_run(&cmd));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(cmd.dev_fd, fake.flush_dev);
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
	ASSERT_EQ((int)fake.reg.id, fake.flush_target);
	ASSERT_EQ(PG + PG + 8, fake.flush_offset);
	ASSERT_EQ(100, fake.flush_length);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + PG + 8, 100));
	ASSERT_EQ(2, fake.flushes);
	ASSERT_EQ(PG + PG + 8, fake.flush_offset);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/* a CQE's res is read as the ioctl's errno would be */
TEST(result_maps_the_kernel_table)
{
	static const struct {
		int res, ret;
	} table[] = {
		{ 0, 0 },
		{ -ENXIO, PMEM2_E_DAX_REGION_NOT_FOUND },
		{ -ENODEV, PMEM2_E_DAX_REGION_NOT_FOUND },
		{ -ERANGE, PMEM2_E_DEEP_FLUSH_RANGE },
		{ -EOVERFLOW, PMEM2_E_DEEP_FLUSH_RANGE },
		{ -EIO, -EIO },
		{ -ECANCELED, -ECANCELED },
		{ -EINTR, -EINTR },
		{ -EBADF, -EBADF },
		{ 5, -EPROTO },
	};
	struct pmemflush_flush_cmd cmd;
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	size_t i;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a, 64, &cmd));
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		EXPECT_EQ(table[i].ret, pmemflush_flush_cmd_result(&cmd, table[i].res))
			TH_LOG("res %d", table[i].res);
		if (table[i].res)
			EXPECT_NE(0, pmem2_errormsg()[0]);
	}
	/* none of these ran anything */
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * What io_uring could not run goes through the ioctl, and says so: 1 and a
 * message; the ioctl's own failure is the result then.
 */
TEST(refused_command_falls_back_reported)
{
	static const int refused[] = { -EOPNOTSUPP, -EMSGSIZE, -ENOTTY };
	struct pmemflush_flush_cmd cmd;
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	size_t i;
	char *a;

	fake_module(PMEMFLUSH_TARGET_DEVDAX, PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,
		    PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a + 64, 64, &cmd));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		fake.flush_ret = 0;
		ASSERT_EQ(1, pmemflush_flush_cmd_result(&cmd, refused[i]));
		ASSERT_EQ(i + 1, (size_t)fake.flushes);
		ASSERT_EQ((int)fake.reg.id, fake.flush_target);
		ASSERT_EQ(64, fake.flush_offset);
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "through the ioctl"));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), strerror(-refused[i])));
	}
	fake.flush_ret = -ENXIO;
	ASSERT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND,
		  pmemflush_flush_cmd_result(&cmd, -EOPNOTSUPP));
	ASSERT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND, pmemflush_flush_cmd_run(&cmd));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/* a barrier-only region, msync, a bad range: nothing left to submit */
TEST(nothing_to_submit)
{
	struct pmemflush_flush_cmd cmd;
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG);
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	fake.q.has_flush = 0;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a + 10, 20, &cmd));
	ASSERT_EQ(-1, cmd.dev_fd);
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmemflush_flush_cmd_run(&cmd));
	ASSERT_EQ(0, pmemflush_flush_cmd_result(&cmd, 0));
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_result(&cmd, -EIO));
	ASSERT_EQ(0, fake.flushes);

	/* out of the map: the range error, and no write-back */
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE,
		  pmemflush_deep_flush_prepare(map, a + 4 * PG - 8, 16, &cmd));
	ASSERT_EQ(-1, cmd.dev_fd);
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ(-EINVAL, pmemflush_deep_flush_prepare(map, a, 8, NULL));
	ASSERT_EQ(-EINVAL, pmemflush_deep_flush_prepare(NULL, a, 8, &cmd));
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_run(NULL));
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_result(NULL, 0));
	ASSERT_EQ(0, pmem2_map_delete(&map));

	/* a file without MAP_SYNC: msync now */
	memset(&fake, 0, sizeof(fake));
	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, 0);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a + PG, 100, &cmd));
	ASSERT_EQ(-1, cmd.dev_fd);
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ((uintptr_t)a + PG, fake.msync_addr);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/* a command not from prepare, or one of another shape, is refused */
TEST(foreign_command_refused)
{
	struct pmemflush_flush_cmd cmd;
	struct pmemflush_flush f;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_fd = 3;
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_run(&cmd));
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	memcpy(cmd.area, &f, sizeof(f));	/* by fd */
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_run(&cmd));
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_result(&cmd, -EOPNOTSUPP));
	cmd.dev_fd = -2;
	ASSERT_EQ(-EINVAL, pmemflush_flush_cmd_run(&cmd));
	ASSERT_EQ(0, fake.flushes);
}

/* in a forked child the command names the child's own file and id */
TEST(prepare_in_child_registers_again)
{
	struct pmemflush_flush_cmd cmd;
	struct pmemflush_flush f;
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	uint32_t parent_id;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a, 8, &cmd));
	parent_id = fake.reg.id;

	pmf_test_atfork_child();
	ASSERT_EQ(0, pmemflush_deep_flush_prepare(map, a + 64, 8, &cmd));
	ASSERT_EQ(2, fake.regs);
	ASSERT_NE(parent_id, fake.reg.id);
	ASSERT_EQ(fake.reg_dev, cmd.dev_fd);
	cmd_flush(&cmd, &f);
	ASSERT_EQ(fake.reg.id, f.id);
	ASSERT_EQ(64, f.offset);
	/* the parent's slot was closed in the child: a new one was opened */
	ASSERT_EQ(1, fake.dev_closes);
	ASSERT_EQ(2, fake.dev_opens);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/* the SQEs uring.h builds: URING_CMD, the fd, the op, the whole area */
TEST(prep_fills_sqe128)
{
	unsigned char buf[128] __attribute__((aligned(8)));
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)buf;
	struct pmemflush_flush_cmd cmd;
	struct pmemflush_flush f;
	size_t i;

	memset(buf, 0xa5, sizeof(buf));
	pmemflush_prep_flush(sqe, 9, 42, 4096, 512);
	ASSERT_EQ(IORING_OP_URING_CMD, sqe->opcode);
	ASSERT_EQ(9, sqe->fd);
	ASSERT_EQ(0, sqe->flags);
	ASSERT_EQ(PMEMFLUSH_URING_CMD_FLUSH, sqe->cmd_op);
	ASSERT_EQ(48, (size_t)((unsigned char *)sqe->cmd - buf));
	memcpy(&f, sqe->cmd, sizeof(f));
	ASSERT_EQ(sizeof(f), f.size);
	ASSERT_EQ(PMEMFLUSH_BY_ID, f.flags);
	ASSERT_EQ(42, f.id);
	ASSERT_EQ(4096, f.offset);
	ASSERT_EQ(512, f.length);
	for (i = 48 + sizeof(f); i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]);

	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_fd = 7;
	for (i = 0; i < sizeof(cmd.area); i++)
		((unsigned char *)cmd.area)[i] = (unsigned char)i;
	memset(buf, 0xa5, sizeof(buf));
	pmemflush_prep_flush_cmd(sqe, &cmd);
	ASSERT_EQ(IORING_OP_URING_CMD, sqe->opcode);
	ASSERT_EQ(7, sqe->fd);
	ASSERT_EQ(PMEMFLUSH_URING_CMD_FLUSH, sqe->cmd_op);
	ASSERT_EQ(0, memcmp(sqe->cmd, cmd.area, PMEMFLUSH_CMD_AREA));
	ASSERT_EQ(128, 48 + PMEMFLUSH_CMD_AREA);
}

TEST_HARNESS_MAIN
