// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Maps registered by address and flushed by id: which deep flush a map gets
 * from what QUERY says, the /dev/pmemflush slot table (ENOSPC, a failed
 * open, fork), the registry of maps behind PAGE persist, and the native
 * handles. The fake kernel of pmf_test.h stands behind the kops table.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "pmf_test.h"

#define PG 4096

/* mappings of the file behind @fd, from /proc/self/maps */
static int maps_of_file(int fd)
{
	unsigned int maj, min;
	unsigned long ino;
	char line[4096];
	struct stat st;
	int n = 0;
	FILE *f;

	if (fstat(fd, &st))
		return -1;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %x:%x %lu", &maj, &min, &ino) == 3 &&
		    ino == st.st_ino && maj == major(st.st_dev) &&
		    min == minor(st.st_dev))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * A forked child that hangs must die: the harness's SIGALRM handler, which
 * it inherited, would kill the test's process group instead.
 */
static void child_alarm(unsigned int seconds)
{
	signal(SIGALRM, SIG_DFL);
	alarm(seconds);
}

/*
 * BYTE (eADR): the deep flush writes back the CPU caches of exactly the
 * range, on a region with a device flush (then FLUSH by id) and on one whose
 * flush is only a barrier (nothing else).
 */
TEST(byte_deep_flush_writes_back_range)
{
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG), has_flush;
	char *a;

	for (has_flush = 1; has_flush >= 0; has_flush--) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
			    PMEMFLUSH_PERSIST_CPU_CACHE, PMEMFLUSH_DAX_SYNC);
		fake.q.has_flush = has_flush;
		ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_BYTE, 0, 0,
					  &map));
		ASSERT_EQ(PMEM2_GRANULARITY_BYTE,
			  pmem2_map_get_store_granularity(map));
		a = pmem2_map_get_address(map);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + PG - 100, 300));
		ASSERT_EQ(1, fake.cpu_flushes) TH_LOG("has_flush %d", has_flush);
		ASSERT_EQ((uintptr_t)a + PG - 100, fake.cpu_flush_addr);
		ASSERT_EQ(300, fake.cpu_flush_len);
		ASSERT_EQ(has_flush, fake.regs);
		ASSERT_EQ(has_flush, fake.flushes);
		if (has_flush) {
			ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
			ASSERT_EQ((int)fake.reg.id, fake.flush_target);
			ASSERT_EQ(PG - 100, fake.flush_offset);
			ASSERT_EQ(300, fake.flush_length);
		}
		ASSERT_EQ(0, fake.msyncs);
		ASSERT_EQ(0, pmem2_map_delete(&map));
		ASSERT_EQ(has_flush, fake.unregs);
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * A synchronous region without flush hints (has_flush 0): the CPU's
 * write-back and SFENCE are the whole deep flush; nothing is registered and
 * no ioctl is made. The native fd flush still reaches the kernel.
 */
TEST(barriers_only_fsdax_no_ioctl)
{
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG);
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
		    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER, PMEMFLUSH_DAX_SYNC);
	fake.q.has_flush = 0;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.regs);
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 2 * PG + 1, 999));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, fake.msyncs);
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ((uintptr_t)a + 2 * PG + 1, fake.cpu_flush_addr);
	ASSERT_EQ(999, fake.cpu_flush_len);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);

	ASSERT_EQ(0, pmemflush_fd_deep_flush(fd, PG, 64, 0));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(0, fake.flush_flags);
	ASSERT_EQ(fd, fake.flush_target);
	ASSERT_EQ(PG, fake.flush_offset);
	ASSERT_EQ(64, fake.flush_length);
	close(fd);
	PMF_LEAK_CHECK();
}

/* has_flush 1, or -ENXIO (cannot tell): registered, flushed by id */
TEST(device_flush_registers)
{
	static const int has_flush[] = { 1, -ENXIO };
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	size_t i;
	char *a;

	for (i = 0; i < sizeof(has_flush) / sizeof(has_flush[0]); i++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
			    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,
			    PMEMFLUSH_DAX_SYNC);
		fake.q.has_flush = has_flush[i];
		ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_CACHE_LINE, 0,
					  0, &map));
		a = pmem2_map_get_address(map);
		ASSERT_EQ(1, fake.regs) TH_LOG("has_flush %d", has_flush[i]);
		ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
		ASSERT_EQ((uintptr_t)a, fake.reg.addr);
		ASSERT_EQ(2 * PG, fake.reg.length);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + 64, 64));
		ASSERT_EQ(1, fake.flushes);
		ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
		ASSERT_EQ((int)fake.reg.id, fake.flush_target);
		ASSERT_EQ(64, fake.flush_offset);
		ASSERT_EQ(1, fake.cpu_flushes);
		ASSERT_EQ(0, fake.msyncs);
		ASSERT_EQ(0, pmem2_map_delete(&map));
		ASSERT_EQ(1, fake.unregs);
		ASSERT_EQ(fake.reg.id, fake.unreg_id);
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * A file mapped without MAP_SYNC (MAP_SYNC refused, or QUERY without
 * DAX_SYNC) with a forced CACHE_LINE or BYTE: its metadata must be written
 * too, so the deep flush is msync, never the ioctl.
 */
TEST(forced_granularity_without_map_sync_msyncs)
{
	static const char *const force[] = { "CACHE_LINE", "BYTE" };
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG), f, sync_refused;
	char *a;

	for (f = 0; f < 2; f++) {
		for (sync_refused = 0; sync_refused < 2; sync_refused++) {
			memset(&fake, 0, sizeof(fake));
			fake_module(PMEMFLUSH_TARGET_FSDAX_FILE,
				    PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,
				    sync_refused ? PMEMFLUSH_DAX_SYNC : 0);
			fake.sync_ok = false;
			setenv("PMEM2_FORCE_GRANULARITY", force[f], 1);
			ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE,
						  0, 0, &map));
			ASSERT_EQ(sync_refused, fake.sync_tries);
			ASSERT_EQ(f ? PMEM2_GRANULARITY_BYTE :
				  PMEM2_GRANULARITY_CACHE_LINE,
				  pmem2_map_get_store_granularity(map))
				TH_LOG("%s, MAP_SYNC %s", force[f],
				       sync_refused ? "refused" : "not tried");
			a = pmem2_map_get_address(map);
			ASSERT_EQ(0, pmem2_deep_flush(map, a + PG + 10, 100));
			ASSERT_EQ(1, fake.msyncs);
			ASSERT_EQ((uintptr_t)a + PG, fake.msync_addr);
			ASSERT_EQ(110, fake.msync_len);
			ASSERT_EQ(0, fake.flushes);
			ASSERT_EQ(0, fake.regs);
			ASSERT_EQ(0, pmem2_map_delete(&map));
			ASSERT_EQ(0, fake.unregs);
		}
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/* a map registered and deleted in one generation drops its id */
TEST(same_generation_delete_unregisters)
{
	struct pmem2_map *m1, *m2;
	int fd = tmp_file(PG);
	uint32_t id1, id2;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &m1));
	id1 = fake.reg.id;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &m2));
	id2 = fake.reg.id;
	ASSERT_NE(id1, id2);
	ASSERT_EQ(2, fake.live_ids);
	ASSERT_EQ(0, pmem2_map_delete(&m1));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(id1, fake.unreg_id);
	ASSERT_EQ(fake.reg_dev, fake.unreg_dev);
	ASSERT_EQ(0, pmem2_deep_flush(m2, pmem2_map_get_address(m2), 1));
	ASSERT_EQ(0, pmem2_map_delete(&m2));
	ASSERT_EQ(2, fake.unregs);
	ASSERT_EQ(id2, fake.unreg_id);
	ASSERT_EQ(0, fake.live_ids);
	ASSERT_EQ(2, fake.regs);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * After fork() (simulated): the first deep flush registers the map again by
 * its address on a /dev/pmemflush of the child's own and flushes by the new
 * id; deleting the map drops only that id, never the parent's.
 */
TEST(fork_child_reregisters)
{
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	uint32_t parent_id, child_id;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, PG, 0, &map));
	a = pmem2_map_get_address(map);
	parent_id = fake.reg.id;
	ASSERT_EQ(1, fake.dev_opens);
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 8));
	ASSERT_EQ(parent_id, fake.flush_target);

	pmf_test_atfork_child();
	ASSERT_EQ(1, fake.dev_closes);
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 128, 64));
	ASSERT_EQ(2, fake.dev_opens);
	ASSERT_EQ(2, fake.regs);
	child_id = fake.reg.id;
	ASSERT_NE(parent_id, child_id);
	ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
	ASSERT_EQ((uintptr_t)a, fake.reg.addr);
	ASSERT_EQ(PG, fake.reg.length);
	ASSERT_EQ(2, fake.flushes);
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
	ASSERT_EQ((int)child_id, fake.flush_target);
	ASSERT_EQ(fake.reg_dev, fake.flush_dev);
	ASSERT_EQ(PG + 128, fake.flush_offset);
	ASSERT_EQ(0, fake.unregs);
	/* registered once per generation */
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 1));
	ASSERT_EQ(2, fake.regs);
	ASSERT_EQ((int)child_id, fake.flush_target);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(child_id, fake.unreg_id);
	close(fd);
	PMF_LEAK_CHECK();
}

/* a map of the parent deleted in the child: the parent's id is left */
TEST(fork_child_delete_keeps_parent_id)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(1, fake.regs);
	pmf_test_atfork_child();
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(1, fake.dev_opens);
	close(fd);
	PMF_LEAK_CHECK();
}

/* what a real forked child checks; its exit status says which step failed */
static int fork_child_steps(struct pmem2_map *map, uint32_t parent_id)
{
	char *a = pmem2_map_get_address(map);

	/* the atfork handler closed the inherited /dev/pmemflush */
	if (fake.dev_closes != 1)
		return 10;
	if (pmem2_deep_flush(map, a + 64, 64))
		return 11;
	if (fake.dev_opens != 2 || fake.regs != 2)
		return 12;
	if (fake.reg.flags != PMEMFLUSH_BY_ADDR ||
	    fake.reg.addr != (uintptr_t)a || fake.reg.id == parent_id)
		return 13;
	if (fake.flush_target != (int)fake.reg.id ||
	    fake.flush_dev != fake.reg_dev ||
	    fake.flush_flags != PMEMFLUSH_BY_ID || fake.flush_offset != 64)
		return 14;
	if (fake.unregs)
		return 15;
	if (pmem2_map_delete(&map))
		return 16;
	if (fake.unregs != 1 || fake.unreg_id != fake.reg.id)
		return 17;
	return 0;
}

TEST(real_fork_child_reregisters)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG), status;
	uint32_t parent_id;
	pid_t pid;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	a = pmem2_map_get_address(map);
	parent_id = fake.reg.id;
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		child_alarm(10);
		_exit(fork_child_steps(map, parent_id));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("child killed by signal %d", WTERMSIG(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* the parent still flushes by its own id and drops it */
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 1));
	ASSERT_EQ(2, fake.flushes);
	ASSERT_EQ((int)parent_id, fake.flush_target);
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(1, fake.dev_opens);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(parent_id, fake.unreg_id);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * fork() while another thread is inside a PAGE persist (in a slow msync):
 * the child, with one thread, must be able to persist, make and delete maps.
 */
static atomic_int slow_inside, slow_stop;

static int slow_msync(void *addr, size_t len, int flags)
{
	atomic_store(&slow_inside, 1);
	usleep(100 * 1000);
	return fake_msync(addr, len, flags);
}

/* the fake kernel with a slow msync */
static struct pmf_kops slow_kops;

static void *persist_loop(void *arg)
{
	struct pmem2_map *map = arg;

	while (!atomic_load(&slow_stop))
		pmem2_get_persist_fn(map)(pmem2_map_get_address(map), 1);
	return NULL;
}

static int fork_persist_child(struct pmem2_map *map, int fd)
{
	struct pmem2_map *other;

	pmem2_get_persist_fn(map)(pmem2_map_get_address(map), 1);
	if (pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &other))
		return 1;
	pmem2_get_flush_fn(other)(pmem2_map_get_address(other), 1);
	if (pmem2_map_delete(&other))
		return 2;
	if (pmem2_map_delete(&map))
		return 3;
	return 0;
}

TEST(fork_during_page_persist)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG), status, round, i;
	pthread_t th;
	pid_t pid;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	slow_kops = fake_kops;
	slow_kops.msync = slow_msync;
	pmf_test_set_kops(&slow_kops);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, pthread_create(&th, NULL, persist_loop, map));
	for (round = 0; round < 3; round++) {
		atomic_store(&slow_inside, 0);
		for (i = 0; i < 5000 && !atomic_load(&slow_inside); i++)
			usleep(1000);
		ASSERT_TRUE(atomic_load(&slow_inside));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			child_alarm(10);
			_exit(fork_persist_child(map, fd));
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status))
			TH_LOG("round %d: child killed by signal %d", round,
			       WTERMSIG(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	atomic_store(&slow_stop, 1);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_LT(0, fake.msyncs);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * A full /dev/pmemflush (ENOSPC): the map registers on the next slot's file,
 * and is flushed and dropped there. Every slot full: as without the module.
 */
TEST(enospc_next_slot)
{
	struct pmem2_map *map, *second;
	int fd = tmp_file(PG), first_dev;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.reg_enospc = 1;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	first_dev = fake.query_dev;
	ASSERT_EQ(2, fake.dev_opens);
	ASSERT_EQ(2, fake.regs);
	ASSERT_NE(first_dev, fake.reg_dev);
	a = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmem2_deep_flush(map, a, 64));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(fake.reg_dev, fake.flush_dev);
	ASSERT_EQ((int)fake.reg.id, fake.flush_target);
	/* slot 0 has room again: the next map goes there */
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &second));
	ASSERT_EQ(first_dev, fake.reg_dev);
	ASSERT_EQ(2, fake.dev_opens);
	ASSERT_EQ(0, pmem2_map_delete(&second));
	ASSERT_EQ(first_dev, fake.unreg_dev);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_NE(first_dev, fake.unreg_dev);
	ASSERT_EQ(2, fake.unregs);
	ASSERT_EQ(0, fake.live_ids);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(enospc_every_slot_msyncs)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.reg_enospc = PMF_DEV_SLOTS;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMF_DEV_SLOTS, fake.dev_opens);
	ASSERT_EQ(PMF_DEV_SLOTS, fake.regs);
	ASSERT_EQ(0, fake.live_ids);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * REGISTER refused on a synchronous fsdax file with a device flush (an
 * older module: ENOTTY, or any other errno but ENOMEM): msync persists it.
 */
TEST(register_failure_falls_back_to_msync)
{
	static const int errs[] = { ENOTTY, ENXIO, EFAULT, EACCES, EINVAL };
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	size_t i;
	char *a;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		memset(&fake, 0, sizeof(fake));
		fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
		fake.reg_ret = -errs[i];
		ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0,
					  &map)) TH_LOG("%s", strerror(errs[i]));
		ASSERT_EQ(1, fake.regs);
		ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
			  pmem2_map_get_store_granularity(map));
		a = pmem2_map_get_address(map);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + PG, 10));
		ASSERT_EQ(1, fake.msyncs);
		ASSERT_EQ((uintptr_t)a + PG, fake.msync_addr);
		ASSERT_EQ(0, fake.flushes);
		ASSERT_EQ(0, pmem2_map_delete(&map));
		ASSERT_EQ(0, fake.unregs);
	}
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * REGISTER failing with ENOMEM fails the map, unmapped, with -ENOMEM, and
 * the message of the failure is still there after pmem2_map_new returns.
 */
TEST(register_enomem_fails_map)
{
	struct pmem2_map *map = (void *)1;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	/* the helper sees a live map */
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(1, maps_of_file(fd));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, maps_of_file(fd));

	fake.reg_ret = -ENOMEM;
	map = (void *)1;
	ASSERT_EQ(-ENOMEM, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0,
					&map));
	ASSERT_EQ(NULL, map);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_REGISTER"));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), strerror(ENOMEM)));
	ASSERT_EQ(0, maps_of_file(fd));
	ASSERT_EQ(2, fake.regs);
	ASSERT_EQ(1, fake.unregs);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * /dev/pmemflush failing to open is not remembered: a map made then has no
 * module (msync), and the next map, once the module is there, registers.
 */
TEST(dev_open_failure_retried)
{
	struct pmem2_map *m1, *m2;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	pmf_test_set_sysfs("/nonexistent");
	fake.dev_err = -ENOENT;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &m1));
	ASSERT_EQ(0, fake.dev_opens);
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(m1, pmem2_map_get_address(m1), 1));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(-ENOENT, pmemflush_fd_deep_flush(fd, 0, 1, 0));

	fake.dev_err = 0;
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &m2));
	ASSERT_EQ(1, fake.dev_opens);
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(m2, pmem2_map_get_address(m2), 1));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
	ASSERT_EQ((int)fake.reg.id, fake.flush_target);
	/* the first map stays msync's */
	ASSERT_EQ(0, pmem2_deep_flush(m1, pmem2_map_get_address(m1), 1));
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&m1));
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(0, pmem2_map_delete(&m2));
	ASSERT_EQ(1, fake.unregs);
	close(fd);
	PMF_LEAK_CHECK();
}

/* the source's fd closed before pmem2_map_new(): libpmem2's error */
TEST(map_new_closed_fd)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map = (void *)1;
	int fd = tmp_file(PG);

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_PAGE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(NULL, map);
	ASSERT_EQ(0, fake.mmaps);
	ASSERT_EQ(0, fake.regs);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	PMF_LEAK_CHECK();
}

/*
 * PAGE persist and flush act on the part of the range inside each map, in
 * address order, and skip the rest: a range that runs past a map into other
 * memory, or touches no map at all, is not an error.
 */
struct part {
	uintptr_t addr;
	size_t len;
};

static size_t want_parts(uintptr_t start, uintptr_t end,
			 struct pmem2_map *const *maps, struct part *out)
{
	struct pmem2_map *m[2] = { maps[0], maps[1] };
	size_t i, n = 0;

	if (m[0]->addr > m[1]->addr) {
		m[0] = maps[1];
		m[1] = maps[0];
	}
	for (i = 0; i < 2; i++) {
		uintptr_t a = (uintptr_t)m[i]->addr, b = a + m[i]->size;

		if (a < start)
			a = start;
		if (b > end)
			b = end;
		if (a >= b)
			continue;
		out[n].addr = a & ~(uintptr_t)(PG - 1);
		out[n].len = b - out[n].addr;
		n++;
	}
	return n;
}

static bool inside_a_map(uintptr_t p, size_t len, struct pmem2_map *const *m)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (p >= (uintptr_t)m[i]->addr &&
		    p + len <= (uintptr_t)m[i]->addr + m[i]->size)
			return true;
	return false;
}

static void check_persist(struct __test_metadata *_metadata,
			  struct pmem2_map *const *m, pmem2_persist_fn fn,
			  uintptr_t start, size_t size)
{
	struct part want[2];
	uintptr_t end;
	size_t n, i;

	if (__builtin_add_overflow(start, size, &end))
		end = UINTPTR_MAX;
	n = want_parts(start, end, m, want);
	fake.msyncs = 0;
	fn((const void *)start, size);
	ASSERT_EQ(n, (size_t)fake.msyncs)
		TH_LOG("range 0x%lx+%zu", (unsigned long)start, size);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(want[i].addr, fake.msync_log[i].addr);
		ASSERT_EQ(want[i].len, fake.msync_log[i].len);
		ASSERT_TRUE(inside_a_map(fake.msync_log[i].addr,
					 fake.msync_log[i].len, m));
	}
}

TEST(page_persist_clips_to_maps)
{
	struct pmem2_map *m[2];
	int fd = tmp_file(4 * PG);
	uintptr_t a, b, lo, hi;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, 0);
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 0, &m[0]));
	ASSERT_EQ(0, pmf_test_map(fd, PMEM2_GRANULARITY_PAGE, 0, 2 * PG,
				  &m[1]));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(m[0]));
	a = (uintptr_t)pmem2_map_get_address(m[0]);
	b = (uintptr_t)pmem2_map_get_address(m[1]);
	lo = a < b ? a : b;
	hi = a < b ? b + 2 * PG : a + 4 * PG;

	/* part of A, then far past its end */
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), a + PG + 10,
		      3 * PG - 10 + 64 * PG);
	ASSERT_LE(1, fake.msyncs);
	/* from far below A into its first page */
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), a - 64 * PG,
		      64 * PG + 100);
	ASSERT_LE(1, fake.msyncs);
	ASSERT_EQ(a, fake.msync_log[fake.msyncs - 1].addr);
	/* both maps and the memory around them: each map whole */
	check_persist(_metadata, m, pmem2_get_flush_fn(m[1]), lo - 16 * PG,
		      hi - lo + 32 * PG);
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ(lo, fake.msync_log[0].addr);
	ASSERT_EQ(hi - fake.msync_log[1].addr, fake.msync_log[1].len);
	/* ending where the lower map begins, or starting at the top's end */
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), lo - 4 * PG,
		      4 * PG);
	ASSERT_EQ(0, fake.msyncs);
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), hi, 4 * PG);
	ASSERT_EQ(0, fake.msyncs);
	/* no map: the stack, NULL, the top of the address space */
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]),
		      (uintptr_t)&a, sizeof(a));
	ASSERT_EQ(0, fake.msyncs);
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), 0, PG);
	ASSERT_EQ(0, fake.msyncs);
	check_persist(_metadata, m, pmem2_get_persist_fn(m[1]),
		      UINTPTR_MAX - PG, 4 * PG);
	ASSERT_EQ(0, fake.msyncs);
	/* an empty range inside a map */
	check_persist(_metadata, m, pmem2_get_persist_fn(m[0]), a + 10, 0);
	ASSERT_EQ(0, fake.msyncs);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&m[0]));
	/* a deleted map is no longer persisted */
	fake.msyncs = 0;
	pmem2_get_persist_fn(m[1])((void *)a, 4 * PG);
	ASSERT_EQ(0, fake.msyncs);
	pmem2_get_persist_fn(m[1])((void *)b, PG);
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, pmem2_map_delete(&m[1]));
	close(fd);
	PMF_LEAK_CHECK();
}

/* native handles: argument errors, before any ioctl */
TEST(handle_arg_errors)
{
	struct pmemflush_handle *h = (void *)1, *none = NULL;
	int fd = tmp_file(PG), closed;
	uint64_t off;
	void *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(-EINVAL, pmemflush_register_fd(NULL, fd, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "handle"));
	ASSERT_EQ(-EINVAL, pmemflush_register_fd(&h, fd, 1));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "flags"));
	ASSERT_EQ(NULL, h);
	h = (void *)1;
	ASSERT_EQ(-EBADF, pmemflush_register_fd(&h, -1, 0));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(-EBADF, pmemflush_register_fd(NULL, -3, 0));
	/* a closed fd well above the one /dev/pmemflush will get */
	closed = dup2(fd, 900);
	ASSERT_EQ(900, closed);
	close(closed);
	h = (void *)1;
	ASSERT_EQ(-EBADF, pmemflush_register_fd(&h, closed, 0));
	ASSERT_EQ(NULL, h);
	h = (void *)1;
	ASSERT_EQ(-EINVAL, pmemflush_register_range(&h, NULL, PG, &off, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "empty range"));
	ASSERT_EQ(NULL, h);
	h = (void *)1;
	ASSERT_EQ(-EINVAL, pmemflush_register_range(&h, a, 0, &off, 0));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(-EINVAL, pmemflush_register_range(NULL, a, PG, &off, 0));
	ASSERT_EQ(-EINVAL, pmemflush_register_range(&h, a, PG, &off, 2));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(0, fake.regs);

	ASSERT_EQ(0, pmemflush_register_fd(&h, fd, 0));
	ASSERT_EQ(-EINVAL, pmemflush_handle_deep_flush(h, 0, 1, 1));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "flags"));
	ASSERT_EQ(-EINVAL, pmemflush_handle_query(h, NULL));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmemflush_unregister(NULL));
	ASSERT_EQ(0, pmemflush_unregister(&none));
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(1, fake.unregs);
	munmap(a, PG);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(handle_no_module)
{
	struct pmemflush_handle *h = (void *)1;
	int fd = tmp_file(PG);
	char buf[64];

	fake_no_module();
	ASSERT_EQ(-ENOENT, pmemflush_register_fd(&h, fd, 0));
	ASSERT_EQ(NULL, h);
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "/dev/pmemflush"));
	h = (void *)1;
	ASSERT_EQ(-ENOENT, pmemflush_register_range(&h, buf, sizeof(buf),
						     NULL, 0));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(0, fake.regs);
	close(fd);
	PMF_LEAK_CHECK();
}

/* every kernel errno of REGISTER comes back through the table */
TEST(handle_register_errnos)
{
	const struct pmf_errno_case *t = pmf_kernel_errnos;
	struct pmemflush_handle *h;
	int fd = tmp_file(PG);
	uint64_t off;
	size_t i;
	void *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	a = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	for (i = 0; i < PMF_NR_KERNEL_ERRNOS; i++) {
		fake.reg_ret = -t[i].err;
		h = (void *)1;
		ASSERT_EQ(t[i].want, pmemflush_register_fd(&h, fd, 0))
			TH_LOG("%s", strerror(t[i].err));
		ASSERT_EQ(NULL, h);
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_REGISTER"));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), strerror(t[i].err)));
		h = (void *)1;
		ASSERT_EQ(t[i].want,
			  pmemflush_register_range(&h, a, PG, &off, 0));
		ASSERT_EQ(NULL, h);
	}
	ASSERT_EQ(0, fake.live_ids);
	/* no id left on any slot */
	fake.reg_ret = 0;
	fake.reg_enospc = PMF_DEV_SLOTS;
	ASSERT_EQ(-ENOSPC, pmemflush_register_fd(&h, fd, 0));
	ASSERT_EQ(NULL, h);
	ASSERT_EQ(PMF_DEV_SLOTS, fake.dev_opens);
	munmap(a, PG);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * A handle's flush goes by its id on the file it was registered on, with the
 * offset and length given, always (has_flush 0 too); query by id; *offset
 * is what REGISTER answered; unregister drops the id once.
 */
TEST(handle_flush_by_id)
{
	const struct pmf_errno_case *t = pmf_kernel_errnos;
	struct pmemflush_handle *hf, *hr, *hn;
	struct pmemflush_info info;
	int fd = tmp_file(4 * PG);
	uint32_t fd_id, range_id;
	uint64_t off = 0;
	size_t i;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	fake.q.has_flush = 0;
	fake.reg_offset = 3 * PG;
	a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);

	ASSERT_EQ(0, pmemflush_register_fd(&hf, fd, 0));
	fd_id = fake.reg.id;
	ASSERT_EQ(0, fake.reg.flags);
	ASSERT_EQ(fd, fake.reg.fd);
	ASSERT_EQ(0, pmemflush_handle_deep_flush(hf, 100, 200, 0));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
	ASSERT_EQ((int)fd_id, fake.flush_target);
	ASSERT_EQ(fake.reg_dev, fake.flush_dev);
	ASSERT_EQ(100, fake.flush_offset);
	ASSERT_EQ(200, fake.flush_length);
	ASSERT_EQ(0, fake.cpu_flushes);

	ASSERT_EQ(0, pmemflush_register_range(&hr, a + PG, PG, &off, 0));
	range_id = fake.reg.id;
	ASSERT_NE(fd_id, range_id);
	ASSERT_EQ(3 * PG, off);
	ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
	ASSERT_EQ((uintptr_t)a + PG, fake.reg.addr);
	ASSERT_EQ(PG, fake.reg.length);
	ASSERT_EQ(0, pmemflush_handle_deep_flush(hr, off + 8, 16, 0));
	ASSERT_EQ(2, fake.flushes);
	ASSERT_EQ((int)range_id, fake.flush_target);
	ASSERT_EQ(3 * PG + 8, fake.flush_offset);
	ASSERT_EQ(16, fake.flush_length);
	/* an empty range is the kernel's to judge */
	ASSERT_EQ(0, pmemflush_handle_deep_flush(hr, off + PG, 0, 0));
	ASSERT_EQ(3, fake.flushes);
	ASSERT_EQ(4 * PG, fake.flush_offset);
	ASSERT_EQ(0, fake.flush_length);
	/* *offset is optional */
	ASSERT_EQ(0, pmemflush_register_range(&hn, a, PG, NULL, 0));
	ASSERT_EQ(0, pmemflush_unregister(&hn));

	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, pmemflush_handle_query(hr, &info));
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.query_flags);
	ASSERT_EQ((int)range_id, fake.query_target);
	ASSERT_EQ(7, info.region_id);
	ASSERT_EQ(0, info.has_flush);
	ASSERT_EQ(PMEMFLUSH_INFO_FSDAX_FILE, info.target_kind);
	ASSERT_EQ(PMEMFLUSH_INFO_DAX_SYNC, info.flags);

	for (i = 0; i < PMF_NR_KERNEL_ERRNOS; i++) {
		fake.flush_ret = -t[i].err;
		ASSERT_EQ(t[i].want, pmemflush_handle_deep_flush(hf, 0, 1, 0));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_FLUSH"));
		fake.query_ret = -t[i].err;
		ASSERT_EQ(t[i].want, pmemflush_handle_query(hf, &info));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_QUERY"));
	}

	fake.unregs = 0;
	ASSERT_EQ(0, pmemflush_unregister(&hf));
	ASSERT_EQ(NULL, hf);
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(fd_id, fake.unreg_id);
	ASSERT_EQ(fake.reg_dev, fake.unreg_dev);
	ASSERT_EQ(0, pmemflush_unregister(&hf));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(0, pmemflush_unregister(&hr));
	ASSERT_EQ(2, fake.unregs);
	ASSERT_EQ(range_id, fake.unreg_id);
	ASSERT_EQ(0, fake.live_ids);
	munmap(a, 2 * PG);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * After fork(): a range handle registers again by its address on the
 * child's own /dev/pmemflush; the parent's id is neither used nor dropped.
 */
TEST(handle_range_after_fork)
{
	struct pmemflush_handle *h;
	struct pmemflush_info info;
	int fd = tmp_file(2 * PG);
	uint32_t parent_id, child_id;
	uint64_t off;
	char *a;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_EQ(0, pmemflush_register_range(&h, a, 2 * PG, &off, 0));
	parent_id = fake.reg.id;
	ASSERT_EQ(1, fake.dev_opens);

	pmf_test_atfork_child();
	ASSERT_EQ(0, pmemflush_handle_deep_flush(h, 0, 64, 0));
	ASSERT_EQ(2, fake.dev_opens);
	ASSERT_EQ(2, fake.regs);
	child_id = fake.reg.id;
	ASSERT_NE(parent_id, child_id);
	ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
	ASSERT_EQ((uintptr_t)a, fake.reg.addr);
	ASSERT_EQ(2 * PG, fake.reg.length);
	ASSERT_EQ((int)child_id, fake.flush_target);
	ASSERT_EQ(fake.reg_dev, fake.flush_dev);
	ASSERT_EQ(0, pmemflush_handle_query(h, &info));
	ASSERT_EQ((int)child_id, fake.query_target);
	ASSERT_EQ(2, fake.regs);
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_EQ(child_id, fake.unreg_id);

	/* a handle registered but not used in the child: nothing dropped */
	ASSERT_EQ(0, pmemflush_register_range(&h, a, PG, &off, 0));
	pmf_test_atfork_child();
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(1, fake.unregs);
	munmap(a, 2 * PG);
	close(fd);
	PMF_LEAK_CHECK();
}

/*
 * After fork(): an fd handle registers again by its fd only while that fd
 * still names the same file.
 */
TEST(handle_fd_after_fork)
{
	struct pmemflush_handle *h;
	struct pmemflush_info info;
	int fd = tmp_file(PG), other = tmp_file(PG);
	uint32_t parent_id;

	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmemflush_register_fd(&h, fd, 0));
	pmf_test_atfork_child();
	ASSERT_EQ(0, pmemflush_handle_deep_flush(h, 0, 1, 0));
	ASSERT_EQ(2, fake.regs);
	ASSERT_EQ(0, fake.reg.flags);
	ASSERT_EQ(fd, fake.reg.fd);
	ASSERT_EQ((int)fake.reg.id, fake.flush_target);
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(1, fake.unregs);

	/* the fd now names another file */
	ASSERT_EQ(0, pmemflush_register_fd(&h, fd, 0));
	parent_id = fake.reg.id;
	pmf_test_atfork_child();
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(fd, dup2(other, fd));
	ASSERT_EQ(-EBADF, pmemflush_handle_deep_flush(h, 0, 1, 0));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_REGISTER"));
	ASSERT_EQ(-EBADF, pmemflush_handle_query(h, &info));
	ASSERT_EQ(3, fake.regs);
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(1, fake.unregs);
	ASSERT_NE(parent_id, fake.unreg_id);

	/* ...or nothing */
	ASSERT_EQ(0, pmemflush_register_fd(&h, fd, 0));
	pmf_test_atfork_child();
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-EBADF, pmemflush_handle_deep_flush(h, 0, 1, 0));
	ASSERT_EQ(4, fake.regs);
	ASSERT_EQ(0, pmemflush_unregister(&h));
	ASSERT_EQ(1, fake.unregs);
	close(other);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
