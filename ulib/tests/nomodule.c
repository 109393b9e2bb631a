// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Without the module: device-dax found through a fake sysfs tree (/dev/null
 * stands in for /dev/dax2.0, anonymous memory for its mapping), the region's
 * deep_flush file and every way it can fail; fsdax through msync.
 */
#include <sys/wait.h>

#include "pmf_test.h"

/* the tree lives under a short mkdtemp() path */
#pragma GCC diagnostic ignored "-Wformat-truncation"

FIXTURE(sysfs) {
	char root[64];
	char region[PATH_MAX];
	char deep[PATH_MAX];
	char dax[PATH_MAX];
	int fd;		/* /dev/null as device-dax */
};

static void attr(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, val, 0644);
}

FIXTURE_SETUP(sysfs)
{
	char link[PATH_MAX], target[PATH_MAX];
	struct stat st;

	strcpy(self->root, "/tmp/pmf-sysfs-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	chmod(self->root, 0755);
	self->fd = open("/dev/null", O_RDWR);
	ASSERT_EQ(0, fstat(self->fd, &st));
	snprintf(self->region, sizeof(self->region), "%s/devices/ndbus0/region2",
		 self->root);
	snprintf(self->dax, sizeof(self->dax), "%s/dax2.0/dax/dax2.0",
		 self->region);
	mkdirs("%s", self->dax);
	mkdirs("%s/bus/dax", self->root);
	mkdirs("%s/dev/char", self->root);
	mkdirs("%s/bus/nd/devices", self->root);
	/* as in sysfs: the bus's entry links to the device's directory */
	snprintf(link, sizeof(link), "%s/bus/nd/devices/region2", self->root);
	ASSERT_EQ(0, symlink(self->region, link));
	snprintf(target, sizeof(target), "%s/bus/dax", self->root);
	snprintf(link, sizeof(link), "%s/subsystem", self->dax);
	ASSERT_EQ(0, symlink(target, link));
	snprintf(link, sizeof(link), "%s/dev/char/%u:%u", self->root,
		 major(st.st_rdev), minor(st.st_rdev));
	ASSERT_EQ(0, symlink(self->dax, link));
	attr(self->dax, "size", "8388608\n");
	attr(self->dax, "align", "2097152\n");
	attr(self->region, "persistence_domain", "memory_controller\n");
	snprintf(target, sizeof(target), "%s/devices/ndbus0", self->root);
	attr(target, "provider", "ACPI.NFIT\n");
	snprintf(self->deep, sizeof(self->deep),
		 "%s/bus/nd/devices/region2/deep_flush", self->root);
	write_file(self->deep, "1\n", 0644);
	pmf_test_set_sysfs(self->root);
	fake_no_module();
	fake.anon = true;
	fake.sync_ok = true;
}

FIXTURE_TEARDOWN(sysfs)
{
	close(self->fd);
	rm_tree(self->root);
}

/* mtime set to 0 before; a write moves it */
static void zero_mtime(const char *path)
{
	struct timespec ts[2] = { { 0, 0 }, { 0, 0 } };

	utimensat(AT_FDCWD, path, ts, 0);
}

static bool written(const char *path)
{
	struct stat st;

	return !stat(path, &st) && st.st_mtime != 0;
}

TEST_F(sysfs, devdax_source)
{
	struct pmem2_source *src;

	ASSERT_EQ(0, pmem2_source_from_fd(&src, self->fd));
	ASSERT_EQ(PMF_FTYPE_DEVDAX, src->ftype);
	ASSERT_EQ(8388608, src->size);
	ASSERT_EQ(2097152, src->align);
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

TEST_F(sysfs, devdax_source_errors)
{
	struct pmem2_source *src;
	char p[PATH_MAX];

	attr(self->dax, "size", "lots\n");
	ASSERT_EQ(PMEM2_E_INVALID_SIZE_FORMAT, pmem2_source_from_fd(&src, self->fd));
	attr(self->dax, "size", "8388608\n");
	attr(self->dax, "align", "x\n");
	ASSERT_EQ(PMEM2_E_INVALID_ALIGNMENT_FORMAT,
		  pmem2_source_from_fd(&src, self->fd));
	attr(self->dax, "align", "3000\n");
	ASSERT_EQ(PMEM2_E_INVALID_ALIGNMENT_VALUE,
		  pmem2_source_from_fd(&src, self->fd));
	attr(self->dax, "align", "0\n");
	ASSERT_EQ(PMEM2_E_INVALID_ALIGNMENT_VALUE,
		  pmem2_source_from_fd(&src, self->fd));
	/* no align of its own: the nd parent's */
	snprintf(p, sizeof(p), "%s/align", self->dax);
	unlink(p);
	ASSERT_EQ(-ENOENT, pmem2_source_from_fd(&src, self->fd));
	snprintf(p, sizeof(p), "%s/device", self->dax);
	mkdirs("%s", p);
	attr(p, "align", "4096\n");
	ASSERT_EQ(0, pmem2_source_from_fd(&src, self->fd));
	ASSERT_EQ(4096, src->align);
	pmem2_source_delete(&src);
	snprintf(p, sizeof(p), "%s/size", self->dax);
	unlink(p);
	ASSERT_EQ(-ENOENT, pmem2_source_from_fd(&src, self->fd));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "size"));
	/* subsystem not dax */
	snprintf(p, sizeof(p), "%s/subsystem", self->dax);
	unlink(p);
	ASSERT_EQ(0, symlink(self->region, p));
	ASSERT_EQ(PMEM2_E_INVALID_FILE_TYPE, pmem2_source_from_fd(&src, self->fd));
	PMF_LEAK_CHECK();
}

TEST_F(sysfs, devdax_map_alignment)
{
	struct pmem2_map *map;

	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 4096, 0, &map));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 4096, &map));
	ASSERT_EQ(PMEM2_E_MAP_RANGE,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 2097152, 8388608, &map));
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 2097152, 2097152, &map));
	ASSERT_EQ(2097152, pmem2_map_get_size(map));
	/* device-dax takes MAP_SYNC: CACHE_LINE on ADR */
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(1, fake.sync_tries);
	pmem2_map_delete(&map);
	PMF_LEAK_CHECK();
}

TEST_F(sysfs, devdax_deep_flush_writes_1)
{
	struct pmem2_map *map;
	char buf[8];

	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 100));
	ASSERT_TRUE(written(self->deep));
	read_file(self->deep, buf, sizeof(buf));
	ASSERT_EQ('1', buf[0]);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, fake.msyncs);
	pmem2_map_delete(&map);
	PMF_LEAK_CHECK();
}

/* "0": the platform needs no flush, nothing is written */
TEST_F(sysfs, devdax_deep_flush_reads_0)
{
	struct pmem2_map *map;

	write_file(self->deep, "0\n", 0444);
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_FALSE(written(self->deep));
	pmem2_map_delete(&map);
}

/* hidden (virtio-pmem): the open's -ENOENT, not a silent success */
TEST_F(sysfs, devdax_deep_flush_hidden)
{
	struct pmem2_map *map;

	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	unlink(self->deep);
	ASSERT_EQ(-ENOENT, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "open"));
	pmem2_map_delete(&map);
}

/* root-only (flush hints present), called by an ordinary user: -EACCES */
TEST_F(sysfs, devdax_deep_flush_not_root)
{
	struct pmem2_map *map;
	int status;
	pid_t pid;

	write_file(self->deep, "1\n", 0444);
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	/* a child drops root, so the teardown can still remove the tree */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (geteuid() == 0 && setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(pmem2_deep_flush(map, pmem2_map_get_address(map), 1) ==
		      -EACCES && strstr(pmem2_errormsg(), "Permission denied") ?
		      0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	pmem2_map_delete(&map);
}

/* write(2) failing: a directory opens for reading but not for writing */
TEST_F(sysfs, devdax_deep_flush_unwritable)
{
	struct pmem2_map *map;

	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	unlink(self->deep);
	write_file(self->deep, "", 0644);	/* empty: read gives 0 bytes */
	if (access("/dev/full", W_OK) == 0) {
		unlink(self->deep);
		ASSERT_EQ(0, symlink("/dev/full", self->deep));
		/* /dev/full reads zeros (not '0'), and write gives ENOSPC */
		ASSERT_EQ(-ENOSPC, pmem2_deep_flush(map,
				pmem2_map_get_address(map), 1));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "write"));
	}
	unlink(self->deep);
	mkdirs("%s", self->deep);
	ASSERT_EQ(-EISDIR, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	pmem2_map_delete(&map);
}

TEST_F(sysfs, devdax_no_region)
{
	struct pmem2_map *map;
	char link[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	/* a dax device outside any nd region (hmem, CXL) */
	ASSERT_EQ(0, fstat(self->fd, &st));
	snprintf(dir, sizeof(dir), "%s/devices/platform/hmem0/dax0.0", self->root);
	mkdirs("%s", dir);
	snprintf(link, sizeof(link), "%s/dev/char/%u:%u", self->root,
		 major(st.st_rdev), minor(st.st_rdev));
	unlink(link);
	ASSERT_EQ(0, symlink(dir, link));
	attr(dir, "size", "4194304\n");
	attr(dir, "align", "4096\n");
	snprintf(link, sizeof(link), "%s/subsystem", dir);
	snprintf(dir, sizeof(dir), "%s/bus/dax", self->root);
	ASSERT_EQ(0, symlink(dir, link));
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMEM2_E_DAX_REGION_NOT_FOUND,
		  pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	pmem2_map_delete(&map);
	PMF_LEAK_CHECK();
}

TEST_F(sysfs, devdax_eadr_is_byte)
{
	struct pmem2_map *map;

	attr(self->region, "persistence_domain", "cpu_cache\n");
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	pmem2_map_delete(&map);
}

/* with the module, the same device-dax goes through the ioctl */
TEST_F(sysfs, devdax_with_module_uses_ioctl)
{
	struct pmem2_map *map, *other;
	char bus[PATH_MAX];

	fake.dev_err = 0;
	fake.q.target_kind = PMEMFLUSH_TARGET_DEVDAX;
	fake.q.out_flags = PMEMFLUSH_DAX_SYNC | PMEMFLUSH_REGION_ASYNC;
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 2097152, 0, &map));
	/*
	 * virtio device-dax: a CPU flush reaches only the host's page cache,
	 * so PAGE, and flush and persist do the whole job: the CPU's
	 * write-back, then the device flush by the map's id
	 */
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map,
			(char *)pmem2_map_get_address(map) + 64, 64));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
	ASSERT_EQ(2097152 + 64, fake.flush_offset);
	ASSERT_EQ(1, fake.cpu_flushes);
	pmem2_get_persist_fn(map)((char *)pmem2_map_get_address(map) + 4096, 8);
	ASSERT_EQ(2, fake.flushes);
	ASSERT_EQ(2097152 + 4096, fake.flush_offset);
	ASSERT_EQ(8, fake.flush_length);
	ASSERT_EQ(2, fake.cpu_flushes);
	pmem2_get_flush_fn(map)((char *)pmem2_map_get_address(map) + 8192, 8);
	ASSERT_EQ(3, fake.flushes);
	pmem2_get_drain_fn(map)();
	ASSERT_EQ(3, fake.flushes);
	ASSERT_EQ(0, fake.msyncs);
	ASSERT_FALSE(written(self->deep));
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_CACHE_LINE, 0, 0,
			       &other));
	pmem2_map_delete(&map);
	/* without the module nothing could make it durable */
	snprintf(bus, sizeof(bus), "%s/devices/ndbus0", self->root);
	attr(bus, "provider", "virtio-pmem\n");
	pmf_test_atfork_child();
	fake.dev_err = -ENOENT;
	fake.mmaps = 0;
	ASSERT_EQ(PMEM2_E_NOSUPP,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "pmemflush module"));
	ASSERT_EQ(0, fake.mmaps);
}

/* fsdax file, no module: region from /sys/dev/block, msync deep flush */
static void fsdax_tree(struct __test_metadata *_metadata, const char *root,
		       const char *region, int fd)
{
	char link[PATH_MAX], dir[PATH_MAX];
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	snprintf(dir, sizeof(dir), "%s/pfn2.1/block/pmem2", region);
	mkdirs("%s", dir);
	mkdirs("%s/dev/block", root);
	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", root,
		 major(st.st_dev), minor(st.st_dev));
	ASSERT_EQ(0, symlink(dir, link));
}

TEST_F(sysfs, fsdax_granularity)
{
	struct pmem2_map *map;
	char bus[PATH_MAX];
	int fd = tmp_file(8192);

	fake.anon = false;
	fsdax_tree(_metadata, self->root, self->region, fd);
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 10));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_FALSE(fake.flushes);
	fake.msync_ret = EIO;
	ASSERT_EQ(-EIO, pmem2_deep_flush(map, pmem2_map_get_address(map), 10));
	fake.msync_ret = 0;
	pmem2_map_delete(&map);

	attr(self->region, "persistence_domain", "cpu_cache\n");
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmem2_map_get_store_granularity(map));
	pmem2_map_delete(&map);

	/* virtio-pmem: never MAP_SYNC, PAGE, even with cpu_cache */
	snprintf(bus, sizeof(bus), "%s/devices/ndbus0", self->root);
	attr(bus, "provider", "virtio-pmem\n");
	fake.sync_tries = 0;
	ASSERT_EQ(0, pmf_test_map(fd, 2, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.sync_tries);
	pmem2_map_delete(&map);
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
		  pmf_test_map(fd, 1, 0, 0, &map));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST_F(sysfs, region_find)
{
	struct pmf_region r;
	struct stat st;

	ASSERT_EQ(0, fstat(self->fd, &st));
	ASSERT_EQ(0, pmf_region_find(true, st.st_rdev, &r));
	ASSERT_TRUE(r.found);
	ASSERT_EQ(2, r.id);
	ASSERT_FALSE(r.cpu_cache);
	ASSERT_FALSE(r.async);
	ASSERT_EQ(-ENOENT, pmf_region_find(false, st.st_rdev, &r));
	ASSERT_FALSE(r.found);
}

/* the module loaded, QUERY answering for the device-dax of region2 */
static void devdax_module(bool async, int has_flush)
{
	fake.dev_err = 0;
	fake.q.region_id = 2;
	fake.q.target_kind = PMEMFLUSH_TARGET_DEVDAX;
	fake.q.persistence_domain = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	fake.q.has_flush = has_flush;
	fake.q.out_flags = PMEMFLUSH_DAX_SYNC |
			   (async ? PMEMFLUSH_REGION_ASYNC : 0);
}

/*
 * A synchronous region without flush hints: the deep flush is the CPU's
 * write-back of the range and SFENCE; no REGISTER, no FLUSH, no sysfs.
 */
TEST_F(sysfs, devdax_barriers_only_no_ioctl)
{
	struct pmem2_map *map;
	char *a;

	devdax_module(false, 0);
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 4096 + 3, 5000));
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, fake.msyncs);
	ASSERT_FALSE(written(self->deep));
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ((uintptr_t)a + 4096 + 3, fake.cpu_flush_addr);
	ASSERT_EQ(5000, fake.cpu_flush_len);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	/* the native fd flush reaches the kernel all the same */
	ASSERT_EQ(0, pmemflush_fd_deep_flush(self->fd, 0, 64, 0));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(self->fd, fake.flush_target);
	PMF_LEAK_CHECK();
}

/*
 * Issue 22's suspicion, confirmed and kept: a map without PMEM2_PROT_WRITE
 * on virtio-pmem device-dax is not registered (REGISTER by address takes
 * shared writable maps only), so its PAGE persist writes the CPU caches
 * back and reaches no host: the map stores nothing of its own, and the
 * writable maps of the device flush it whole. Its deep flush has only the
 * region's sysfs file, which virtio-pmem hides: an error, never 0.
 */
TEST_F(sysfs, devdax_readonly_map_on_async_region)
{
	struct pmem2_map *map;
	char *a;

	fake.anon = true;
	devdax_module(true, 0);
	ASSERT_EQ(0, pmf_test_map_prot(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0,
				       PMEM2_PROT_READ, &map));
	ASSERT_EQ(PMEM2_GRANULARITY_PAGE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.regs);
	a = pmem2_map_get_address(map);
	pmem2_get_persist_fn(map)(a + 4096, 8);
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, unlink(self->deep));
	ASSERT_EQ(-ENOENT, pmem2_deep_flush(map, a + 64, 64));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	PMF_LEAK_CHECK();
}

/* flush hints (has_flush 1), or asynchronous with has_flush 0: by id */
TEST_F(sysfs, devdax_device_flush_registers)
{
	struct pmem2_map *map;
	int async;
	char *a;

	for (async = 0; async < 2; async++) {
		memset(&fake, 0, sizeof(fake));
		fake.anon = true;
		fake.sync_ok = true;
		devdax_module(async, async ? 0 : 1);
		ASSERT_EQ(0, pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE,
					  2097152, 0, &map));
		a = pmem2_map_get_address(map);
		ASSERT_EQ(1, fake.regs);
		ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
		ASSERT_EQ((uintptr_t)a, fake.reg.addr);
		zero_mtime(self->deep);
		ASSERT_EQ(0, pmem2_deep_flush(map, a + 64, 128));
		ASSERT_EQ(1, fake.flushes) TH_LOG("async %d", async);
		ASSERT_EQ(PMEMFLUSH_BY_ID, fake.flush_flags);
		ASSERT_EQ((int)fake.reg.id, fake.flush_target);
		ASSERT_EQ(2097152 + 64, fake.flush_offset);
		ASSERT_EQ(128, fake.flush_length);
		ASSERT_EQ(1, fake.cpu_flushes);
		ASSERT_EQ((uintptr_t)a + 64, fake.cpu_flush_addr);
		ASSERT_EQ(128, fake.cpu_flush_len);
		ASSERT_FALSE(written(self->deep));
		ASSERT_EQ(0, pmem2_map_delete(&map));
		ASSERT_EQ(1, fake.unregs);
		ASSERT_EQ(fake.reg.id, fake.unreg_id);
	}
	PMF_LEAK_CHECK();
}

/*
 * REGISTER refused on a synchronous region with flush hints (an older
 * module): the region's sysfs deep_flush, of the region QUERY named.
 */
TEST_F(sysfs, devdax_register_enotty_uses_sysfs)
{
	struct pmem2_map *map;

	devdax_module(false, 1);
	fake.reg_ret = -ENOTTY;
	ASSERT_EQ(0,
		  pmf_test_map(self->fd, PMEM2_GRANULARITY_PAGE, 0, 0, &map));
	ASSERT_EQ(1, fake.regs);
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_TRUE(written(self->deep));
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	PMF_LEAK_CHECK();
}

/*
 * On an asynchronous (virtio-pmem) region nothing but the device flush
 * makes stores durable: REGISTER failing fails the map with its error
 * through the table, and the message names REGISTER after the map is gone.
 */
TEST_F(sysfs, devdax_async_register_failure_fails_map)
{
	static const struct pmf_errno_case t[] = {
		{ ENXIO, PMEM2_E_DAX_REGION_NOT_FOUND },
		{ ENOTTY, -ENOTTY }, { ENOMEM, -ENOMEM }, { ENOSPC, -ENOSPC },
		{ EFAULT, -EFAULT },
	};
	struct pmem2_map *map;
	size_t i;

	devdax_module(true, 1);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fake.reg_ret = -t[i].err;
		map = (void *)1;
		ASSERT_EQ(t[i].want, pmf_test_map(self->fd,
				PMEM2_GRANULARITY_PAGE, 0, 0, &map))
			TH_LOG("%s", strerror(t[i].err));
		ASSERT_EQ(NULL, map);
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), "PMEMFLUSH_REGISTER"));
		ASSERT_NE(NULL, strstr(pmem2_errormsg(), strerror(t[i].err)));
	}
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(0, fake.flushes);
	PMF_LEAK_CHECK();
}

/* the device-dax fd closed before pmem2_map_new(): libpmem2's error */
TEST_F(sysfs, devdax_map_new_closed_fd)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map = (void *)1;
	int fd = dup(self->fd);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_PAGE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(PMF_FTYPE_DEVDAX, src->ftype);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(PMEM2_E_INVALID_FILE_HANDLE, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(NULL, map);
	ASSERT_EQ(0, fake.mmaps);
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
