// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CPU-flush dispatch, decided once per process. x86-64: CLWB > CLFLUSHOPT >
 * CLFLUSH by CPUID, PMEM_NO_CLWB=1 and PMEM_NO_CLFLUSHOPT=1 honoured.
 * 64-bit POWER: dcbstps and phwsync on Power ISA 3.1, dcbf and hwsync
 * before it, by AT_HWCAP2.
 */
#include "pmf_test.h"

#if defined(__x86_64__)

static const char *env_no_clwb, *env_no_clflushopt;

static char *fake_env(const char *name)
{
	if (!strcmp(name, "PMEM_NO_CLWB"))
		return (char *)env_no_clwb;
	if (!strcmp(name, "PMEM_NO_CLFLUSHOPT"))
		return (char *)env_no_clflushopt;
	return NULL;
}

/* every CPUID combination against every override; "0" and "yes" are off */
TEST(select_table)
{
	static const char *vals[] = { NULL, "1", "0", "yes" };
	unsigned int bits, w, o;

	for (bits = 0; bits < 8; bits++)
		for (w = 0; w < 4; w++)
			for (o = 0; o < 4; o++) {
				struct pmf_cpuid id = {
					.clflush = bits & 1,
					.clflushopt = bits & 2,
					.clwb = bits & 4,
				};
				bool no_clwb = w == 1, no_opt = o == 1;
				enum pmf_cpu_flush want = PMF_CPU_CLFLUSH;

				if (id.clflushopt && !no_opt)
					want = PMF_CPU_CLFLUSHOPT;
				if (id.clwb && !no_clwb)
					want = PMF_CPU_CLWB;
				env_no_clwb = vals[w];
				env_no_clflushopt = vals[o];
				ASSERT_EQ(want, pmf_cpu_select(&id, fake_env))
					TH_LOG("cpuid %u clwb=%s opt=%s", bits,
					       vals[w], vals[o]);
			}
}

TEST(select_named_cases)
{
	struct pmf_cpuid all = { true, true, true };

	env_no_clwb = env_no_clflushopt = NULL;
	ASSERT_EQ(PMF_CPU_CLWB, pmf_cpu_select(&all, fake_env));
	env_no_clwb = "1";
	ASSERT_EQ(PMF_CPU_CLFLUSHOPT, pmf_cpu_select(&all, fake_env));
	env_no_clflushopt = "1";
	ASSERT_EQ(PMF_CPU_CLFLUSH, pmf_cpu_select(&all, fake_env));
	env_no_clwb = NULL;
	ASSERT_EQ(PMF_CPU_CLWB, pmf_cpu_select(&all, fake_env));
	ASSERT_STREQ("clwb", pmf_cpu_flush_name(PMF_CPU_CLWB));
	ASSERT_STREQ("clflushopt", pmf_cpu_flush_name(PMF_CPU_CLFLUSHOPT));
	ASSERT_STREQ("clflush", pmf_cpu_flush_name(PMF_CPU_CLFLUSH));
}

/* the one-time choice, through the real environment and an injected CPUID */
TEST(once_with_injected_cpuid_and_env)
{
	static const struct pmf_cpuid all = { true, true, true };

	pmf_test_cpuid = &all;
	setenv("PMEM_NO_CLWB", "1", 1);
	ASSERT_EQ(PMF_CPU_CLFLUSHOPT, pmf_cpu_flush_kind());
	/* decided once: later changes are not seen */
	unsetenv("PMEM_NO_CLWB");
	ASSERT_EQ(PMF_CPU_CLFLUSHOPT, pmf_cpu_flush_kind());
}

TEST(once_no_clflushopt_env)
{
	static const struct pmf_cpuid opt_only = { true, true, false };

	pmf_test_cpuid = &opt_only;
	setenv("PMEM_NO_CLFLUSHOPT", "1", 1);
	ASSERT_EQ(PMF_CPU_CLFLUSH, pmf_cpu_flush_kind());
}

/* CPUID as read agrees with what the kernel reports in /proc/cpuinfo */
TEST(real_cpuid_matches_cpuinfo)
{
	char line[8192];
	struct pmf_cpuid id;
	bool clwb = false, opt = false, clf = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		SKIP(return, "no /proc/cpuinfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			clwb = strstr(line, " clwb");
			opt = strstr(line, " clflushopt");
			clf = strstr(line, " clflush ") || strstr(line, " clflush\n");
			break;
		}
	fclose(f);
	pmf_cpuid_read(&id);
	ASSERT_EQ(clwb, id.clwb);
	ASSERT_EQ(opt, id.clflushopt);
	ASSERT_EQ(clf, id.clflush);
	TH_LOG("host flushes with %s",
	       pmf_cpu_flush_name(pmf_cpu_select(&id, getenv)));
}

#else /* !__x86_64__ */
#include <sys/auxv.h>

static char *env_all_off(const char *name)
{
	(void)name;
	return (char *)"1";
}

/* the ISA decides; libpmem2's x86 variables mean nothing here */
TEST(select_table)
{
	struct pmf_cpuid old = { .arch_3_1 = false }, p10 = { .arch_3_1 = true };

	ASSERT_EQ(PMF_CPU_DCBF, pmf_cpu_select(&old, getenv));
	ASSERT_EQ(PMF_CPU_DCBSTPS, pmf_cpu_select(&p10, getenv));
	ASSERT_EQ(PMF_CPU_DCBF, pmf_cpu_select(&old, env_all_off));
	ASSERT_EQ(PMF_CPU_DCBSTPS, pmf_cpu_select(&p10, env_all_off));
	ASSERT_STREQ("dcbf", pmf_cpu_flush_name(PMF_CPU_DCBF));
	ASSERT_STREQ("dcbstps", pmf_cpu_flush_name(PMF_CPU_DCBSTPS));
}

/* each kind's functions: its own write-back, and its own fence as drain */
TEST(kinds_have_their_functions)
{
	struct pmf_cpu_fns a, b;

	pmf_cpu_fns_of(PMF_CPU_DCBF, &a);
	pmf_cpu_fns_of(PMF_CPU_DCBSTPS, &b);
	ASSERT_TRUE(a.flush && a.persist && a.drain);
	ASSERT_TRUE(b.flush && b.persist && b.drain);
	ASSERT_TRUE(a.flush != b.flush);
	ASSERT_TRUE(a.persist != b.persist);
	ASSERT_TRUE(a.drain != b.drain);
}

/* the one-time choice with an injected ISA level */
TEST(once_with_injected_isa)
{
	static const struct pmf_cpuid old = { .arch_3_1 = false };
	struct pmf_cpu_fns want;

	pmf_test_cpuid = &old;
	ASSERT_EQ(PMF_CPU_DCBF, pmf_cpu_flush_kind());
	pmf_cpu_fns_of(PMF_CPU_DCBF, &want);
	ASSERT_TRUE(want.flush == pmf_cpu_flush_get());
	ASSERT_TRUE(want.persist == pmf_cpu_persist_get());
}

/*
 * The ISA level as read, against the CPU model the runner gave QEMU
 * (tools/ppc64-hosttests.sh sets PMF_TEST_PPC_CPU): POWER10 is ISA 3.1,
 * POWER8 and POWER9 are older.
 */
TEST(real_isa_matches_cpu_model)
{
	const char *cpu = getenv("PMF_TEST_PPC_CPU");
	struct pmf_cpuid id;

	if (!cpu)
		SKIP(return, "PMF_TEST_PPC_CPU not set: the CPU model is unknown");
	pmf_cpuid_read(&id);
	ASSERT_EQ(!strcmp(cpu, "power10"), id.arch_3_1)
		TH_LOG("%s: AT_HWCAP2 %#lx", cpu, getauxval(AT_HWCAP2));
	TH_LOG("%s flushes with %s", cpu,
	       pmf_cpu_flush_name(pmf_cpu_select(&id, getenv)));
}

/* PROT_EXEC alone may be execute-only, where a write-back would fault */
TEST(write_back_needs_read_or_write)
{
	ASSERT_TRUE(pmf_cpu_can_write_back(PMEM2_PROT_READ));
	ASSERT_TRUE(pmf_cpu_can_write_back(PMEM2_PROT_WRITE));
	ASSERT_TRUE(pmf_cpu_can_write_back(PMEM2_PROT_READ | PMEM2_PROT_EXEC));
	ASSERT_FALSE(pmf_cpu_can_write_back(PMEM2_PROT_EXEC));
	ASSERT_FALSE(pmf_cpu_can_write_back(PMEM2_PROT_NONE));
}
#endif /* __x86_64__ */

/* a CACHE_LINE map hands out the dispatcher's functions */
TEST(map_uses_dispatched_functions)
{
	struct pmem2_config *cfg;
	struct pmem2_source *src;
	struct pmem2_map *map;
	int fd = tmp_file(8192);

	ASSERT_LE(0, fd);
	fake_module(PMEMFLUSH_TARGET_FSDAX_FILE, PMEMFLUSH_PERSIST_MEMORY_CONTROLLER,
		    PMEMFLUSH_DAX_SYNC);
	ASSERT_EQ(0, pmem2_config_new(&cfg));
	ASSERT_EQ(0, pmem2_config_set_required_store_granularity(cfg,
						PMEM2_GRANULARITY_CACHE_LINE));
	ASSERT_EQ(0, pmem2_source_from_fd(&src, fd));
	ASSERT_EQ(0, pmem2_map_new(&map, cfg, src));
	ASSERT_EQ(PMEM2_GRANULARITY_CACHE_LINE,
		  pmem2_map_get_store_granularity(map));
	ASSERT_TRUE(pmf_cpu_flush_get() == pmem2_get_flush_fn(map));
	ASSERT_TRUE(pmf_cpu_persist_get() == pmem2_get_persist_fn(map));
	ASSERT_TRUE(pmf_cpu_drain == pmem2_get_drain_fn(map));
	memset(pmem2_map_get_address(map), 1, 8192);
	pmem2_get_persist_fn(map)(pmem2_map_get_address(map), 8192);
	ASSERT_EQ(0, pmem2_map_delete(&map));
	pmem2_source_delete(&src);
	pmem2_config_delete(&cfg);
	close(fd);
	PMF_LEAK_CHECK();
}

TEST_HARNESS_MAIN
