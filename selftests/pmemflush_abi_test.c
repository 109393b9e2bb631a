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

#include "kselftest_harness.h"
#include "pmemflush_test.h"

#define LAYOUT(type, field, off) \
	EXPECT_EQ(off, offsetof(struct type, field)) TH_LOG(#type "." #field)

TEST(layout)
{
	EXPECT_EQ(48, sizeof(struct pmemflush_flush));
	EXPECT_EQ(8, __alignof__(struct pmemflush_flush));
	LAYOUT(pmemflush_flush, size, 0);
	LAYOUT(pmemflush_flush, flags, 4);
	LAYOUT(pmemflush_flush, fd, 8);
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

TEST_HARNESS_MAIN
