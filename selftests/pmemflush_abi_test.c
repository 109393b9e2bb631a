// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI as a binary sees it: every uapi struct's size and field
 * offsets and the command numbers, against constants, so that a 64-bit and a
 * 32-bit build (pmemflush_abi_m32_test, -m32) both prove they agree with the
 * kernel's layout; and which kernel entry point the process's ioctls take:
 * compat_ptr_ioctl() for a 32-bit process on a 64-bit kernel, never for a
 * native one.
 */
#include <elf.h>
#include <stddef.h>
#include <sys/utsname.h>
#include <time.h>

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#define LAYOUT(type, field, off) \
	EXPECT_EQ(off, offsetof(struct type, field)) TH_LOG(#type "." #field)

#define offsetofend(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

/*
 * Each *_SIZE_VER0 is where the struct's first version ended: checked when
 * this program is compiled, for the 64-bit and the 32-bit build alike.
 */
_Static_assert(PMEMFLUSH_FLUSH_SIZE_VER0 ==
	       offsetofend(struct pmemflush_flush, out_flags),
	       "PMEMFLUSH_FLUSH_SIZE_VER0 ends after out_flags");
_Static_assert(PMEMFLUSH_QUERY_SIZE_VER0 ==
	       offsetofend(struct pmemflush_query, target_size),
	       "PMEMFLUSH_QUERY_SIZE_VER0 ends after target_size");
_Static_assert(PMEMFLUSH_REGISTER_SIZE_VER0 ==
	       offsetofend(struct pmemflush_register, offset),
	       "PMEMFLUSH_REGISTER_SIZE_VER0 ends after offset");
_Static_assert(PMEMFLUSH_UNREGISTER_SIZE_VER0 ==
	       offsetofend(struct pmemflush_unregister, __reserved),
	       "PMEMFLUSH_UNREGISTER_SIZE_VER0 ends after __reserved");
_Static_assert(_IOC_SIZE(PMEMFLUSH_FLUSH_VER0) == PMEMFLUSH_FLUSH_SIZE_VER0,
	       "PMEMFLUSH_FLUSH_VER0 encodes the first version's size");
_Static_assert(_IOC_NR(PMEMFLUSH_FLUSH_VER0) == _IOC_NR(PMEMFLUSH_FLUSH) &&
	       _IOC_TYPE(PMEMFLUSH_FLUSH_VER0) == _IOC_TYPE(PMEMFLUSH_FLUSH) &&
	       _IOC_DIR(PMEMFLUSH_FLUSH_VER0) == _IOC_DIR(PMEMFLUSH_FLUSH),
	       "PMEMFLUSH_FLUSH_VER0 differs from PMEMFLUSH_FLUSH in size only");
_Static_assert(offsetof(struct pmemflush_flush, id) ==
	       offsetof(struct pmemflush_flush, fd) &&
	       sizeof(((struct pmemflush_flush *)0)->id) == 4,
	       "pmemflush_flush.id shares fd's place");
_Static_assert(offsetof(struct pmemflush_query, id) ==
	       offsetof(struct pmemflush_query, fd) &&
	       sizeof(((struct pmemflush_query *)0)->id) == 4,
	       "pmemflush_query.id shares fd's place");
_Static_assert(PMEMFLUSH_STRUCT_SIZE_MAX == 4096,
	       "PMEMFLUSH_STRUCT_SIZE_MAX is 4096 on every page size");

TEST(layout)
{
	EXPECT_EQ(48, sizeof(struct pmemflush_flush));
	EXPECT_EQ(8, __alignof__(struct pmemflush_flush));
	LAYOUT(pmemflush_flush, size, 0);
	LAYOUT(pmemflush_flush, flags, 4);
	LAYOUT(pmemflush_flush, fd, 8);
	LAYOUT(pmemflush_flush, id, 8);
	LAYOUT(pmemflush_flush, __reserved, 12);
	LAYOUT(pmemflush_flush, offset, 16);
	LAYOUT(pmemflush_flush, length, 24);
	LAYOUT(pmemflush_flush, region_id, 32);
	LAYOUT(pmemflush_flush, out_flags, 36);
	LAYOUT(pmemflush_flush, flush_seq, 40);
	EXPECT_EQ(40, PMEMFLUSH_FLUSH_SIZE_VER0);

	EXPECT_EQ(48, sizeof(struct pmemflush_query));
	EXPECT_EQ(8, __alignof__(struct pmemflush_query));
	LAYOUT(pmemflush_query, size, 0);
	LAYOUT(pmemflush_query, flags, 4);
	LAYOUT(pmemflush_query, fd, 8);
	LAYOUT(pmemflush_query, id, 8);
	LAYOUT(pmemflush_query, __reserved, 12);
	LAYOUT(pmemflush_query, region_id, 16);
	LAYOUT(pmemflush_query, has_flush, 20);
	LAYOUT(pmemflush_query, persistence_domain, 24);
	LAYOUT(pmemflush_query, target_kind, 28);
	LAYOUT(pmemflush_query, out_flags, 32);
	LAYOUT(pmemflush_query, __reserved2, 36);
	LAYOUT(pmemflush_query, target_size, 40);
	EXPECT_EQ(48, PMEMFLUSH_QUERY_SIZE_VER0);

	EXPECT_EQ(40, sizeof(struct pmemflush_register));
	EXPECT_EQ(8, __alignof__(struct pmemflush_register));
	LAYOUT(pmemflush_register, size, 0);
	LAYOUT(pmemflush_register, flags, 4);
	LAYOUT(pmemflush_register, fd, 8);
	LAYOUT(pmemflush_register, id, 12);
	LAYOUT(pmemflush_register, addr, 16);
	LAYOUT(pmemflush_register, length, 24);
	LAYOUT(pmemflush_register, offset, 32);
	EXPECT_EQ(40, PMEMFLUSH_REGISTER_SIZE_VER0);

	EXPECT_EQ(16, sizeof(struct pmemflush_unregister));
	LAYOUT(pmemflush_unregister, size, 0);
	LAYOUT(pmemflush_unregister, flags, 4);
	LAYOUT(pmemflush_unregister, id, 8);
	LAYOUT(pmemflush_unregister, __reserved, 12);
	EXPECT_EQ(16, PMEMFLUSH_UNREGISTER_SIZE_VER0);

	/* compat_ptr_ioctl() passes the command on unchanged */
	EXPECT_EQ(0xc030f700UL, (unsigned long)PMEMFLUSH_FLUSH);
	EXPECT_EQ(0xc028f700UL, (unsigned long)PMEMFLUSH_FLUSH_VER0);
	EXPECT_EQ(0xc030f701UL, (unsigned long)PMEMFLUSH_QUERY);
	EXPECT_EQ(0xc028f702UL, (unsigned long)PMEMFLUSH_REGISTER);
	EXPECT_EQ(0xc010f703UL, (unsigned long)PMEMFLUSH_UNREGISTER);
}

/* what this program is: its ELF class and machine, and the kernel's */
TEST(binary)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 32], out[256] = "";
	unsigned char ident[EI_NIDENT + 4];
	struct utsname u;
	Elf32_Half machine;
	ssize_t n;
	FILE *p;
	int fd;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = '\0';
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(ident), read(fd, ident, sizeof(ident)));
	close(fd);
	/* e_machine follows e_ident and e_type in both classes */
	memcpy(&machine, ident + EI_NIDENT + 2, sizeof(machine));
	ASSERT_EQ(0, uname(&u));
#ifdef __i386__
	EXPECT_EQ(ELFCLASS32, ident[EI_CLASS]);
	EXPECT_EQ(EM_386, machine);
	EXPECT_EQ(4, sizeof(long));
	/* a 32-bit process on a 64-bit kernel: every ioctl goes through compat */
	EXPECT_STREQ("x86_64", u.machine);
#else
	EXPECT_EQ(ELFCLASS64, ident[EI_CLASS]);
	EXPECT_EQ(EM_X86_64, machine);
	EXPECT_EQ(8, sizeof(long));
#endif
	snprintf(cmd, sizeof(cmd), "file -b '%s' 2>/dev/null", exe);
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(out, sizeof(out), p))
			out[0] = '\0';
		pclose(p);
		out[strcspn(out, "\n")] = '\0';
	}
	TH_LOG("%s: ELF%d machine %u on a %s kernel; file(1): %s", exe,
	       ident[EI_CLASS] == ELFCLASS32 ? 32 : 64, machine, u.machine,
	       out[0] ? out : "(not available)");
}

/*
 * The entry points of a QUERY, a FLUSH and an UNREGISTER of no id, counted
 * with kprobes: each reaches the driver's ioctl handler, through
 * compat_ptr_ioctl() exactly when this is a 32-bit program; QUERY's and
 * FLUSH's outputs come back through it as they do natively.
 */
TEST(ioctl_entry)
{
	struct pmf_probe compat, handler;
	struct pmemflush_flush f;
	struct pmemflush_query q;
	const char *path = pmf_devdax_path();
	char attr[PATH_MAX], buf[64];
	int dev, fd, expect, n_compat, n_handler;
	struct stat st;

#ifdef __i386__
	expect = 3;
#else
	expect = 0;
#endif
	ASSERT_NE(NULL, path);
	dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	if (pmf_probe_start(&compat, "compat_ptr_ioctl"))
		SKIP(return, "no kprobe on compat_ptr_ioctl: %s", strerror(errno));
	ASSERT_EQ(0, pmf_probe_start(&handler, "pmemflush:pmemflush_char_ioctl"));
	ASSERT_EQ(0, pmf_probe_count(&compat));
	ASSERT_EQ(0, pmf_probe_count(&handler));

	ASSERT_EQ(0, pmf_query(dev, fd, &q));
	ASSERT_EQ(0, pmf_flush(dev, fd, 0, 4096, &f));
	EXPECT_EQ(-1, pmf_unregister(dev, 0));
	EXPECT_EQ(ENOENT, errno);

	n_compat = pmf_probe_count(&compat);
	n_handler = pmf_probe_count(&handler);
	TH_LOG("3 ioctls: %d through compat_ptr_ioctl(), %d reached pmemflush_char_ioctl()",
	       n_compat, n_handler);
	EXPECT_EQ(expect, n_compat);
	EXPECT_EQ(3, n_handler);
	pmf_probe_stop(&compat);
	pmf_probe_stop(&handler);

	/* the outputs, checked against sysfs */
	EXPECT_EQ(PMEMFLUSH_TARGET_DEVDAX, q.target_kind);
	EXPECT_EQ(pmf_sysfs_region(path), (int)q.region_id);
	ASSERT_EQ(0, stat(path, &st));
	snprintf(attr, sizeof(attr), "/sys/dev/char/%u:%u/size",
		 major(st.st_rdev), minor(st.st_rdev));
	ASSERT_EQ(0, pmf_read_line(attr, buf, sizeof(buf)));
	EXPECT_EQ(strtoull(buf, NULL, 0), q.target_size);
	EXPECT_EQ(q.region_id, f.region_id);
	close(fd);
	close(dev);
}

FIXTURE(num)
{
	int dev;
	int target;
	char *page;	/* a page of structs, then a PROT_NONE guard page */
	struct pmemflush_query q;
};

FIXTURE_SETUP(num)
{
	const char *path = pmf_devdax_path();

	ASSERT_NE(NULL, path);
	self->dev = open(PMEMFLUSH_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->target = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->target);
	self->page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->page);
	ASSERT_EQ(0, mprotect(self->page + 4096, 4096, PROT_NONE));
	ASSERT_EQ(0, pmf_query(self->dev, self->target, &self->q));
	ASSERT_EQ(PMEMFLUSH_TARGET_DEVDAX, self->q.target_kind);
	ASSERT_EQ(pmf_sysfs_region(path), (int)self->q.region_id);
}

FIXTURE_TEARDOWN(num)
{
	munmap(self->page, 8192);
	close(self->target);
	close(self->dev);
}

/*
 * Every published number reaches its command and does its work:
 * PMEMFLUSH_FLUSH (48-byte struct), PMEMFLUSH_FLUSH_VER0 (40-byte struct,
 * ending at the guard page), QUERY, REGISTER and UNREGISTER, by fd and by
 * id; and each answers its own errno (EBADF, ENOENT), never ENOTTY.
 */
TEST_F(num, published_numbers)
{
	struct pmemflush_flush f, *f0;
	struct pmemflush_unregister u;
	struct pmemflush_register r;
	struct pmemflush_query q;

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.fd = self->target;
	f.length = 4096;
	f.region_id = ~0U;
	ASSERT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &f));
	EXPECT_EQ(self->q.region_id, f.region_id);

	f0 = (struct pmemflush_flush *)(self->page + 4096 -
					PMEMFLUSH_FLUSH_SIZE_VER0);
	memset(f0, 0, PMEMFLUSH_FLUSH_SIZE_VER0);
	f0->size = PMEMFLUSH_FLUSH_SIZE_VER0;
	f0->fd = self->target;
	f0->length = 4096;
	f0->region_id = ~0U;
	ASSERT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f0));
	EXPECT_EQ(self->q.region_id, f0->region_id);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.fd = self->target;
	ASSERT_EQ(0, ioctl(self->dev, PMEMFLUSH_REGISTER, &r));
	ASSERT_LT(0, r.id);
	EXPECT_EQ(0, r.offset);

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.flags = PMEMFLUSH_BY_ID;
	f.id = r.id;
	f.length = 4096;
	f.region_id = ~0U;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH, &f));
	EXPECT_EQ(self->q.region_id, f.region_id);
	f0->flags = PMEMFLUSH_BY_ID;
	f0->id = r.id;
	f0->region_id = ~0U;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f0));
	EXPECT_EQ(self->q.region_id, f0->region_id);
	memset(&q, 0, sizeof(q));
	q.size = sizeof(q);
	q.flags = PMEMFLUSH_BY_ID;
	q.id = r.id;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(self->q.region_id, q.region_id);
	EXPECT_EQ(self->q.target_kind, q.target_kind);
	EXPECT_EQ(self->q.target_size, q.target_size);

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.id = r.id;
	EXPECT_EQ(0, ioctl(self->dev, PMEMFLUSH_UNREGISTER, &u));
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_UNREGISTER, &u));
	EXPECT_EQ(ENOENT, errno);
	f.id = r.id;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &f));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f0));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(ENOENT, errno);

	/* no such fd: each command's own answer */
	f.flags = 0;
	f.fd = -1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH, &f));
	EXPECT_EQ(EBADF, errno);
	f0->flags = 0;
	f0->fd = -1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_FLUSH_VER0, f0));
	EXPECT_EQ(EBADF, errno);
	q.flags = 0;
	q.fd = -1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_QUERY, &q));
	EXPECT_EQ(EBADF, errno);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.fd = -1;
	EXPECT_EQ(-1, ioctl(self->dev, PMEMFLUSH_REGISTER, &r));
	EXPECT_EQ(EBADF, errno);
}

static int is_published(unsigned long cmd)
{
	return cmd == (unsigned long)PMEMFLUSH_FLUSH ||
	       cmd == (unsigned long)PMEMFLUSH_FLUSH_VER0 ||
	       cmd == (unsigned long)PMEMFLUSH_QUERY ||
	       cmd == (unsigned long)PMEMFLUSH_REGISTER ||
	       cmd == (unsigned long)PMEMFLUSH_UNREGISTER;
}

/*
 * A struct that the command @nr would answer with its own errno (EBADF:
 * fd -1; UNREGISTER: ENOENT, id 0), at the start of @buf; the size field
 * is the struct's, whatever the number says.
 */
static void cmd_struct(char *buf, unsigned int nr)
{
	static const __u32 size[4] = {
		sizeof(struct pmemflush_flush), sizeof(struct pmemflush_query),
		sizeof(struct pmemflush_register),
		sizeof(struct pmemflush_unregister),
	};
	__u32 w[3] = { nr < 4 ? size[nr] : 48, 0, nr == 3 ? 0 : ~0U };

	memcpy(buf, w, sizeof(w));
}

struct numstat {
	unsigned long calls, wrong;
	int logged;
};

static void try_number(struct __test_metadata *_metadata, int dev, char *buf,
		       unsigned long cmd, struct numstat *st)
{
	int ret, err;

	cmd_struct(buf, _IOC_NR(cmd));
	ret = ioctl(dev, cmd, buf);
	err = errno;
	st->calls++;
	if (ret == -1 && err == ENOTTY)
		return;
	st->wrong++;
	if (st->logged++ < 8)
		TH_LOG("cmd 0x%08lx (dir %lu type 0x%02lx nr %lu size %lu): %s, not ENOTTY",
		       cmd, (unsigned long)_IOC_DIR(cmd),
		       (unsigned long)_IOC_TYPE(cmd), (unsigned long)_IOC_NR(cmd),
		       (unsigned long)_IOC_SIZE(cmd),
		       ret ? strerror(err) : "success");
}

/*
 * Every other number is ENOTTY: for each command, every direction (none,
 * read, write, both) with every one of the 2^14 sizes (the published
 * numbers excepted); unknown command numbers with a sample of directions
 * and sizes; and the published numbers' nr and size with another type.
 * The module used to match commands without their size bits.
 */
TEST_F_TIMEOUT(num, only_published_numbers, 900)
{
	static const unsigned int sizes[] = {
		0, 1, 4, 8, 15, 16, 17, 39, 40, 41, 47, 48, 49, 64, 4095, 4096,
		4097, 8192, (1 << _IOC_SIZEBITS) - 1,
	};
	/* types the VFS answers itself (fs/ioctl.c), and ours */
	static const unsigned int vfs_types[] = {
		0x00, 0x15, 'T', 'X', 'f', 0x94, PMEMFLUSH_TYPE,
	};
	struct numstat per_nr[4], unknown = { 0 }, types = { 0 };
	unsigned int nr, dir, size, type, i, j;
	struct timespec t0, t1;
	unsigned long cmd;
	char *buf = self->page;
	double ms;

	memset(per_nr, 0, sizeof(per_nr));
	memset(buf, 0, 4096);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (nr = 0; nr <= PMEMFLUSH_CMD_UNREGISTER; nr++)
		for (dir = 0; dir < 4; dir++)
			for (size = 0; size < 1U << _IOC_SIZEBITS; size++) {
				cmd = _IOC(dir, PMEMFLUSH_TYPE, nr, size);
				if (!is_published(cmd))
					try_number(_metadata, self->dev, buf,
						   cmd, &per_nr[nr]);
			}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;

	for (nr = PMEMFLUSH_CMD_UNREGISTER + 1; nr < 256; nr++)
		for (dir = 0; dir < 4; dir++)
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				try_number(_metadata, self->dev, buf,
					   _IOC(dir, PMEMFLUSH_TYPE, nr, sizes[i]),
					   &unknown);
	for (type = 0; type < 256; type++) {
		for (j = 0; j < sizeof(vfs_types) / sizeof(vfs_types[0]); j++)
			if (type == vfs_types[j])
				break;
		if (j < sizeof(vfs_types) / sizeof(vfs_types[0]))
			continue;
		for (nr = 0; nr <= PMEMFLUSH_CMD_UNREGISTER; nr++)
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
				try_number(_metadata, self->dev, buf,
					   _IOC(_IOC_READ | _IOC_WRITE, type,
						nr, sizes[i]),
					   &types);
	}

	TH_LOG("%lu numbers of FLUSH, QUERY, REGISTER, UNREGISTER in %.0f ms (%.1f us each)",
	       per_nr[0].calls + per_nr[1].calls + per_nr[2].calls +
	       per_nr[3].calls, ms,
	       ms * 1e3 / (per_nr[0].calls + per_nr[1].calls +
			   per_nr[2].calls + per_nr[3].calls));
	for (nr = 0; nr <= PMEMFLUSH_CMD_UNREGISTER; nr++) {
		TH_LOG("nr %u: %lu numbers, %lu not ENOTTY", nr,
		       per_nr[nr].calls, per_nr[nr].wrong);
		/* 4 directions x 2^14 sizes, less the published ones */
		EXPECT_EQ((4UL << _IOC_SIZEBITS) - (nr ? 1 : 2),
			  per_nr[nr].calls);
		EXPECT_EQ(0, per_nr[nr].wrong);
	}
	TH_LOG("unknown nr: %lu numbers, %lu not ENOTTY; other types: %lu, %lu not ENOTTY",
	       unknown.calls, unknown.wrong, types.calls, types.wrong);
	EXPECT_EQ(0, unknown.wrong);
	EXPECT_EQ(0, types.wrong);
	/* nothing was registered on the way */
	EXPECT_EQ(-1, pmf_unregister(self->dev, 1));
	EXPECT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
