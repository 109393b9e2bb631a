# SPDX-License-Identifier: GPL-2.0
#
# make            build the module (for KVER) and the userspace parts
# make demo       boot a VM on emulated NVDIMMs and show what pmemflush sees
# make check      lint, host tests, then the VM selftests on Debian's 6.1 and 6.12
# make lint       checkpatch --strict, W=1 build, sparse, cppcheck
#
# KVER picks the Debian kernel to build for (default: the 6.1 kernel the VM
# boots); KDIR overrides the build tree, e.g. KDIR=/lib/modules/$(uname -r)/build
# on a machine with real pmem.

KSERIES	?= 6.1
KVER	?= $(shell tools/kver.sh $(KSERIES))
KDIR	?= /lib/modules/$(KVER)/build
B	:= $(CURDIR)/build
MODB	:= $(B)/mod-$(KVER)
# kselftest headers and checkpatch come from Debian's linux-source-6.1
KVER61	= $(shell tools/kver.sh 6.1)
KSRC61	= $(B)/ksrc-$(KVER61)/src

CC	?= cc
CFLAGS	?= -O2 -g
WFLAGS	:= -Wall -Wextra -Werror
UCFLAGS	= $(CFLAGS) $(WFLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude/uapi -Iinclude

# *_test run on every VM stack; NAME.STACK only on that stack
SELFTESTS := pmemflush_dev_test pmemflush_flush_test \
	     pmemflush_targets.qemu pmemflush_targets.nfit_test
SELFTEST_BINS = $(SELFTESTS:%=$(B)/selftests/%)
SELFTEST_CC = $(CC) $(UCFLAGS) -isystem $(KSRC61)/tools/testing/selftests

.PHONY: all deps module userspace selftests ksrc lint check demo clean install

all: module userspace

deps:
	@tools/deps.sh

# Kbuild writes objects next to the sources, so each kernel gets a shadow
# tree of links and the same checkout builds for 6.1 and 6.12 side by side.
module:
	@mkdir -p $(MODB)/kmod
	@ln -sfn $(CURDIR)/Kbuild $(MODB)/Kbuild
	@ln -sfn $(CURDIR)/include $(MODB)/include
	@for f in kmod/*.[ch]; do ln -sfn $(CURDIR)/$$f $(MODB)/$$f; done
	$(MAKE) -C $(KDIR) M=$(MODB) $(KBUILD_EXTRA) modules

userspace: selftests $(B)/fsync-count.so

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
	@rc=0; tools/vm/run.sh $(KVER61) qemu $(B)/vm-demo tools/vm/demo.sh \
		PMF_MODULE=$(B)/mod-$(KVER61)/pmemflush.ko || rc=$$?; \
		cat $(B)/vm-demo/job.log; exit $$rc

install: module
	$(MAKE) -C $(KDIR) M=$(MODB) modules_install

clean:
	rm -rf $(B)
