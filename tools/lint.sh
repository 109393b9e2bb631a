#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make lint: checkpatch --strict, W=1 and sparse builds for both kernels,
# cppcheck on the userspace C. Prints TAP; any finding fails its step.
set -uo pipefail
cd "$(dirname "$0")/.."

b=$PWD/build
kver61=$(tools/kver.sh 6.1)
ksrc=$b/ksrc-$kver61/src
steps=()
n=0

step() {	# description command...
	local desc=$1 log
	shift
	n=$((n + 1))
	log=$("$@" 2>&1)
	local rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n $desc"
	else
		echo "not ok $n $desc"
		echo "$log" | tail -n 40 | sed 's/^/# /'
	fi
}

checkpatch() {
	"$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet \
		-f kmod/*.[ch] include/linux/*.h include/uapi/linux/*.h \
		selftests/test_pmemflush.c
}

# a kernel build whose output has no warning from our files
kbuild_clean() {	# series extra-make-args...
	local series=$1 out
	shift
	out=$(make --no-print-directory module KSERIES="$series" \
		KBUILD_EXTRA="$*" 2>&1) || { echo "$out"; return 1; }
	! echo "$out" | grep -E 'warning|error' | grep -v 'Skipping BTF'
}

rebuild() {	# series extra-make-args...: force every object to be rebuilt
	rm -rf "$b/mod-$(tools/kver.sh "$1")"
	kbuild_clean "$@"
}

cppcheck_user() {
	cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
		--enable=warning,style,performance,portability \
		--suppress=missingIncludeSystem -Iinclude -Iinclude/uapi \
		$(ls ulib/*.c tools/vm/*.c tools/pmemflush/*.c tools/repro/*.c 2>/dev/null)
}

# the prototype kmod/devdax.c declares for a symbol of a private header
dax_private_proto() {
	local series kver src
	for series in 6.1 6.12; do
		kver=$(tools/kver.sh $series)
		src=$b/ksrc-$kver/src
		tools/extract-kernel-src.sh "$kver" "$b/ksrc-$kver" >/dev/null ||
			return 1
		grep -Fqx 'struct dax_device *inode_dax(struct inode *inode);' \
			"$src/drivers/dax/dax-private.h" ||
			{ echo "inode_dax() changed in $kver"; return 1; }
	done
	grep -Fqx 'struct dax_device *inode_dax(struct inode *inode);' kmod/devdax.c
}

# the kernel fixes written for upstream: checkpatch-clean (UNKNOWN_COMMIT_ID
# aside: without the kernel's git history it cannot look commit ids up),
# applying to the 6.1 and 6.12 sources, and the sanitizer kernel's copy
# the same file
kernel_patches() {
	local p series kver
	for p in kernel-patches/*.patch; do
		# (from /: in this checkout it takes the patch for a source file)
		(cd / && "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet \
			--ignore UNKNOWN_COMMIT_ID "$OLDPWD/$p") || return 1
		for series in 6.1 6.12; do
			kver=$(tools/kver.sh $series)
			patch -s -p1 --dry-run -d "$b/ksrc-$kver/src" <"$p" ||
				{ echo "$p does not apply to $kver"; return 1; }
		done
		ls tools/vm/debug-patches/*.patch | while read -r d; do
			cmp -s "$p" "$d" && echo same
		done | grep -q same ||
			{ echo "$p: no identical copy in tools/vm/debug-patches"; return 1; }
	done
}

echo "1..8"
step "checkpatch --strict" checkpatch
step "W=1 build, 6.1" rebuild 6.1 W=1
step "W=1 build, 6.12" rebuild 6.12 W=1
step "sparse (C=2), 6.1" kbuild_clean 6.1 C=2 W=1
step "sparse (C=2), 6.12" kbuild_clean 6.12 C=2 W=1
step "cppcheck on userspace C" cppcheck_user
step "inode_dax() as dax-private.h of 6.1 and 6.12 declares it" dax_private_proto
step "kernel-patches: checkpatch, apply to 6.1 and 6.12, carried by the debug kernel" kernel_patches
