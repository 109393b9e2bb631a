# SPDX-License-Identifier: GPL-2.0
#
# make            build the module (for KVER) and the userspace parts
# make demo       boot VMs on emulated NVDIMMs and CXL, show what pmemflush sees
# make check      lint, host tests, then the VM selftests on Debian's 6.1 and 6.12
# make lint       checkpatch --strict, W=1 build, sparse, cppcheck
# make bench      deep flush latency against PMDK, sysfs and msync (VM boots),
#                 and memcpy/memset_fn throughput against PMDK (host)
# make deb        Debian packages (DKMS module, library, pmemflush command)
#
# KVER picks the Debian kernel to build for (default: the 6.1 kernel the VM
# boots); KDIR overrides the build tree, e.g. KDIR=/lib/modules/$(uname -r)/build
# on a machine with real pmem.

KSERIES	?= 6.1
KVER	?= $(shell tools/kver.sh $(KSERIES))
KDIR	?= /lib/modules/$(KVER)/build
B	:= $(CURDIR)/build
MODB	= $(B)/mod-$(KVER)
# kselftest headers and checkpatch come from Debian's linux-source-6.1
KVER61	= $(shell tools/kver.sh 6.1)
KSRC61	= $(B)/ksrc-$(KVER61)/src

CC	?= cc
CFLAGS	?= -O2 -g
WFLAGS	:= -Wall -Wextra -Werror
UCFLAGS	= $(CFLAGS) $(WFLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude/uapi -Iinclude

# *_test run on every NFIT VM stack (qemu, nfit_test); NAME.STACK only on that stack
SELFTESTS := pmemflush_dev_test pmemflush_flush_test pmemflush_kapi_test \
	     pmemflush_targets.qemu pmemflush_targets.nfit_test \
	     pmemflush_register.qemu pmemflush_register.nfit_test \
	     libpmemflush_vm.qemu libpmemflush_vm.nfit_test pmemflush_cxl.cxl \
	     pmemflush_cmd.qemu pmemflush_cmd.nfit_test pmemflush_cmd.cxl \
	     pmem2_patterns.qemu pmemflush_soak.qemu pmemflush_fuzz.qemu
SELFTEST_BINS = $(SELFTESTS:%=$(B)/selftests/%)
SELFTEST_CC = $(CC) $(UCFLAGS) -isystem $(KSRC61)/tools/testing/selftests
# the ioctl tests again as 32-bit programs (compat_ioctl): NAME_m32_test from
# NAME_test.c, pmemflush_register_m32.STACK from pmemflush_register.c
SELFTESTS += pmemflush_abi_test pmemflush_abi_m32_test pmemflush_dev_m32_test \
	     pmemflush_flush_m32_test pmemflush_register_m32.qemu
# linked against Debian's 32-bit runtime libraries by file name (no
# -dev:i386 packages: tools/deps.sh); the headers are the native ones. The
# kernel's <asm/*.h> serve both ABIs; gcc-multilib's one file, the link
# /usr/include/asm, would find them, but every Debian cross compiler
# conflicts with that package (and the ppc64le one is needed), so the link
# lives in the build tree
M32_CC = $(SELFTEST_CC) -m32 -idirafter $(B)/m32-include
M32_KMOD = -l:libkmod.so.2
M32_URING = -l:liburing.so.2

$(B)/m32-include/asm:
	@mkdir -p $(dir $@)
	ln -sfn /usr/include/$(shell $(CC) -print-multiarch)/asm $@
# systematic fault injection (fail-nth), for the sanitizer kernel
SELFTESTS += pmemflush_fault-injection.qemu
# device replacement and renumbering; the caller's context (Landlock,
# signals, foreign disks)
SELFTESTS += pmemflush_identity.qemu pmemflush_context.qemu
# kernel bugs the suite found, on the sanitizer kernel that carries the fixes
SELFTESTS += pmemflush_kernel_fixes.qemu
# FLUSH as an io_uring command (liburing), and from a 32-bit program
SELFTESTS += pmemflush_uring_test pmemflush_uring_m32_test

.PHONY: all deps module userspace selftests ksrc lint check demo clean install \
	lib hosttests install-module install-lib compat benchprogs bench deb check-packages \
	cmd install-tools

all: module userspace

deps:
	@tools/deps.sh

# Kbuild writes objects next to the sources, so each kernel gets a shadow
# tree of links and the same checkout builds for 6.1 and 6.12 side by side.
module:
	@mkdir -p $(MODB)/kmod $(MODB)/selftests
	@ln -sfn $(CURDIR)/Kbuild $(MODB)/Kbuild
	@ln -sfn $(CURDIR)/include $(MODB)/include
	@for f in kmod/*.[ch] selftests/test_pmemflush.c; do \
		ln -sfn $(CURDIR)/$$f $(MODB)/$$f; done
	$(MAKE) -C $(KDIR) M=$(MODB) $(KBUILD_EXTRA) modules

userspace: selftests $(B)/fsync-count.so lib hosttests compat patterns \
	benchprogs cmd

ksrc:
	@tools/extract-kernel-src.sh $(KVER61) $(B)/ksrc-$(KVER61)

selftests: ksrc $(SELFTEST_BINS)

$(B)/selftests/%: selftests/%.c selftests/*.h include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -o $@ $< -lkmod -lpthread

$(B)/selftests/pmemflush_targets.%: selftests/pmemflush_targets.c selftests/*.h \
		include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lkmod

$(B)/selftests/pmemflush_register.%: selftests/pmemflush_register.c selftests/*.h \
		include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lkmod \
		-lpthread

$(B)/selftests/pmemflush_uring_test: selftests/pmemflush_uring_test.c \
		selftests/*.h include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -o $@ $< -lkmod -lpthread -luring

$(B)/selftests/pmemflush_uring_m32_test: selftests/pmemflush_uring_test.c \
		selftests/*.h include/uapi/linux/pmemflush.h | $(B)/m32-include/asm
	@mkdir -p $(dir $@)
	$(M32_CC) -o $@ $< $(M32_KMOD) -lpthread $(M32_URING)

$(B)/selftests/%_m32_test: selftests/%_test.c selftests/*.h \
		include/uapi/linux/pmemflush.h | $(B)/m32-include/asm
	@mkdir -p $(dir $@)
	$(M32_CC) -o $@ $< $(M32_KMOD) -lpthread

$(B)/selftests/pmemflush_register_m32.%: selftests/pmemflush_register.c \
		selftests/*.h include/uapi/linux/pmemflush.h | $(B)/m32-include/asm
	@mkdir -p $(dir $@)
	$(M32_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< \
		$(M32_KMOD) -lpthread

$(B)/selftests/pmemflush_fault-injection.%: selftests/pmemflush_fault.c \
		selftests/*.h include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lkmod

$(B)/selftests/pmemflush_kernel_fixes.%: selftests/pmemflush_kernel_fixes.c \
		selftests/*.h tools/repro/devdax-evict-uaf.c
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -o $@ $< -lkmod

$(B)/selftests/pmemflush_identity.%: selftests/pmemflush_identity.c \
		selftests/*.h include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lkmod \
		-lpthread -luring

$(B)/selftests/pmemflush_context.%: selftests/pmemflush_context.c \
		selftests/*.h include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lkmod \
		-lpthread

$(B)/selftests/pmemflush_soak.%: selftests/pmemflush_soak.c selftests/*.h \
		include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -o $@ $< -lkmod -lpthread

$(B)/selftests/pmemflush_fuzz.%: selftests/pmemflush_fuzz.c selftests/*.h \
		include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< -lpthread -luring

# linked against the library in build/, found there at run time
LINK_PMF = -L$(B)/ulib -Wl,-rpath,$(B)/ulib -lpmemflush

$(B)/selftests/libpmemflush_vm.%: selftests/libpmemflush_vm.c selftests/*.h \
		include/libpmemflush.h include/libpmemflush/uring.h lib
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -DPMF_STACK_$(shell echo $* | tr a-z A-Z) -o $@ $< \
		$(LINK_PMF) -lkmod -luring

# the pmemflush command's test, a script: one copy per stack
$(B)/selftests/pmemflush_cmd.%: selftests/pmemflush_cmd.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

$(B)/selftests/pmemflush_cxl.%: selftests/pmemflush_cxl.c selftests/*.h \
		include/uapi/linux/pmemflush.h include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(SELFTEST_CC) -o $@ $< $(LINK_PMF) -lkmod -luring

# one libpmem2 program built against PMDK and against libpmemflush
COMPAT_BINS = $(B)/compat/pmem2_compat-pmdk $(B)/compat/pmem2_compat-pmemflush
compat: $(COMPAT_BINS)

$(B)/compat/pmem2_compat-pmdk: selftests/pmem2_compat.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -DCOMPAT_PMDK -o $@ $< -lpmem2

$(B)/compat/pmem2_compat-pmemflush: selftests/pmem2_compat.c include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LINK_PMF)

# libpmem2 usage patterns, each built against PMDK and against libpmemflush;
# selftests/pmem2_patterns.sh compares the two builds in the VM
PATTERNS	:= log ringbuf redo usc multifile
PATTERN_BINS	= $(PATTERNS:%=$(B)/patterns/%-pmdk) \
		  $(PATTERNS:%=$(B)/patterns/%-pmemflush) $(B)/patterns/medium
.PHONY: patterns
patterns: $(PATTERN_BINS)

$(B)/patterns/%-pmdk: selftests/patterns/%.c selftests/patterns/pat.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -DPAT_PMDK -o $@ $< -lpmem2 -lpthread

$(B)/patterns/%-pmemflush: selftests/patterns/%.c selftests/patterns/pat.h \
			   include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LINK_PMF) -lpthread

# zeroes and copies out the targets for the script below
$(B)/patterns/medium: selftests/patterns/medium.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $<

# the patterns' VM test, a script: one copy per stack
$(B)/selftests/pmem2_patterns.%: selftests/pmem2_patterns.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

benchprogs: $(B)/bench/deepflush_bench $(B)/bench/deepflush_bench.pmdk \
	$(B)/demo/pmemflush_demo $(B)/bench/memops_bench \
	$(B)/bench/memops_bench.pmdk $(B)/bench/uring_bench

$(B)/demo/pmemflush_demo: tools/demo/pmemflush_demo.c include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LINK_PMF)

$(B)/bench/deepflush_bench: bench/deepflush_bench.c bench/bench.h include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LINK_PMF) -lpthread

# FLUSH through io_uring against the ioctl, raw (liburing, no library)
$(B)/bench/uring_bench: bench/uring_bench.c bench/bench.h include/uapi/linux/pmemflush.h \
		include/libpmemflush/uring.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< -luring

$(B)/bench/deepflush_bench.pmdk: bench/deepflush_bench.c bench/bench.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -DBENCH_PMDK -o $@ $< -lpmem2 -lpthread

bench: deps
	@$(MAKE) --no-print-directory all KSERIES=6.1
	@tools/bench.sh
	@tools/bench-mem.sh

# pmem2 memcpy/memset throughput against PMDK, on the host's instructions
$(B)/bench/memops_bench: bench/memops_bench.c include/libpmemflush.h lib
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(LINK_PMF)

$(B)/bench/memops_bench.pmdk: bench/memops_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -DBENCH_PMDK -o $@ $< -lpmem2

.PHONY: bench-mem
bench-mem: $(B)/bench/memops_bench $(B)/bench/memops_bench.pmdk
	@tools/bench-mem.sh

$(B)/fsync-count.so: tools/vm/fsync-count.c
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -shared -fPIC -o $@ $< -ldl -lpthread

lint: deps ksrc
	@tools/lint.sh

check: deps
	@$(MAKE) --no-print-directory all KSERIES=6.1
	@tools/check.sh

demo: deps
	@$(MAKE) --no-print-directory all KSERIES=6.1
	@rc=0; for stack in qemu cxl; do \
		tools/vm/run.sh $(KVER61) $$stack $(B)/vm-demo-$$stack tools/vm/demo.sh \
			PMF_MODULE=$(B)/mod-$(KVER61)/pmemflush.ko \
			PMF_DEMO=$(B)/demo/pmemflush_demo || rc=$$?; \
		cat $(B)/vm-demo-$$stack/job.log; \
	done; exit $$rc

install: install-module install-lib install-tools

install-module: module
	$(MAKE) -C $(KDIR) M=$(MODB) modules_install

# libpmemflush: one object list, built twice: PIC with hidden visibility for
# libpmemflush.so.1, and again with ASan/UBSan and the internal test hooks
# (PMF_TEST_HOOKS) into the archive the host tests link whole.
LIB_VERSION	:= 1.3
LIB_SONAME	:= libpmemflush.so.1
LIB_SRCS	:= $(wildcard ulib/*.c)
LIB_HDRS	:= $(wildcard ulib/*.h) include/libpmemflush.h \
		   include/libpmemflush/uring.h \
		   include/uapi/linux/pmemflush.h
LIB_OBJS	= $(LIB_SRCS:ulib/%.c=$(B)/ulib/%.o)
LIB_CFLAGS	= $(UCFLAGS) -fPIC -fvisibility=hidden
LIB_LDFLAGS	= -shared -Wl,-soname,$(LIB_SONAME) -Wl,-z,defs \
		  -Wl,--version-script=ulib/libpmemflush.map

lib: $(B)/ulib/$(LIB_SONAME) $(B)/ulib/libpmemflush.so

$(B)/ulib/%.o: ulib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(B)/ulib/$(LIB_SONAME): $(LIB_OBJS) ulib/libpmemflush.map
	$(CC) $(LIB_CFLAGS) $(LDFLAGS) $(LIB_LDFLAGS) -o $@ $(LIB_OBJS) -lpthread

$(B)/ulib/libpmemflush.so: $(B)/ulib/$(LIB_SONAME)
	ln -sfn $(LIB_SONAME) $@

# pmemflush(1): the ioctls of include/uapi directly, and json-c
# (libjson-c-dev) for the -j output, as ndctl
PKG_CONFIG	?= pkg-config
CMD_SRCS	:= $(wildcard tools/pmemflush/*.c)
JSONC_CFLAGS	= $(shell $(PKG_CONFIG) --cflags json-c)
JSONC_LIBS	= $(shell $(PKG_CONFIG) --libs json-c)

cmd: $(B)/cmd/pmemflush

$(B)/cmd/pmemflush: $(CMD_SRCS) $(wildcard tools/pmemflush/*.h) \
		include/uapi/linux/pmemflush.h
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(JSONC_CFLAGS) \
		-DPMEMFLUSH_VERSION='"$(LIB_VERSION)"' $(LDFLAGS) \
		-o $@ $(CMD_SRCS) $(JSONC_LIBS) -luring

# Host tests: kselftest harness, TAP, no VM, library and tests sanitized.
HOSTTEST_SAN	?= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
HOSTTEST_NAMES	:= $(patsubst ulib/tests/%.c,%,$(wildcard ulib/tests/*.c))
HOSTTEST_BINS	= $(HOSTTEST_NAMES:%=$(B)/hosttests/%_test)
HOSTTEST_OBJS	= $(LIB_SRCS:ulib/%.c=$(B)/hosttests/lib/%.o)
HOSTTEST_CC	= $(SELFTEST_CC) -fvisibility=hidden $(HOSTTEST_SAN) -Iulib \
		  -DPMF_TEST_HOOKS

hosttests: ksrc $(HOSTTEST_BINS)
hosttest-bins: $(HOSTTEST_BINS)

# The library and its host tests for 64-bit POWER (little-endian), built
# with Debian's cross compiler in build/ppc64le and run by qemu-ppc64le
# (tools/ppc64-hosttests.sh): UBSan only, as ASan's shadow memory does not
# fit under the user-mode emulator
PPC64_CC	?= powerpc64le-linux-gnu-gcc
PPC64_B		= $(B)/ppc64le
.PHONY: hosttests-ppc64le
hosttests-ppc64le: ksrc
	$(MAKE) --no-print-directory B=$(PPC64_B) CC=$(PPC64_CC) \
		KSRC61=$(KSRC61) \
		HOSTTEST_SAN="-fsanitize=undefined -fno-sanitize-recover=all" \
		lib hosttest-bins

$(B)/hosttests/lib/%.o: ulib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(HOSTTEST_CC) -c -o $@ $<

$(B)/hosttests/libpmemflush-san.a: $(HOSTTEST_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/hosttests/%_test: ulib/tests/%.c ulib/tests/*.h $(LIB_HDRS) \
		$(B)/hosttests/libpmemflush-san.a
	$(HOSTTEST_CC) -o $@ $< -Wl,--whole-archive \
		$(B)/hosttests/libpmemflush-san.a -Wl,--no-whole-archive -lpthread

PREFIX		?= /usr/local
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
BINDIR		?= $(PREFIX)/bin
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig

# The ioctl header goes to INCLUDEDIR/pmemflush/linux, not INCLUDEDIR/linux,
# which is linux-libc-dev's (the kernel's own uapi headers): pkg-config's
# Cflags add INCLUDEDIR/pmemflush, so <linux/pmemflush.h> still resolves.
# pmem2_deep_flush(3) is libpmem2-dev's page: ours is pmem2_deep_flush.3pmemflush.
install-lib: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/pmemflush/linux $(DESTDIR)$(MANDIR)/man3 \
		$(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(B)/ulib/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/
	ln -sfn $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libpmemflush.so
	install -m 0644 include/libpmemflush.h $(DESTDIR)$(INCLUDEDIR)/
	install -d $(DESTDIR)$(INCLUDEDIR)/libpmemflush
	install -m 0644 include/libpmemflush/uring.h \
		$(DESTDIR)$(INCLUDEDIR)/libpmemflush/
	install -m 0644 include/uapi/linux/pmemflush.h \
		$(DESTDIR)$(INCLUDEDIR)/pmemflush/linux/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(LIB_VERSION)|' ulib/libpmemflush.pc.in \
		>$(DESTDIR)$(PKGCONFIGDIR)/libpmemflush.pc
	sed 's/^\(\.TH [^ ]* \)3 /\13pmemflush /' man/pmem2_deep_flush.3 \
		>$(DESTDIR)$(MANDIR)/man3/pmem2_deep_flush.3pmemflush
	install -m 0644 man/libpmemflush.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 man/pmemflush_deep_flush_prepare.3 $(DESTDIR)$(MANDIR)/man3/
	for f in pmemflush_flush_cmd_result pmemflush_flush_cmd_run \
		 pmemflush_prep_flush pmemflush_prep_flush_cmd; do \
		echo '.so man3/pmemflush_deep_flush_prepare.3' \
			>$(DESTDIR)$(MANDIR)/man3/$$f.3; \
	done

install-tools: cmd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(B)/cmd/pmemflush $(DESTDIR)$(BINDIR)/
	install -m 0644 man/pmemflush.1 $(DESTDIR)$(MANDIR)/man1/

# Debian packages (pmemflush-dkms, libpmemflush1, libpmemflush-dev,
# pmemflush-tools) and lintian's verdict, built from a copy of the tree in
# build/deb; tools/check-packages.sh installs, uses and purges them.
deb: deps
	@tools/deb.sh $(B)/deb

# the package test alone (make check runs it too); root, for apt
check-packages: deps
	@tools/pkg/check-packages.sh $(B) $(B)/results-packages
	@tools/tap-summary.sh $(B)/results-packages/*.tap

clean:
	rm -rf $(B)
