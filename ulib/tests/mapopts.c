// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Mapping options: sharing, protection, anonymous sources and
 * pmem2_map_from_existing(), with the fake kernel counting every mmap,
 * msync and ioctl, so that a path that must not reach a device is seen not
 * to.
 */
#include <sys/wait.h>

#include "pmf_test.h"

#define PG 4096UL

/* the /proc/self/maps perms of the mapping holding @p */
static void perms_at(const void *p, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	strcpy(perms, "none");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char pr[5];

		if (sscanf(line, "%lx-%lx %4s", &a, &b, pr) == 3 &&
		    (uintptr_t)p >= a && (uintptr_t)p < b) {
			memcpy(perms, pr, 5);
			break;
		}
	}
	fclose(f);
}

/* an anonymous source, as pmem2_source_from_anon() makes it */
static struct pmem2_source *anon_src(size_t size)
{
	struct pmem2_source *s = calloc(1, sizeof(*s));

	if (s) {
		s->fd = -1;
		s->ftype = PMF_FTYPE_ANON;
		s->size = size;
	}
	return s;
}

struct opts {
	int gran;
	size_t off, len;
	enum pmem2_sharing_type sharing;
	unsigned int prot;
};

/* defaults first, then what the test gives */
#pragma GCC diagnostic ignored "-Woverride-init"
#define OPTS(...) (&(struct opts){ .gran = PMEM2_GRANULARITY_PAGE, \
	.prot = PMEM2_PROT_READ | PMEM2_PROT_WRITE, __VA_ARGS__ })

static int map_src(const struct pmem2_source *src, const struct opts *o,
		   struct pmem2_map **map)
{
	struct pmem2_config *cfg;
	int ret;

	if (pmem2_config_new(&cfg))
		return -1000;
	pmem2_config_set_required_store_granularity(cfg, o->gran);
	pmem2_config_set_offset(cfg, o->off);
	pmem2_config_set_length(cfg, o->len);
	ret = pmem2_config_set_sharing(cfg, o->sharing);
	if (!ret)
		ret = pmem2_config_set_protection(cfg, o->prot);
	if (!ret)
		ret = pmem2_map_new(map, cfg, src);
	pmem2_config_delete(&cfg);
	return ret;
}

static int map_fd(int fd, const struct opts *o, struct pmem2_map **map)
{
	struct pmem2_source *src;
	int ret = pmem2_source_from_fd(&src, fd);

	if (!ret)
		ret = map_src(src, o, map);
	pmem2_source_delete(&src);
	return ret;
}

/* an fsdax file on an ADR platform with flush hints, MAP_SYNC working */
static void fsdax(void)
{
	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, 1, PMEMFLUSH_DAX_SYNC);
}

/* nothing reached a device: no msync, FLUSH or REGISTER */
#define ASSERT_NO_DEVICE() do {			\
	ASSERT_EQ(0, fake.msyncs);		\
	ASSERT_EQ(0, fake.flushes);		\
	ASSERT_EQ(0, fake.regs);		\
} while (0)

TEST(config_setters)
{
	struct pmem2_config *cfg;
	struct pmem2_vm_reservation *rsv = (void *)0x1000;

	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(PMEM2_SHARED, cfg->sharing);
	ASSERT_EQ(PMEM2_PROT_READ | PMEM2_PROT_WRITE, cfg->prot);
	ASSERT_EQ(NULL, cfg->rsv);
	ASSERT_EQ(0, pmem2_config_set_sharing(cfg, PMEM2_PRIVATE));
	ASSERT_EQ(PMEM2_PRIVATE, cfg->sharing);
	ASSERT_EQ(PMEM2_E_INVALID_SHARING_VALUE,
		  pmem2_config_set_sharing(cfg, (enum pmem2_sharing_type)2));
	ASSERT_EQ(PMEM2_E_INVALID_SHARING_VALUE,
		  pmem2_config_set_sharing(cfg, (enum pmem2_sharing_type)-1));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "sharing"));
	ASSERT_EQ(PMEM2_PRIVATE, cfg->sharing);
	ASSERT_EQ(0, pmem2_config_set_sharing(cfg, PMEM2_SHARED));
	ASSERT_STREQ("", pmem2_errormsg());

	ASSERT_EQ(0, pmem2_config_set_protection(cfg, PMEM2_PROT_NONE));
	ASSERT_EQ(0, cfg->prot);
	ASSERT_EQ(0, pmem2_config_set_protection(cfg, PMEM2_PROT_READ |
			PMEM2_PROT_WRITE | PMEM2_PROT_EXEC));
	ASSERT_EQ(PMEM2_E_INVALID_PROT_FLAG,
		  pmem2_config_set_protection(cfg, PMEM2_PROT_READ | 1));
	ASSERT_EQ(PMEM2_E_INVALID_PROT_FLAG,
		  pmem2_config_set_protection(cfg, 1U << 28));
	ASSERT_EQ(PMEM2_PROT_READ | PMEM2_PROT_WRITE | PMEM2_PROT_EXEC,
		  cfg->prot);

	ASSERT_EQ(0, pmem2_config_set_vm_reservation(cfg, rsv, 123));
	ASSERT_EQ(rsv, cfg->rsv);
	ASSERT_EQ(123, cfg->rsv_offset);
	ASSERT_EQ(0, pmem2_config_set_vm_reservation(cfg, NULL, 0));
	ASSERT_EQ(NULL, cfg->rsv);
	pmem2_config_delete(&cfg);
	PMF_LEAK_CHECK();
}

/* a private map: copy-on-write, BYTE, no MAP_SYNC, no device, no QUERY */
TEST(private_file_map)
{
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG);
	char buf[8] = "", perms[5], *a;

	ASSERT_EQ(5, pwrite(fd, "AAAA", 5, PG));
	fsdax();
	fake.query_target = -7;
	setenv("PMEM2_FORCE_GRANULARITY", "PAGE", 1);
	ASSERT_EQ(0, map_fd(fd, OPTS(.sharing = PMEM2_PRIVATE,
				     .gran = PMEM2_GRANULARITY_BYTE), &map));
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(0, fake.sync_tries);
	ASSERT_EQ(-7, fake.query_target);
	a = pmem2_map_get_address(map);
	perms_at(a, perms);
	ASSERT_STREQ("rw-p", perms);
	ASSERT_STREQ("AAAA", a + PG);
	memcpy(a + PG, "BBBB", 5);
	pmem2_get_persist_fn(map)(a + PG, 5);
	pmem2_get_flush_fn(map)(a + PG, 5);
	pmem2_get_drain_fn(map)();
	ASSERT_EQ(0, pmem2_deep_flush(map, a + PG, 5));
	ASSERT_NO_DEVICE();
	/* the file never saw it */
	ASSERT_EQ(5, pread(fd, buf, 5, PG));
	ASSERT_STREQ("AAAA", buf);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	ASSERT_EQ(5, pread(fd, buf, 5, PG));
	ASSERT_STREQ("AAAA", buf);
	/* the range rules still hold */
	ASSERT_EQ(PMEM2_E_MAP_RANGE,
		  map_fd(fd, OPTS(.sharing = PMEM2_PRIVATE, .len = 3 * PG),
			 &map));
	close(fd);
	PMF_LEAK_CHECK();
}

/* a private map of a read-only fd is writable: the copies are ours */
TEST(private_map_of_rdonly_fd)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG), ro;
	char path[64], buf[4] = "";

	fake_no_module();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	ASSERT_EQ(PMEM2_E_NO_ACCESS, map_fd(ro, OPTS(), &map));
	ASSERT_EQ(0, map_fd(ro, OPTS(.sharing = PMEM2_PRIVATE), &map));
	memcpy(pmem2_map_get_address(map), "xyz", 4);
	ASSERT_EQ(4, pread(fd, buf, 4, 0));
	ASSERT_EQ(0, buf[0]);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(ro);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(read_only_map)
{
	struct pmem2_map *map;
	int fd = tmp_file(2 * PG), ro, status;
	char path[64], perms[5], *a;
	pid_t pid;

	ASSERT_EQ(3, pwrite(fd, "ro", 3, 0));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY);
	fsdax();
	ASSERT_EQ(0, map_fd(ro, OPTS(.prot = PMEM2_PROT_READ,
				     .gran = PMEM2_GRANULARITY_CACHE_LINE),
			    &map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	a = pmem2_map_get_address(map);
	perms_at(a, perms);
	ASSERT_STREQ("r--s", perms);
	ASSERT_STREQ("ro", a);
	/* REGISTER by address would take a writable map only: not tried */
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, a + 10, 100));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ((uintptr_t)a, fake.msync_addr);
	ASSERT_EQ(0, fake.flushes);
	/* and it is read-only */
	pid = fork();
	if (!pid) {
		signal(SIGSEGV, SIG_DFL);	/* not ASan's report */
		*(volatile char *)a = 'x';
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGSEGV, WTERMSIG(status));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.unregs);
	/* read and write on an O_RDONLY fd: EACCES from mmap */
	ASSERT_EQ(PMEM2_E_NO_ACCESS,
		  map_fd(ro, OPTS(.gran = PMEM2_GRANULARITY_CACHE_LINE), &map));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "mmap"));
	close(ro);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(prot_none_and_exec)
{
	struct pmem2_map *map;
	int fd = tmp_file(PG);
	char perms[5];

	fsdax();
	ASSERT_EQ(0, map_fd(fd, OPTS(.prot = PMEM2_PROT_NONE), &map));
	perms_at(pmem2_map_get_address(map), perms);
	ASSERT_STREQ("---s", perms);
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 10));
	ASSERT_EQ(0, fake.cpu_flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, map_fd(fd, OPTS(.prot = PMEM2_PROT_READ | PMEM2_PROT_EXEC),
			    &map));
	perms_at(pmem2_map_get_address(map), perms);
	ASSERT_STREQ("r-xs", perms);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	/* the default registers the writable map, as before */
	ASSERT_EQ(0, map_fd(fd, OPTS(), &map));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	close(fd);
	PMF_LEAK_CHECK();
}

TEST(anon_map)
{
	struct pmem2_source *src = anon_src(3 * PG);
	struct pmem2_map *map;
	char perms[5], *a;

	fsdax();
	fake.query_target = -7;
	setenv("PMEM2_FORCE_GRANULARITY", "PAGE", 1);
	ASSERT_EQ(0, map_src(src, OPTS(), &map));
	ASSERT_EQ(PMEM2_GRANULARITY_BYTE, pmem2_map_get_store_granularity(map));
	ASSERT_EQ(3 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(-7, fake.query_target);
	ASSERT_EQ(0, fake.sync_tries);
	a = pmem2_map_get_address(map);
	perms_at(a, perms);
	ASSERT_STREQ("rw-s", perms);
	a[0] = 1;
	a[3 * PG - 1] = 2;
	pmem2_get_persist_fn(map)(a, 3 * PG);
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_deep_flush(map, a, PG));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "anonymous"));
	ASSERT_EQ(PMEM2_E_DEEP_FLUSH_RANGE, pmem2_deep_flush(map, a, 4 * PG));
	ASSERT_NO_DEVICE();
	ASSERT_EQ(0, pmem2_map_delete(&map));

	/* private */
	ASSERT_EQ(0, map_src(src, OPTS(.sharing = PMEM2_PRIVATE), &map));
	perms_at(pmem2_map_get_address(map), perms);
	ASSERT_STREQ("rw-p", perms);
	ASSERT_EQ(PMEM2_E_NOSUPP,
		  pmem2_deep_flush(map, pmem2_map_get_address(map), 1));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_NO_DEVICE();
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* libpmem2 checks the offset, then maps the source from its start */
TEST(anon_ranges)
{
	struct pmem2_source *src = anon_src(2 * PG);
	struct pmem2_map *map;

	fake_no_module();
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED, map_src(src, OPTS(.off = 10), &map));
	ASSERT_EQ(PMEM2_E_LENGTH_UNALIGNED, map_src(src, OPTS(.len = 10), &map));
	ASSERT_EQ(PMEM2_E_MAP_RANGE,
		  map_src(src, OPTS(.off = PG, .len = 2 * PG), &map));
	ASSERT_EQ(0, map_src(src, OPTS(.off = PG), &map));
	ASSERT_EQ(2 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, map_src(src, OPTS(.off = 2 * PG), &map));
	ASSERT_EQ(2 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, map_src(src, OPTS(.len = PG), &map));
	ASSERT_EQ(PG, pmem2_map_get_size(map));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	/* a size not a multiple of the page */
	src = anon_src(5000);
	ASSERT_EQ(0, map_src(src, OPTS(), &map));
	ASSERT_EQ(5000, pmem2_map_get_size(map));
	((char *)pmem2_map_get_address(map))[2 * PG - 1] = 1;
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	src = anon_src(0);
	ASSERT_EQ(PMEM2_E_SOURCE_EMPTY, map_src(src, OPTS(), &map));
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* shared anonymous memory is shared with a child, private is not */
TEST(anon_sharing)
{
	struct pmem2_source *src = anon_src(PG);
	struct pmem2_map *shared, *private;
	volatile char *s, *p;
	int status;
	pid_t pid;

	fake_no_module();
	ASSERT_EQ(0, map_src(src, OPTS(), &shared));
	ASSERT_EQ(0, map_src(src, OPTS(.sharing = PMEM2_PRIVATE), &private));
	s = pmem2_map_get_address(shared);
	p = pmem2_map_get_address(private);
	pid = fork();
	if (!pid) {
		*s = 's';
		*p = 'p';
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ('s', *s);
	ASSERT_EQ(0, *p);
	pmem2_map_delete(&shared);
	pmem2_map_delete(&private);
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* what another helper's benchmark does: malloc'ed memory, CACHE_LINE */
TEST(existing_anon)
{
	struct pmem2_source *src = anon_src(8 * PG);
	struct pmem2_map *map, *other;
	char *mem = mmap(NULL, 8 * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	fsdax();
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, 8 * PG,
					     PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(mem, pmem2_map_get_address(map));
	ASSERT_EQ(8 * PG, pmem2_map_get_size(map));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_EQ(pmf_cpu_persist_get(), pmem2_get_persist_fn(map));
	ASSERT_EQ(pmf_cpu_flush_get(), pmem2_get_flush_fn(map));
	memset(mem, 7, 8 * PG);
	pmem2_get_persist_fn(map)(mem, 8 * PG);
	/* as libpmem2: CACHE_LINE anonymous deep flush succeeds, here with
	 * no system call */
	fake.cpu_flushes = 0;
	ASSERT_EQ(0, pmem2_deep_flush(map, mem + 100, 1000));
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_NO_DEVICE();
	/* already known: libpmem2's PMEM2_E_MAP_EXISTS */
	ASSERT_EQ(PMEM2_E_MAP_EXISTS,
		  pmem2_map_from_existing(&other, src, mem + PG, PG,
					  PMEM2_GRANULARITY_BYTE));
	ASSERT_EQ(NULL, other);
	ASSERT_EQ(PMEM2_E_MAP_EXISTS,
		  pmem2_map_from_existing(&other, src, mem - PG, 2 * PG,
					  PMEM2_GRANULARITY_BYTE));
	ASSERT_EQ(PMEM2_E_GRANULARITY_NOT_SUPPORTED,
		  pmem2_map_from_existing(&other, src, mem + 8 * PG, PG,
					  (enum pmem2_granularity)3));
	/* deleting it leaves the memory to its owner */
	ASSERT_EQ(0, pmem2_map_delete(&map));
	mem[8 * PG - 1] = 1;
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, PG,
					     PMEM2_GRANULARITY_BYTE));
	ASSERT_EQ(PMEM2_E_NOSUPP, pmem2_deep_flush(map, mem, 1));
	ASSERT_EQ(0, pmem2_map_from_existing(&other, src, mem + PG, PG,
					     PMEM2_GRANULARITY_PAGE));
	/* a PAGE persist msyncs each map's part, skipping what none covers */
	fake.msyncs = 0;
	pmem2_get_persist_fn(other)(mem, 3 * PG);
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ((uintptr_t)mem, fake.msync_log[0].addr);
	ASSERT_EQ(PG, fake.msync_log[0].len);
	ASSERT_EQ((uintptr_t)mem + PG, fake.msync_addr);
	ASSERT_EQ(PG, fake.msync_len);
	ASSERT_EQ(0, pmem2_deep_flush(other, mem + PG, 1));
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, pmem2_map_delete(&other));
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, munmap(mem, 8 * PG));
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* a file the caller mapped: deep flush as a map of it would have */
TEST(existing_file)
{
	struct pmem2_source *src;
	struct pmem2_map *map;
	int fd = tmp_file(4 * PG);
	char *mem = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);

	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	/*
	 * CACHE_LINE on a mapping the kernel does not call MAP_SYNC (smaps'
	 * "sf"): the claim proves nothing, deep flush msyncs as libpmem2's
	 */
	fsdax();
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem + PG, 2 * PG,
					     PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(1, fake.map_sync_calls);
	ASSERT_EQ(0, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, mem + PG + 10, 20));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	memset(&fake, 0, sizeof(fake));
	/* a MAP_SYNC mapping: registered by address, flushed by id */
	fsdax();
	fake.map_sync = 1;
	fake.reg_offset = 5 * PG;
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem + PG, 2 * PG,
					     PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(PMEMFLUSH_BY_ADDR, fake.reg.flags);
	ASSERT_EQ((uintptr_t)mem + PG, fake.reg.addr);
	ASSERT_EQ(2 * PG, fake.reg.length);
	ASSERT_EQ(0, pmem2_deep_flush(map, mem + PG + 10, 20));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(5 * PG + 10, fake.flush_offset);
	ASSERT_EQ(20, fake.flush_length);
	ASSERT_EQ(0, fake.msyncs);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(1, fake.unregs);
	mem[0] = 1;
	/* PAGE: msync */
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, 4 * PG,
					     PMEM2_GRANULARITY_PAGE));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, mem + 3 * PG, 1));
	ASSERT_EQ(1, fake.msyncs);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	/* REGISTER refused (a private or read-only mapping): msync */
	fake.reg_ret = -EACCES;
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, 4 * PG,
					     PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(0, pmem2_deep_flush(map, mem, 1));
	ASSERT_EQ(2, fake.msyncs);
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	munmap(mem, 4 * PG);
	close(fd);
	PMF_LEAK_CHECK();
}

/* MAP_SYNC as smaps tells it: every mapping of the range "sf", no hole */
TEST(smaps_map_sync)
{
	static const char text[] =
		"7f0000000000-7f0000002000 rw-s 00000000 fd:01 12  /mnt/dax/a\n"
		"Size:                  8 kB\n"
		"VmFlags: rd wr sh mr mw me ms sf\n"
		"7f0000002000-7f0000004000 rw-s 00002000 fd:01 12  /mnt/dax/a\n"
		"Size:                  8 kB\n"
		"VmFlags: rd wr sh mr mw me ms\n"
		"7f0000005000-7f0000006000 rw-s 00005000 fd:01 12  /mnt/dax/a\n"
		"VmFlags: rd wr sh mr mw me ms sf\n"
		"7f0000006000-7f0000007000 rw-s 00006000 fd:01 12  /mnt/dax/a\n"
		"VmFlags: rd wr sh mr mw me ms sf\n";
	static const struct {
		uintptr_t addr;
		size_t len;
		int want;
	} cases[] = {
		{ 0x7f0000000000, 0x2000, 1 },	/* one sf mapping */
		{ 0x7f0000001000, 0x1000, 1 },	/* part of it */
		{ 0x7f0000001000, 0x2000, 0 },	/* into one without sf */
		{ 0x7f0000005000, 0x2000, 1 },	/* two sf mappings, adjacent */
		{ 0x7f0000004000, 0x2000, 0 },	/* a hole first */
		{ 0x7f0000006000, 0x2000, 0 },	/* past the last mapping */
		{ 0x7f0000008000, 0x1000, 0 },	/* nothing mapped */
	};
	int fd = tmp_file(PG);
	char *mem;
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = fmemopen((void *)text, sizeof(text) - 1, "r");
		ASSERT_NE(NULL, f);
		EXPECT_EQ(cases[i].want,
			  pmf_smaps_map_sync(f, (void *)cases[i].addr,
					     cases[i].len))
			TH_LOG("case %zu", i);
		fclose(f);
	}
	/* the real one: a shared mapping of a file that has no DAX */
	mem = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, pmf_real_kops()->map_sync(mem, PG));
	munmap(mem, PG);
	close(fd);
}

/* pmem2_map_new() must not take a range pmem2_map_from_existing() holds */
TEST(map_new_over_existing)
{
	struct pmem2_source *src = anon_src(PG);
	struct pmem2_map *map, *ex;
	char *p;

	fake_no_module();
	ASSERT_EQ(0, map_src(src, OPTS(), &map));
	p = pmem2_map_get_address(map);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	/* the caller's stale object for what is now unmapped */
	ASSERT_EQ(0, pmem2_map_from_existing(&ex, src, p, PG,
					     PMEM2_GRANULARITY_BYTE));
	fake.mmap_errno = 0;
	/* the kernel hands the same range out again */
	ASSERT_EQ(PMEM2_E_MAP_EXISTS, ({
		int r = -1, i;

		for (i = 0; i < 8 && r; i++) {
			r = map_src(src, OPTS(), &map);
			if (!r && pmem2_map_get_address(map) != p) {
				pmem2_map_delete(&map);
				r = -1;
				continue;
			}
		}
		r;
	}));
	ASSERT_EQ(0, pmem2_map_delete(&ex));
	pmem2_source_delete(&src);
	PMF_LEAK_CHECK();
}

/* device-dax through a fake sysfs tree (see nomodule.c) */
FIXTURE(devdax) {
	char root[64];
	char deep[PATH_MAX];
	int fd;
};

#pragma GCC diagnostic ignored "-Wformat-truncation"

FIXTURE_SETUP(devdax)
{
	char region[PATH_MAX], dax[PATH_MAX], link[PATH_MAX], p[PATH_MAX];
	struct stat st;

	strcpy(self->root, "/tmp/pmf-sysfs-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	self->fd = open("/dev/null", O_RDWR);
	ASSERT_EQ(0, fstat(self->fd, &st));
	snprintf(region, sizeof(region), "%s/devices/ndbus0/region2",
		 self->root);
	snprintf(dax, sizeof(dax), "%s/dax2.0/dax/dax2.0", region);
	mkdirs("%s", dax);
	mkdirs("%s/bus/dax", self->root);
	mkdirs("%s/dev/char", self->root);
	mkdirs("%s/bus/nd/devices", self->root);
	snprintf(link, sizeof(link), "%s/bus/nd/devices/region2", self->root);
	ASSERT_EQ(0, symlink(region, link));
	snprintf(p, sizeof(p), "%s/bus/dax", self->root);
	snprintf(link, sizeof(link), "%s/subsystem", dax);
	ASSERT_EQ(0, symlink(p, link));
	snprintf(link, sizeof(link), "%s/dev/char/%u:%u", self->root,
		 major(st.st_rdev), minor(st.st_rdev));
	ASSERT_EQ(0, symlink(dax, link));
	snprintf(p, sizeof(p), "%s/size", dax);
	write_file(p, "8388608\n", 0644);
	snprintf(p, sizeof(p), "%s/align", dax);
	write_file(p, "2097152\n", 0644);
	snprintf(p, sizeof(p), "%s/persistence_domain", region);
	write_file(p, "memory_controller\n", 0644);
	snprintf(p, sizeof(p), "%s/devices/ndbus0/provider", self->root);
	write_file(p, "ACPI.NFIT\n", 0644);
	snprintf(self->deep, sizeof(self->deep), "%s/deep_flush", region);
	write_file(self->deep, "1\n", 0644);
	pmf_test_set_sysfs(self->root);
	fake_no_module();
	fake.anon = true;
	fake.sync_ok = true;
}

FIXTURE_TEARDOWN(devdax)
{
	close(self->fd);
	rm_tree(self->root);
}

/* the module loaded with flush hints, QUERY answering for region2 */
static void devdax_module(void)
{
	fake.dev_err = 0;
	fake.q.region_id = 2;
	fake.q.target_kind = PMEMFLUSH_TARGET_DEVDAX;
	fake.q.persistence_domain = PMEMFLUSH_PERSIST_MEMORY_CONTROLLER;
	fake.q.has_flush = 1;
	fake.q.out_flags = PMEMFLUSH_DAX_SYNC;
}

TEST_F(devdax, private_refused)
{
	struct pmem2_map *map;

	ASSERT_EQ(PMEM2_E_SRC_DEVDAX_PRIVATE,
		  map_fd(self->fd, OPTS(.sharing = PMEM2_PRIVATE), &map));
	ASSERT_EQ(0, fake.mmaps);
	/* libpmem2 checks the offset first */
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED,
		  map_fd(self->fd, OPTS(.sharing = PMEM2_PRIVATE, .off = PG),
			 &map));
	PMF_LEAK_CHECK();
}

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

/* read-only device-dax: REGISTER cannot take it; the region's sysfs file */
TEST_F(devdax, read_only_uses_sysfs)
{
	struct pmem2_map *map;

	devdax_module();
	ASSERT_EQ(0, map_fd(self->fd, OPTS(.prot = PMEM2_PROT_READ), &map));
	ASSERT_EQ(0, fake.regs);
	zero_mtime(self->deep);
	fake.cpu_flushes = 0;
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 64));
	ASSERT_EQ(1, fake.cpu_flushes);
	ASSERT_EQ(0, fake.flushes);
	ASSERT_TRUE(written(self->deep));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	/* PROT_NONE: not even the CPU's write-back, which would fault */
	ASSERT_EQ(0, map_fd(self->fd, OPTS(.prot = PMEM2_PROT_NONE), &map));
	fake.cpu_flushes = 0;
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 64));
	ASSERT_EQ(0, fake.cpu_flushes);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(0, fake.regs);
	/* writable: registered, flushed by id, sysfs untouched */
	zero_mtime(self->deep);
	ASSERT_EQ(0, map_fd(self->fd, OPTS(), &map));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, pmem2_map_get_address(map), 64));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_FALSE(written(self->deep));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	PMF_LEAK_CHECK();
}

/* device-dax in a reservation: its alignment, not the page's */
TEST_F(devdax, in_reservation)
{
	struct pmem2_vm_reservation *rsv;
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map, *f;
	char *a;

	devdax_module();
	ASSERT_EQ(0, pmem2_vm_reservation_new(&rsv, NULL, 8 << 20));
	a = pmem2_vm_reservation_get_address(rsv);
	ASSERT_EQ(0, (uintptr_t)a % (2 << 20));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, self->fd));
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	pmem2_config_set_required_store_granularity(cfg,
			PMEM2_GRANULARITY_CACHE_LINE);
	pmem2_config_set_length(cfg, 2 << 20);
	pmem2_config_set_vm_reservation(cfg, rsv, PG);
	ASSERT_EQ(PMEM2_E_ADDRESS_UNALIGNED, pmem2_map_new(&map, cfg, src));
	ASSERT_NE(NULL, strstr(pmem2_errormsg(), "2097152"));
	pmem2_config_set_vm_reservation(cfg, rsv, 100);
	ASSERT_EQ(PMEM2_E_OFFSET_UNALIGNED, pmem2_map_new(&map, cfg, src));
	pmem2_config_set_vm_reservation(cfg, rsv, 8 << 20);
	ASSERT_EQ(PMEM2_E_LENGTH_OUT_OF_RANGE, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(0, fake.mmaps);
	pmem2_config_set_vm_reservation(cfg, rsv, 4 << 20);
	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(a + (4 << 20), pmem2_map_get_address(map));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ((uintptr_t)a + (4 << 20), fake.reg.addr);
	ASSERT_EQ(0, pmem2_vm_reservation_map_find(rsv, 5 << 20, 1, &f));
	ASSERT_EQ(map, f);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(1, fake.unregs);
	pmem2_config_delete(&cfg);
	pmem2_source_delete(&src);
	ASSERT_EQ(0, pmem2_vm_reservation_delete(&rsv));
	PMF_LEAK_CHECK();
}

/* a device-dax map of the caller's: registered by address as ours are */
TEST_F(devdax, existing)
{
	struct pmem2_source *src;
	struct pmem2_map *map;
	char *mem = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	devdax_module();
	fake.reg_offset = 2 << 20;
	ASSERT_EQ(0, pmem2_source_from_fd(&src, self->fd));
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, 2 << 20,
					     PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(1, fake.regs);
	ASSERT_EQ(0, pmem2_deep_flush(map, mem + 64, 64));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_EQ((2 << 20) + 64, fake.flush_offset);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	ASSERT_EQ(1, fake.unregs);
	/* an older module without REGISTER: the sysfs file */
	fake.reg_ret = -ENOTTY;
	ASSERT_EQ(0, pmem2_map_from_existing(&map, src, mem, 2 << 20,
					     PMEM2_GRANULARITY_CACHE_LINE));
	zero_mtime(self->deep);
	ASSERT_EQ(0, pmem2_deep_flush(map, mem, 64));
	ASSERT_EQ(1, fake.flushes);
	ASSERT_TRUE(written(self->deep));
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	ASSERT_EQ(0, munmap(mem, 2 << 20));
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
